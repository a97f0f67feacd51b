"""Mock answers per provider package and module, named after the type tokens they answer.

``aws:ec2/vpc:Vpc`` is answered in ``aws/ec2.py``, ``docker:index/image:Image`` in ``docker/index.py``.
Every module here is imported when the mock cloud starts (``mockcloud.registry.load_all``).
"""
