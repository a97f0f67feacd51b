"""The one place the offline tools depend on the Fargate component's contract with the policy pack.

The report marks preview notes on task definitions that a FargateService built, because the pack
checks that component's declared container spec at preview (docs/policies.md). Recognising them needs
the component's type token.

The token comes from the contract the component and the pack share (``platform_contracts``); nothing
else in ``offline/`` names it.
"""

from __future__ import annotations

from typing import Final

from platform_contracts.fargate_service import TYPE_TOKEN as FARGATE_SERVICE_TYPE

TASK_DEFINITION_TYPE: Final = "aws:ecs/taskDefinition:TaskDefinition"


def built_by_fargate_service(urn: str) -> bool:
    """Whether ``urn`` is a task definition whose parent is a FargateService component."""
    # A URN's type part is the chain of parent types: "platform:ecs:FargateService$aws:ecs/...".
    return f"{FARGATE_SERVICE_TYPE}${TASK_DEFINITION_TYPE}::" in urn
