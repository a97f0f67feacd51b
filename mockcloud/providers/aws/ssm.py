"""SSM Parameter Store (``aws:ssm/...``); the registry component's cross-stack ownership lock is one."""

from __future__ import annotations

from typing import Any

from mockcloud.cloud import Cloud, physical_name
from mockcloud.registry import Outputs, outputs


@outputs("aws:ssm/parameter:Parameter")
def _ssm_parameter(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    parameter = physical_name(name, inputs, max_length=2048)
    resource = parameter.lstrip("/")
    return parameter, {
        "name": parameter,
        "arn": cloud.arn("ssm", f"parameter/{resource}"),
        "version": 1,
        "tier": inputs.get("tier") or "Standard",
        "dataType": inputs.get("dataType") or "text",
    }
