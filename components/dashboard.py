"""One CloudWatch dashboard per stack: the ALB, each service, the cache and the database on one page.

Rows, top to bottom: alarm states; the ALB (requests, its own 5xx and the targets' 5xx); per service
(p99/p50 latency, healthy and unhealthy targets, CPU and memory, running vs desired tasks); the WAF
(allowed, blocked, counted) when there is one; the cache; the database. Every widget names its
metrics with the dimensions the resources publish, from plain values except the load balancer's and
target groups' ARN suffixes, which the body takes as outputs (``Output.json_dumps``).

The dashboard body format is CloudWatch's (widgets on a 24-column grid, ``metrics`` as
``[namespace, name, dimension, value, ..., {options}]``), documented in "Dashboard body structure
and syntax" of the CloudWatch API reference.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

import pulumi
import pulumi_aws as aws

from components.edge_alarms import MonitoredService
from components.errors import require

GRID_COLUMNS: Final = 24
WIDGET_HEIGHT: Final = 6
MAX_ALARMS_PER_WIDGET: Final = 100
_DASHBOARD_NAME: Final = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
"""PutDashboard's DashboardName: up to 255 of A-Z, a-z, 0-9, '-', '_' (botocore cloudwatch model docs)."""

CacheEngine = Literal["valkey", "redis", "memcached"]


@dataclass(frozen=True, kw_only=True)
class DashboardCache:
    """The cache's nodes as CloudWatch names them."""

    engine: CacheEngine
    node_ids: Sequence[str]
    """``CacheClusterId`` values (the replication group's member clusters, or the Memcached cluster)."""


@dataclass(frozen=True, kw_only=True)
class StackDashboardArgs:
    """What the dashboard shows."""

    name: str
    """Dashboard name (unique per account: the stack's ``<project>-<stack>``)."""
    region: str
    load_balancer_arn_suffix: pulumi.Input[str]
    services: Sequence[MonitoredService]
    cache: DashboardCache | None = None
    database_identifier: str | None = None
    web_acl_name: str | None = None
    """The web ACL's name, for the WAF row (none: no row)."""
    alarm_arns: Sequence[pulumi.Input[str]] = field(default_factory=list)
    """Alarms whose states head the page (up to 100)."""

    def __post_init__(self) -> None:
        require(
            isinstance(self.name, str) and bool(_DASHBOARD_NAME.match(self.name)),
            "name",
            self.name,
            "1-255 of A-Z, a-z, 0-9, '-', '_' (CloudWatch dashboard names)",
        )
        require(bool(self.services), "services", [], "at least one service")
        require(
            len(self.alarm_arns) <= MAX_ALARMS_PER_WIDGET,
            "alarm_arns",
            len(self.alarm_arns),
            f"at most {MAX_ALARMS_PER_WIDGET} alarms (one alarm status widget)",
        )
        if self.cache is not None:
            require(bool(self.cache.node_ids), "cache.node_ids", [], "at least one node")


Metric = list[Any]


class _Layout:
    """Places widgets left to right in rows of ``GRID_COLUMNS``."""

    def __init__(self) -> None:
        self.widgets: list[dict[str, Any]] = []
        self._x = 0
        self._y = 0

    def row(self) -> None:
        if self._x:
            self._x, self._y = 0, self._y + WIDGET_HEIGHT

    def add(self, width: int, widget: dict[str, Any], height: int = WIDGET_HEIGHT) -> None:
        if self._x + width > GRID_COLUMNS:
            self.row()
        self.widgets.append({**widget, "x": self._x, "y": self._y, "width": width, "height": height})
        self._x += width


def _graph(title: str, region: str, metrics: list[Metric], *, stat: str = "Sum", **extra: Any) -> dict[str, Any]:
    return {
        "type": "metric",
        "properties": {
            "title": title,
            "region": region,
            "view": "timeSeries",
            "stacked": False,
            "period": 60,
            "stat": stat,
            "metrics": metrics,
            **extra,
        },
    }


def dashboard_body(args: StackDashboardArgs) -> dict[str, Any]:
    """The dashboard as CloudWatch's JSON body (with outputs where the ARN suffixes go)."""
    layout = _Layout()
    region = args.region
    elb = "AWS/ApplicationELB"
    lb = args.load_balancer_arn_suffix
    if args.alarm_arns:
        layout.add(GRID_COLUMNS, {"type": "alarm", "properties": {"title": "Alarms", "alarms": list(args.alarm_arns)}},
                   height=3)  # fmt: skip
        layout.row()

    layout.add(8, _graph("ALB requests", region, [[elb, "RequestCount", "LoadBalancer", lb]]))
    layout.add(8, _graph("ALB 5xx (the load balancer's own)", region,
                         [[elb, "HTTPCode_ELB_5XX_Count", "LoadBalancer", lb],
                          [elb, "HTTPCode_ELB_502_Count", "LoadBalancer", lb],
                          [elb, "HTTPCode_ELB_503_Count", "LoadBalancer", lb],
                          [elb, "HTTPCode_ELB_504_Count", "LoadBalancer", lb]]))  # fmt: skip
    layout.add(8, _graph("Targets' 5xx per service", region,
                         [[elb, "HTTPCode_Target_5XX_Count", "LoadBalancer", lb, "TargetGroup",
                           s.target_group_arn_suffix, {"label": s.key}] for s in args.services]))  # fmt: skip
    for service in args.services:
        layout.row()
        tg = [elb, "TargetResponseTime", "LoadBalancer", lb, "TargetGroup", service.target_group_arn_suffix]
        ecs = ["ClusterName", service.cluster_name, "ServiceName", service.service_name]
        layout.add(6, _graph(f"{service.key}: response time", region,
                             [[*tg, {"stat": "p99", "label": "p99"}], [*tg, {"stat": "p50", "label": "p50"}]],
                             stat="Average"))  # fmt: skip
        layout.add(6, _graph(f"{service.key}: targets", region,
                             [[elb, "HealthyHostCount", "LoadBalancer", lb, "TargetGroup",
                               service.target_group_arn_suffix],
                              [elb, "UnHealthyHostCount", "LoadBalancer", lb, "TargetGroup",
                               service.target_group_arn_suffix]], stat="Maximum"))  # fmt: skip
        layout.add(6, _graph(f"{service.key}: CPU and memory %", region,
                             [["AWS/ECS", "CPUUtilization", *ecs], ["AWS/ECS", "MemoryUtilization", *ecs]],
                             stat="Average"))  # fmt: skip
        layout.add(6, _graph(f"{service.key}: tasks", region,
                             [["ECS/ContainerInsights", "RunningTaskCount", *ecs],
                              ["ECS/ContainerInsights", "DesiredTaskCount", *ecs]], stat="Average"))  # fmt: skip

    if args.web_acl_name is not None:
        layout.row()
        waf = ["WebACL", args.web_acl_name, "Region", region, "Rule", "ALL"]
        layout.add(GRID_COLUMNS, _graph("WAF: allowed, blocked, counted", region,
                                        [["AWS/WAFV2", m, *waf] for m in
                                         ("AllowedRequests", "BlockedRequests", "CountedRequests")]))  # fmt: skip

    if args.cache is not None:
        layout.row()
        cache = args.cache
        memcached = cache.engine == "memcached"
        node_metrics = (
            [("CPU %", "CPUUtilization", "Average"), ("Evictions", "Evictions", "Sum")]
            if memcached
            else [("Engine CPU %", "EngineCPUUtilization", "Average"),
                  ("Memory % of maxmemory", "DatabaseMemoryUsagePercentage", "Average"),
                  ("Hit rate", "CacheHitRate", "Average"), ("Evictions", "Evictions", "Sum")]
        )  # fmt: skip
        width = GRID_COLUMNS // len(node_metrics)
        for title, metric, stat in node_metrics:
            layout.add(width, _graph(f"Cache: {title}", region,
                                     [["AWS/ElastiCache", metric, "CacheClusterId", node] for node in cache.node_ids],
                                     stat=stat))  # fmt: skip

    if args.database_identifier is not None:
        layout.row()
        db = ["DBInstanceIdentifier", args.database_identifier]
        for title, metric, stat in (("Database: CPU %", "CPUUtilization", "Average"),
                                    ("Database: connections", "DatabaseConnections", "Maximum"),
                                    ("Database: free storage (bytes)", "FreeStorageSpace", "Minimum"),
                                    ("Database: read/write latency (s)", "ReadLatency", "Average")):  # fmt: skip
            metrics: list[Metric] = [["AWS/RDS", metric, *db]]
            if metric == "ReadLatency":
                metrics.append(["AWS/RDS", "WriteLatency", *db])
            layout.add(6, _graph(title, region, metrics, stat=stat))
    return {"widgets": layout.widgets}


class StackDashboard(pulumi.ComponentResource):
    """The stack's CloudWatch dashboard."""

    name: str
    """Dashboard name (plain)."""
    url: str
    """Console link (plain)."""

    def __init__(self, name: str, args: StackDashboardArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("platform:observability:StackDashboard", name, None, opts)
        self.name = args.name
        self.url = f"https://{args.region}.console.aws.amazon.com/cloudwatch/home?region={args.region}#dashboards/dashboard/{args.name}"
        aws.cloudwatch.Dashboard(
            f"{name}-dashboard",
            dashboard_name=args.name,
            dashboard_body=pulumi.Output.json_dumps(dashboard_body(args)),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"name": self.name, "url": self.url})
