"""Run a policy pack the way the Pulumi CLI does, fed with what the mock cloud captured.

For ``pulumi preview --policy-pack policies/guardrails --policy-pack-config policies/guardrails/dev.json``
the CLI starts the pack as its own process (``<virtualenv>/bin/python -u -m pulumi.policy
<engine-address> .`` in the pack directory), reads the gRPC port the pack prints, and speaks the
Analyzer protocol:

1. ``ConfigureStack`` (stack, project, config, dry run), ``GetAnalyzerInfo`` (policies and their
   default levels), then ``Configure`` with the config file reconciled against each policy's
   defaults exactly like the engine does (``"all"`` first, then per policy, schema defaults filled in);
2. ``Analyze`` for every resource as it is registered: its inputs, options and the provider resource
   (the *default* provider too: ``default_<version>`` with the stack's ``aws:`` config as inputs);
3. ``AnalyzeStack`` once with every resource's final state, parent, dependencies and property
   dependencies.

The modules, by concern:

- ``report``: what an analysis found (policies, violations, effective levels);
- ``config``: policy config files, reconciled with each policy's defaults as the engine does;
- ``wire``: a ``StackRun`` as the engine's Analyzer requests, and responses back into the report model;
- ``pack``: the pack process, started and spoken to like the CLI does;
- ``render``: the report as text (the plan's console) and Markdown (a CI job summary);
- ``contract``: the one place that names the Fargate component's type token.

Differences to a real engine, all on the engine's side: it sends inputs *after* the provider's
``Check`` (defaults and auto-names filled in); here inputs are what the program sent. Components'
state in ``AnalyzeStack`` is what they passed to ``register_outputs``, as in the engine.
"""

from __future__ import annotations

from typing import Final

from mockcloud.runner import PROJECT_DIR

GUARDRAILS_DIR: Final = PROJECT_DIR / "policies" / "guardrails"
"""The policy pack the stacks are previewed and deployed with."""
