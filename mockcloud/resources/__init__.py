"""Mock outputs per AWS area, one module each (ecr.py, elb.py, ecs.py, ...).

Every module here is imported when the mock cloud starts, so a new module only needs to exist:
register its makers with ``@outputs("aws:...")`` / ``@invoke("aws:...")`` from ``mockcloud.aws_cloud``.
"""

import importlib
import pkgutil


def load_all() -> None:
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
