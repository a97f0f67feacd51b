"""Checks against AWS's own models: botocore's ECS request shapes and IAM policy documents."""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any, Final

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


# --------------------------------------------------------------------------------------------------
# Any request against botocore's model: types, required members, enums, lengths and patterns
# --------------------------------------------------------------------------------------------------
@cache
def _operation(service: str, operation: str) -> OperationModel:
    return botocore.session.get_session().get_service_model(service).operation_model(operation)


# Java's Unicode classes, which some model patterns use (tag keys and values), as Python classes:
# \w is a slight superset of \p{L} (it adds digits and '_'), which only makes the check more lenient.
_JAVA_CLASSES: Final = {r"\p{L}": r"\w", r"\p{N}": r"\d", r"\p{Z}": r"\s"}


@cache
def _java_regex(pattern: str) -> re.Pattern[str]:
    """A model pattern as a Python regex (AWS writes them in Java syntax)."""
    for java, python in _JAVA_CLASSES.items():
        pattern = pattern.replace(java, python)
    return re.compile(pattern)


def _patterns(shape: Any, value: Any, path: str) -> list[str]:
    """What ParamValidator leaves out: string patterns (and enums inside nested shapes)."""
    errors: list[str] = []
    if shape.type_name == "structure" and isinstance(value, dict):
        for member, member_shape in shape.members.items():
            if member in value:
                errors += _patterns(member_shape, value[member], f"{path}.{member}")
    elif shape.type_name == "list" and isinstance(value, list):
        for i, item in enumerate(value):
            errors += _patterns(shape.member, item, f"{path}[{i}]")
    elif shape.type_name == "string" and isinstance(value, str):
        pattern = shape.metadata.get("pattern")
        if pattern and not _java_regex(pattern).fullmatch(value):
            errors.append(f"{path}: {value!r} does not match {pattern}")
        if "enum" in shape.metadata and value not in shape.metadata["enum"]:
            errors.append(f"{path}: {value!r} not in {shape.metadata['enum']}")
    return errors


def validate_request(service: str, operation: str, params: dict[str, Any]) -> list[str]:
    """Problems botocore's model finds in a request (empty: the API would accept its shape)."""
    shape = _operation(service, operation).input_shape
    assert shape is not None
    report = ParamValidator().validate(params, shape)
    problems = [line for line in report.generate_report().splitlines() if line.strip()] if report.has_errors() else []
    return problems + _patterns(shape, params, operation)


def to_api(value: Any, shape: Any, path: str = "", renames: dict[str, str] | None = None) -> tuple[Any, list[str]]:
    """A provider input (camelCase keys, maps for tags/dimensions, numbers as floats) in the API's form.

    Keys are matched to the shape's members case-insensitively (``cloudwatchMetricsEnabled`` is
    ``CloudWatchMetricsEnabled``, ``ipSetReferenceStatement`` is ``IPSetReferenceStatement``), except
    the ``renames`` given (``path.key`` or ``key`` -> member). A key the model does not have is an
    error, so a misspelt or invented field fails instead of being dropped.
    """
    renames = renames or {}
    errors: list[str] = []
    if shape.type_name == "structure":
        if not isinstance(value, dict):
            return value, [f"{path}: expected an object, got {value!r}"]
        by_lower = {m.lower(): m for m in shape.members}
        out: dict[str, Any] = {}
        for key, item in value.items():
            if item is None:
                continue
            member = renames.get(f"{path}.{key}".lstrip(".")) or renames.get(key) or by_lower.get(key.lower())
            if member is None or member not in shape.members:
                errors.append(f"{path}.{key}: not a member of {shape.name} ({', '.join(shape.members)})")
                continue
            out[member], inner = to_api(item, shape.members[member], f"{path}.{member}", renames)
            errors += inner
        return out, errors
    if shape.type_name == "list":
        member = shape.member
        if isinstance(value, dict) and member.type_name == "structure":
            # Tags and dimensions: the provider takes a map, the API a list of key/value pairs.
            key_name = next((k for k in ("Key", "Name", "key", "name") if k in member.members), None)
            value_name = next((k for k in ("Value", "value") if k in member.members), None)
            if key_name and value_name:
                return [{key_name: k, value_name: v} for k, v in value.items()], errors
        if not isinstance(value, list):
            return value, [f"{path}: expected a list, got {value!r}"]
        items = []
        for i, item in enumerate(value):
            converted, inner = to_api(item, member, f"{path}[{i}]", renames)
            items.append(converted)
            errors += inner
        return items, errors
    if shape.type_name in ("integer", "long") and isinstance(value, float) and value.is_integer():
        return int(value), errors  # the engine sends every number as a float
    return value, errors


def api_request(
    service: str, operation: str, inputs: dict[str, Any], *, renames: dict[str, str] | None = None
) -> tuple[dict[str, Any], list[str]]:
    """``to_api`` against an operation's input shape."""
    shape = _operation(service, operation).input_shape
    assert shape is not None
    request, errors = to_api(inputs, shape, "", renames)
    return request, errors


def request_certificate_request(certificate: CapturedResource) -> dict[str, Any]:
    """The RequestCertificate call an ``aws:acm/certificate`` registration turns into."""
    keys = ("domainName", "subjectAlternativeNames", "validationMethod", "keyAlgorithm", "options", "tags")
    request, errors = api_request("acm", "RequestCertificate", {k: certificate.inputs.get(k) for k in keys})
    assert errors == [], errors
    return request


def create_web_acl_request(acl: CapturedResource) -> dict[str, Any]:
    """The CreateWebACL call an ``aws:wafv2/webAcl`` registration turns into (rules as typed)."""
    keys = ("name", "scope", "description", "defaultAction", "rules", "visibilityConfig")
    request, errors = api_request("wafv2", "CreateWebACL", {k: acl.inputs.get(k) for k in keys})
    assert errors == [], errors
    return request


def put_logging_configuration_request(logging: CapturedResource) -> dict[str, Any]:
    """The PutLoggingConfiguration call of an ``aws:wafv2/webAclLoggingConfiguration``."""
    keys = ("resourceArn", "logDestinationConfigs", "redactedFields", "loggingFilter")
    configuration, errors = to_api(
        {k: logging.inputs.get(k) for k in keys},
        _operation("wafv2", "PutLoggingConfiguration").input_shape.members["LoggingConfiguration"],  # type: ignore[union-attr]
    )
    assert errors == [], errors
    return {"LoggingConfiguration": configuration}


def put_metric_alarm_request(alarm: CapturedResource) -> dict[str, Any]:
    """The PutMetricAlarm call of an ``aws:cloudwatch/metricAlarm``: the provider's ``metricQueries``
    (``metric`` with its own period and stat) become the API's ``Metrics`` (``MetricStat``)."""
    inputs = dict(alarm.inputs)
    queries = inputs.pop("metricQueries", None)
    keys = ("alarmDescription", "comparisonOperator", "evaluationPeriods", "datapointsToAlarm", "threshold",
            "treatMissingData", "metricName", "namespace", "period", "statistic", "extendedStatistic",
            "dimensions", "alarmActions", "okActions", "insufficientDataActions", "actionsEnabled", "unit")  # fmt: skip
    request, errors = api_request(
        "cloudwatch", "PutMetricAlarm", {"alarmName": inputs.get("name"), **{k: inputs.get(k) for k in keys}}
    )
    metrics = []
    for query in queries or []:
        entry: dict[str, Any] = {
            k[0].upper() + k[1:]: v for k, v in query.items() if k in ("id", "expression", "label", "returnData")
        }
        if query.get("metric"):
            metric = query["metric"]
            entry["MetricStat"] = {
                "Metric": {
                    "Namespace": metric["namespace"],
                    "MetricName": metric["metricName"],
                    "Dimensions": [{"Name": k, "Value": v} for k, v in (metric.get("dimensions") or {}).items()],
                },
                "Period": int(metric["period"]),
                "Stat": metric["stat"],
            }
        metrics.append(entry)
    if metrics:
        request["Metrics"] = metrics
    assert errors == [], errors
    return request


def put_dashboard_request(dashboard: CapturedResource) -> dict[str, Any]:
    return {"DashboardName": dashboard.inputs["dashboardName"], "DashboardBody": dashboard.inputs["dashboardBody"]}


def create_service_request(service: CapturedResource) -> dict[str, Any]:
    """The parts of CreateService an ``aws:ecs/service`` turns into that decide deployments: the
    provider's top-level ``alarms`` and ``deploymentCircuitBreaker`` go inside the API's
    ``deploymentConfiguration``."""
    inputs = service.inputs
    configuration: dict[str, Any] = {}
    for provider_key, api_key in (("deploymentCircuitBreaker", "deploymentCircuitBreaker"), ("alarms", "alarms")):
        if inputs.get(provider_key) is not None:
            configuration[api_key] = dict(inputs[provider_key])
    for provider_key, api_key in (("deploymentMaximumPercent", "maximumPercent"),
                                  ("deploymentMinimumHealthyPercent", "minimumHealthyPercent")):  # fmt: skip
        if inputs.get(provider_key) is not None:
            configuration[api_key] = int(inputs[provider_key])
    return {"serviceName": inputs["name"], "deploymentConfiguration": configuration}


def create_repository_creation_template_request(template: CapturedResource) -> dict[str, Any]:
    """CreateRepositoryCreationTemplate of an ``aws:ecr/repositoryCreationTemplate``: the provider's
    plural ``appliedFors`` and list-typed ``encryptionConfigurations`` are the API's ``appliedFor`` and
    ``encryptionConfiguration``."""
    inputs = dict(template.inputs)
    inputs.pop("region", None)  # the provider's endpoint choice, not a request member
    encryption = inputs.pop("encryptionConfigurations", None) or []
    assert len(encryption) <= 1, "one encryption configuration per template"
    if encryption:
        inputs["encryptionConfiguration"] = encryption[0]
    request, errors = api_request(
        "ecr", "CreateRepositoryCreationTemplate", inputs, renames={"appliedFors": "appliedFor"}
    )
    assert errors == [], errors
    return request


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
