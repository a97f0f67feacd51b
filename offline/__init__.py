"""Tools that work without a cloud account, on top of the mock cloud (``mockcloud``).

- ``python -m offline.plan [STACK]``: the offline plan (tree, summary, policy report, plan JSON).
- ``python -m offline.readme``: the README's generated sections (config, outputs, diagram).
- ``offline.diagram``: the architecture diagram (Mermaid) from a captured run.
- ``offline.policy``: runs the policy pack the way the Pulumi CLI does, over a captured run.
"""
