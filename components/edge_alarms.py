"""CloudWatch alarms on the ALB and each service behind it; the ones a bad deployment rolls back on.

Per service (its target group, and its ECS service):

* ``target-5xx``: the share of requests the service's tasks answer with 5xx (metric math,
  ``HTTPCode_Target_5XX_Count / RequestCount`` of the target group), judged only in minutes with at
  least ``min_requests`` requests so one failure among three requests is not an outage.
* ``latency-p99``: p99 ``TargetResponseTime`` of the target group.
* ``unhealthy-hosts``: ``UnHealthyHostCount`` of the target group at or above ``unhealthy_hosts``.
* ``task-shortfall``: fewer running tasks than desired for ``task_shortfall_minutes`` (Container
  Insights' ``DesiredTaskCount - RunningTaskCount`` in ``ECS/ContainerInsights``; only with Container
  Insights on, since the metrics do not exist otherwise).

Per load balancer: ``elb-5xx``, the share of requests the ALB itself answers with 5xx (502/503/504
when targets reset connections, time out or none is healthy), ``HTTPCode_ELB_5XX_Count /
RequestCount``. ALB reports it per load balancer only, so it cannot say which service caused it.

Rollback: ``deployment_alarm_names[service]`` (``target-5xx``, ``latency-p99``, ``unhealthy-hosts``)
go into that service's ECS deployment alarms. ECS watches them during a rolling deployment and its
bake time and rolls back to the last completed deployment when one goes to ALARM, beside the
circuit breaker (which only sees tasks that fail to start or to pass health checks). The ALB-wide
``elb-5xx`` alarm and the ``task-shortfall`` alarm only notify: the first cannot be pinned on one
service (rolling back an innocent service deploying at the same moment would not help), and the
second is a capacity problem (Spot reclaims, quota), which a rollback does not fix.

Every alarm uses one-minute periods and ``notBreaching`` for missing data (ALB publishes error
counts only when they are non-zero, and nothing at all without traffic), and notifies the optional
SNS topic on ALARM and on OK. Names are explicit (``<prefix>-<service>-<alarm>``), so the deployment
alarms an ECS service names are known at preview.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal

import pulumi
import pulumi_aws as aws

from components.arns import check_sns_topic_arn
from components.errors import in_range, require
from components.load_balancer import IDLE_TIMEOUT

AlarmKind = Literal["target-5xx", "latency-p99", "unhealthy-hosts", "task-shortfall"]
SERVICE_ALARMS: Final[tuple[AlarmKind, ...]] = ("target-5xx", "latency-p99", "unhealthy-hosts", "task-shortfall")
ROLLBACK_ALARMS: Final[tuple[AlarmKind, ...]] = ("target-5xx", "latency-p99", "unhealthy-hosts")
"""The service alarms its ECS deployment rolls back on (see the module docstring for why not the others)."""

PERIOD_SECONDS: Final = 60
MAX_EVALUATION_MINUTES: Final = 1440
"""Periods x 60 s kept within one day, the evaluation range CloudWatch allows for one-minute periods."""
MAX_ALARM_NAME: Final = 255  # PutMetricAlarm AlarmName (botocore cloudwatch model)
_KEY: Final = re.compile(r"^[a-z][a-z0-9-]{0,31}$")
_PREFIX: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")


def _percent(setting: str, value: float) -> None:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    require(ok and 0.1 <= value <= 100, setting, value, "a percentage from 0.1 to 100")


@dataclass(frozen=True, kw_only=True)
class AlarmThresholds:
    """Where the alarms trip. The stack's defaults (Pulumi.yaml, the one home of defaults) are what this
    service would page on, not what a demo shows; the reasons are given per field."""

    target_5xx_percent: float
    """Share of a service's requests answered 5xx by its tasks. 5% for ``evaluation_minutes`` is an
    outage for one in twenty users, clearly past noise (a healthy catalog API answers well under 0.1%
    5xx) yet not tripped by a single slow dependency blip."""
    elb_5xx_percent: float
    """Share of all requests the ALB answers 5xx itself (no healthy target, reset connections)."""
    min_requests: int
    """Requests per minute below which error shares are not judged (one 5xx in a handful of requests
    would read as 20-50%)."""
    p99_latency_ms: int
    """p99 response time of a service's tasks. Cache hits answer in milliseconds and database reads
    in tens of ms: a p99 past one second means the cache or the database is in trouble."""
    unhealthy_hosts: int
    """Targets failing the ALB health check, at or above which the alarm trips."""
    evaluation_minutes: int
    """Consecutive breaching minutes before the error, latency and health alarms trip (3: long enough
    to ride out a retry burst, short enough that a bad deployment is rolled back within minutes)."""
    task_shortfall_minutes: int
    """Minutes with fewer running tasks than desired before that alarm trips (a replaced Spot task or
    a rolling deployment dips briefly; ten minutes without recovery needs a person)."""

    def __post_init__(self) -> None:
        _percent("target_5xx_percent", self.target_5xx_percent)
        _percent("elb_5xx_percent", self.elb_5xx_percent)
        in_range("min_requests", self.min_requests, 1, 1_000_000, unit="requests per minute")
        # A response cannot take longer than the ALB's idle timeout allows (at most 4000 s).
        in_range("p99_latency_ms", self.p99_latency_ms, 10, IDLE_TIMEOUT[1] * 1000, unit="ms")
        in_range("unhealthy_hosts", self.unhealthy_hosts, 1, 1000, unit="targets")
        in_range("evaluation_minutes", self.evaluation_minutes, 1, MAX_EVALUATION_MINUTES, unit="minutes")
        in_range("task_shortfall_minutes", self.task_shortfall_minutes, 1, MAX_EVALUATION_MINUTES, unit="minutes")


@dataclass(frozen=True, kw_only=True)
class MonitoredService:
    """One ECS service behind the ALB."""

    key: str
    """Short identifier (``api``): names the alarms."""
    cluster_name: str
    service_name: str
    target_group_arn_suffix: pulumi.Input[str]
    """``targetgroup/<name>/<id>`` (the CloudWatch dimension)."""


@dataclass(frozen=True, kw_only=True)
class EdgeAlarmsArgs:
    """The load balancer, its services and where alarms trip."""

    name_prefix: str
    """First part of every alarm name (e.g. ``<project>-<stack>``), unique per stack and region."""
    load_balancer_arn_suffix: pulumi.Input[str]
    """``app/<name>/<id>`` (the CloudWatch dimension)."""
    services: Sequence[MonitoredService]
    thresholds: AlarmThresholds
    alarm_topic_arn: str | None = None
    """SNS topic notified on ALARM and OK; None creates the alarms without actions."""
    container_insights: bool = True
    """Whether the cluster publishes Container Insights metrics (the task-shortfall alarm needs them)."""

    def __post_init__(self) -> None:
        require(
            isinstance(self.name_prefix, str) and bool(_PREFIX.match(self.name_prefix)),
            "name_prefix",
            self.name_prefix,
            "1-128 of letters, digits, '_', '.', '-' (starts with a letter or digit)",
        )
        require(bool(self.services), "services", [], "at least one service")
        keys = [s.key for s in self.services]
        for i, service in enumerate(self.services):
            require(bool(_KEY.match(service.key)), f"services[{i}].key", service.key, "1-32 of a-z, 0-9, '-'")
        duplicates = sorted({k for k in keys if keys.count(k) > 1})
        require(not duplicates, "services[].key", duplicates, "each key once")
        for key in keys:
            for kind in SERVICE_ALARMS:
                name = self.alarm_name(key, kind)
                require(
                    len(name) <= MAX_ALARM_NAME,
                    "name_prefix",
                    self.name_prefix,
                    "a prefix keeping alarm names within 255 characters",
                )
        check_sns_topic_arn("alarm_topic_arn", self.alarm_topic_arn)

    def alarm_name(self, service_key: str, kind: str) -> str:
        return f"{self.name_prefix}-{service_key}-{kind}"

    @property
    def elb_alarm_name(self) -> str:
        return f"{self.name_prefix}-alb-elb-5xx"


def _metric(
    metric_name: str, namespace: str, dimensions: dict[str, pulumi.Input[str]], stat: str = "Sum"
) -> aws.cloudwatch.MetricAlarmMetricQueryMetricArgs:
    return aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
        metric_name=metric_name, namespace=namespace, dimensions=dimensions, period=PERIOD_SECONDS, stat=stat
    )


def _share_of_requests(
    errors: str, dimensions: dict[str, pulumi.Input[str]], min_requests: int, label: str
) -> list[aws.cloudwatch.MetricAlarmMetricQueryArgs]:
    """``100 * errors / requests`` in minutes with at least ``min_requests`` requests, else 0.

    ALB publishes an error count only when it is non-zero: FILL makes a missing minute zero errors
    instead of no data point.
    """
    query = aws.cloudwatch.MetricAlarmMetricQueryArgs
    return [
        query(
            id="share",
            expression=f"IF(requests >= {min_requests}, 100 * FILL(errors, 0) / requests, 0)",
            label=label,
            return_data=True,
        ),
        query(id="errors", metric=_metric(errors, "AWS/ApplicationELB", dimensions), return_data=False),
        query(id="requests", metric=_metric("RequestCount", "AWS/ApplicationELB", dimensions), return_data=False),
    ]


class EdgeAlarms(pulumi.ComponentResource):
    """Error, latency, health and capacity alarms for an ALB's services, and the ALB's own 5xx alarm."""

    alarm_names: dict[str, dict[str, str]]
    """Alarm name by service key and alarm kind (plain)."""
    elb_alarm_name: str
    """Name of the ALB-wide 5xx alarm (plain)."""
    deployment_alarm_names: dict[str, list[pulumi.Output[str]]]
    """Per service, the alarms its ECS deployment rolls back on (outputs of the alarms, so the service
    waits for them to exist; their values are the plain names above)."""
    alarm_arns: list[pulumi.Output[str]]
    """Every alarm's ARN (for a dashboard's alarm widget)."""

    def __init__(self, name: str, args: EdgeAlarmsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("platform:observability:EdgeAlarms", name, None, opts)
        self._name = name
        self._args = args
        limits = args.thresholds
        self.alarm_names = {}
        self.deployment_alarm_names = {}
        self.alarm_arns = []

        lb_dims: dict[str, pulumi.Input[str]] = {"LoadBalancer": args.load_balancer_arn_suffix}
        self.elb_alarm_name = args.elb_alarm_name
        self._alarm(
            "alb-elb-5xx",
            args.elb_alarm_name,
            f"The ALB itself answers more than {limits.elb_5xx_percent}% of requests with 5xx "
            f"(no healthy target, resets, timeouts) for {limits.evaluation_minutes} minutes",
            threshold=limits.elb_5xx_percent,
            minutes=limits.evaluation_minutes,
            metric_queries=_share_of_requests("HTTPCode_ELB_5XX_Count", lb_dims, limits.min_requests, "ELB 5xx %"),
        )

        for service in args.services:
            names: dict[str, str] = {kind: args.alarm_name(service.key, kind) for kind in SERVICE_ALARMS}
            if not args.container_insights:
                del names["task-shortfall"]
            self.alarm_names[service.key] = names
            created = self._service_alarms(service, names)
            self.deployment_alarm_names[service.key] = [created[kind] for kind in ROLLBACK_ALARMS]

        self.register_outputs(
            {"alarmNames": self.alarm_names, "elbAlarmName": self.elb_alarm_name, "alarmArns": self.alarm_arns}
        )

    def _service_alarms(self, service: MonitoredService, names: dict[str, str]) -> dict[str, pulumi.Output[str]]:
        limits = self._args.thresholds
        tg_dims: dict[str, pulumi.Input[str]] = {
            "LoadBalancer": self._args.load_balancer_arn_suffix,
            "TargetGroup": service.target_group_arn_suffix,
        }
        who = f"{service.cluster_name}/{service.service_name}"
        created = {
            "target-5xx": self._alarm(
                f"{service.key}-target-5xx",
                names["target-5xx"],
                f"{who}: tasks answer more than {limits.target_5xx_percent}% of requests with 5xx for "
                f"{limits.evaluation_minutes} minutes (rolls a deployment back)",
                threshold=limits.target_5xx_percent,
                minutes=limits.evaluation_minutes,
                metric_queries=_share_of_requests(
                    "HTTPCode_Target_5XX_Count", tg_dims, limits.min_requests, "Target 5xx %"
                ),
            ),
            "latency-p99": self._alarm(
                f"{service.key}-latency-p99",
                names["latency-p99"],
                f"{who}: p99 response time above {limits.p99_latency_ms} ms for "
                f"{limits.evaluation_minutes} minutes (rolls a deployment back)",
                # TargetResponseTime is in seconds.
                threshold=limits.p99_latency_ms / 1000,
                minutes=limits.evaluation_minutes,
                metric=("TargetResponseTime", "AWS/ApplicationELB", tg_dims, "p99"),
            ),
            "unhealthy-hosts": self._alarm(
                f"{service.key}-unhealthy-hosts",
                names["unhealthy-hosts"],
                f"{who}: {limits.unhealthy_hosts} or more targets fail the ALB health check for "
                f"{limits.evaluation_minutes} minutes (rolls a deployment back)",
                threshold=limits.unhealthy_hosts,
                minutes=limits.evaluation_minutes,
                comparison="GreaterThanOrEqualToThreshold",
                metric=("UnHealthyHostCount", "AWS/ApplicationELB", tg_dims, "Maximum"),
            ),
        }
        if "task-shortfall" in names:
            ecs_dims: dict[str, pulumi.Input[str]] = {
                "ClusterName": service.cluster_name,
                "ServiceName": service.service_name,
            }
            query = aws.cloudwatch.MetricAlarmMetricQueryArgs
            created["task-shortfall"] = self._alarm(
                f"{service.key}-task-shortfall",
                names["task-shortfall"],
                f"{who}: fewer running tasks than desired for {limits.task_shortfall_minutes} minutes",
                threshold=0,
                minutes=limits.task_shortfall_minutes,
                metric_queries=[
                    query(
                        id="shortfall", expression="desired - FILL(running, 0)", label="Tasks missing", return_data=True
                    ),
                    query(
                        id="desired",
                        metric=_metric("DesiredTaskCount", "ECS/ContainerInsights", ecs_dims, "Average"),
                        return_data=False,
                    ),
                    query(
                        id="running",
                        metric=_metric("RunningTaskCount", "ECS/ContainerInsights", ecs_dims, "Average"),
                        return_data=False,
                    ),
                ],
            )
        return created

    def _alarm(
        self,
        role: str,
        alarm_name: str,
        description: str,
        *,
        threshold: float,
        minutes: int,
        comparison: str = "GreaterThanThreshold",
        metric: tuple[str, str, dict[str, pulumi.Input[str]], str] | None = None,
        metric_queries: list[aws.cloudwatch.MetricAlarmMetricQueryArgs] | None = None,
    ) -> pulumi.Output[str]:
        actions = [self._args.alarm_topic_arn] if self._args.alarm_topic_arn else []
        metric_name, namespace, dimensions, stat = metric if metric is not None else (None, None, None, None)
        percentile = stat is not None and stat.startswith("p")
        alarm = aws.cloudwatch.MetricAlarm(
            f"{self._name}-{role}",
            name=alarm_name,
            alarm_description=description,
            comparison_operator=comparison,
            threshold=float(threshold),
            evaluation_periods=minutes,
            datapoints_to_alarm=minutes,
            treat_missing_data="notBreaching",
            metric_name=metric_name,
            namespace=namespace,
            dimensions=dimensions,
            period=PERIOD_SECONDS if metric is not None else None,
            statistic=None if percentile else stat,
            extended_statistic=stat if percentile else None,
            metric_queries=metric_queries,
            alarm_actions=actions,
            ok_actions=actions,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.alarm_arns.append(alarm.arn)
        return alarm.name
