"""CloudWatch (``aws:cloudwatch/...``): log groups and metric alarms."""

from __future__ import annotations

from typing import Any

from mockcloud.cloud import Cloud, physical_name
from mockcloud.registry import Outputs, outputs


@outputs("aws:cloudwatch/logGroup:LogGroup")
def _log_group(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    group = physical_name(name, inputs, max_length=512)
    return group, {"name": group, "arn": cloud.arn("logs", f"log-group:{group}")}


@outputs("aws:cloudwatch/metricAlarm:MetricAlarm")
def _alarm(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    alarm = physical_name(name, inputs)
    return alarm, {"arn": cloud.arn("cloudwatch", f"alarm:{alarm}")}


@outputs("aws:cloudwatch/logResourcePolicy:LogResourcePolicy")
def _log_resource_policy(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    return str(inputs.get("policyName")), {}


@outputs("aws:cloudwatch/dashboard:Dashboard")
def _dashboard(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    dashboard = str(inputs.get("dashboardName"))
    return dashboard, {"dashboardArn": cloud.arn("cloudwatch", f"dashboard/{dashboard}", region=False)}
