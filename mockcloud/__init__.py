"""The mock cloud: the real Pulumi program run under the SDK's mock runtime against a pretend AWS account.

- ``runner``: ``run_stack`` / ``run_program`` run a stack file or any program function and capture it;
- ``monitor``: the recording ``MockMonitor`` (every registration in the engine's wire form);
- ``mocks``: the ``pulumi.runtime.Mocks`` answering registrations and invokes;
- ``registry`` and ``providers/``: one answer per resource type and invoke, one module per service;
- ``cloud``: the pretend account and region, and the helpers that make answers look real.

The tools built on it (the offline plan, the README generator, the policy runner) are in ``offline/``.
"""
