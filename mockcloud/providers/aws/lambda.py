# ruff: noqa: N999 (named after the token module aws:lambda/..., as every provider module is)
"""Lambda (``aws:lambda/...``): functions (with their ARN and version) and invoke permissions.

The module is named after the token's module, ``lambda``, which is a Python keyword: the registry
imports it by name (``importlib``), never with an ``import`` statement.
"""

from __future__ import annotations

from typing import Any

from mockcloud.cloud import Cloud, hexid, physical_name
from mockcloud.registry import Outputs, outputs


@outputs("aws:lambda/function:Function")
def _function(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    function = physical_name(name, inputs)
    arn = cloud.arn("lambda", f"function:{function}")
    return function, {
        "arn": arn,
        "name": function,
        "qualifiedArn": f"{arn}:$LATEST",
        "invokeArn": f"arn:aws:apigateway:{cloud.region}:lambda:path/2015-03-31/functions/{arn}/invocations",
        "version": "$LATEST",
        "sourceCodeHash": hexid(name + "code", 44),
        "lastModified": "2026-01-01T00:00:00.000+0000",
    }


@outputs("aws:lambda/permission:Permission")
def _permission(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    statement = inputs.get("statementId") or f"terraform-{hexid(name, 26)}"
    return str(statement), {"statementId": statement}
