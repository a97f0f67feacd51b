"""Checks against AWS's own models: botocore's ECS request shapes and IAM policy documents."""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

import botocore.session
from botocore.model import OperationModel
from botocore.validate import ParamValidator

from mockcloud.monitor import CapturedResource


@cache
def _register_task_definition() -> OperationModel:
    return botocore.session.get_session().get_service_model("ecs").operation_model("RegisterTaskDefinition")


def register_task_definition_request(task_definition: CapturedResource) -> dict[str, Any]:
    """The RegisterTaskDefinition request a ``aws:ecs/taskDefinition`` registration turns into.

    The provider's input names are the API's (camelCase); ``containerDefinitions`` is a JSON string
    there and a list in the API.
    """
    inputs = dict(task_definition.inputs)
    request: dict[str, Any] = {
        key: inputs[key]
        for key in (
            "family",
            "taskRoleArn",
            "executionRoleArn",
            "networkMode",
            "volumes",
            "requiresCompatibilities",
            "cpu",
            "memory",
            "runtimePlatform",
            "ephemeralStorage",
            "pidMode",
            "ipcMode",
        )
        if inputs.get(key) is not None
    }
    request["containerDefinitions"] = json.loads(inputs["containerDefinitions"])
    return request


def validate_register_task_definition(request: dict[str, Any]) -> list[str]:
    """botocore's validation of a RegisterTaskDefinition request; an empty list when AWS would accept it."""
    shape = _register_task_definition().input_shape
    assert shape is not None
    report = ParamValidator().validate(request, shape)
    return [line for line in report.generate_report().splitlines() if line.strip()] if report.has_errors() else []


def statements(document: str | dict[str, Any]) -> list[dict[str, Any]]:
    """The statements of an IAM policy document (JSON text or parsed)."""
    parsed = json.loads(document) if isinstance(document, str) else document
    assert parsed.get("Version") == "2012-10-17", "IAM documents must use policy language version 2012-10-17"
    found = parsed["Statement"]
    return [found] if isinstance(found, dict) else list(found)


def actions(statement: dict[str, Any]) -> list[str]:
    action = statement.get("Action", [])
    return [action] if isinstance(action, str) else list(action)


def wildcard_actions(document: str | dict[str, Any]) -> list[str]:
    """Actions with ``*`` (``s3:*``, ``logs:Put*``, ``*``) and any ``NotAction`` (an implicit wildcard)."""
    found: list[str] = []
    for statement in statements(document):
        if "NotAction" in statement:
            found.append(f"NotAction {statement['NotAction']}")
        found.extend(a for a in actions(statement) if "*" in a)
    return found


@cache
def _kms_operation(name: str) -> OperationModel:
    return botocore.session.get_session().get_service_model("kms").operation_model(name)


def validate_kms_request(operation: str, request: dict[str, Any]) -> list[str]:
    """botocore's validation of a KMS request (CreateKey, PutKeyPolicy, CreateAlias, EnableKeyRotation,
    ScheduleKeyDeletion); an empty list when the shapes, ranges and patterns accept it."""
    shape = _kms_operation(operation).input_shape
    assert shape is not None
    report = ParamValidator().validate(request, shape)
    problems = [line for line in report.generate_report().splitlines() if line.strip()] if report.has_errors() else []
    # ParamValidator checks types and required members but not every min/max/pattern: check those too.
    for member, value in request.items():
        metadata = shape.members[member].metadata
        if isinstance(value, int) and not isinstance(value, bool):
            if not metadata.get("min", value) <= value <= metadata.get("max", value):
                problems.append(f"{member}={value} outside {metadata.get('min')}..{metadata.get('max')}")
        elif isinstance(value, str):
            if not metadata.get("min", 0) <= len(value) <= metadata.get("max", len(value)):
                problems.append(f"{member}: length {len(value)} outside {metadata.get('min')}..{metadata.get('max')}")
            pattern = metadata.get("pattern")
            if pattern and re.fullmatch(pattern, value) is None:
                problems.append(f"{member}={value[:60]!r} does not match {pattern}")
    return problems
