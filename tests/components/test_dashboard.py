"""The stack dashboard alone: one page, valid widgets on the 24-column grid, the right metrics."""

from __future__ import annotations

import json
from typing import Any

import pulumi_aws as aws
import pytest

from components.dashboard import GRID_COLUMNS, DashboardCache, StackDashboard, StackDashboardArgs
from components.edge_alarms import MonitoredService
from components.errors import InputError
from mockcloud.runner import StackRun
from tests.aws_validation import put_dashboard_request, validate_request
from tests.support import ComponentRunner

LB = "app/dev-alb/0123456789abcdef"
SERVICES = (
    MonitoredService(key="api", cluster_name="platform-dev", service_name="api",
                     target_group_arn_suffix="targetgroup/dev-api/1111111111111111"),
    MonitoredService(key="ops", cluster_name="platform-dev", service_name="ops",
                     target_group_arn_suffix="targetgroup/dev-ops/2222222222222222"),
)  # fmt: skip
ALARMS = ["arn:aws:cloudwatch:eu-west-1:123456789012:alarm:container-platform-dev-api-target-5xx"]
NAMESPACES = {"AWS/ApplicationELB", "AWS/ECS", "ECS/ContainerInsights", "AWS/ElastiCache", "AWS/RDS", "AWS/WAFV2"}


def _args(**overrides: Any) -> StackDashboardArgs:
    values: dict[str, Any] = {
        "name": "container-platform-dev",
        "region": "eu-west-1",
        "load_balancer_arn_suffix": LB,
        "services": SERVICES,
        "cache": DashboardCache(engine="valkey", node_ids=["platform-dev-001", "platform-dev-002"]),
        "database_identifier": "platform-dev",
        "web_acl_name": "container-platform-dev",
        "alarm_arns": ALARMS,
        **overrides,
    }
    return StackDashboardArgs(**values)


def _body(run_component: ComponentRunner, **overrides: Any) -> tuple[StackRun, dict[str, Any]]:
    run = run_component(lambda: StackDashboard("stack-dashboard", _args(**overrides)))
    dashboard = run.one("aws:cloudwatch/dashboard:Dashboard")
    assert validate_request("cloudwatch", "PutDashboard", put_dashboard_request(dashboard)) == []
    body: dict[str, Any] = json.loads(dashboard.inputs["dashboardBody"])
    return run, body


def _metrics(body: dict[str, Any]) -> list[list[Any]]:
    return [m for w in body["widgets"] if w["type"] == "metric" for m in w["properties"]["metrics"]]


def test_widgets_tile_the_grid_without_overlap(run_component: ComponentRunner) -> None:
    _, body = _body(run_component)
    cells: set[tuple[int, int]] = set()
    for widget in body["widgets"]:
        assert widget["type"] in ("metric", "alarm", "text")
        assert widget["x"] >= 0
        assert widget["x"] + widget["width"] <= GRID_COLUMNS
        for col in range(widget["x"], widget["x"] + widget["width"]):
            for row in range(widget["y"], widget["y"] + widget["height"]):
                assert (col, row) not in cells, widget
                cells.add((col, row))


def test_metric_entries_are_namespace_name_then_dimension_pairs(run_component: ComponentRunner) -> None:
    _, body = _body(run_component)
    for metric in _metrics(body):
        options = metric[-1] if isinstance(metric[-1], dict) else None
        parts = metric[:-1] if options else metric
        assert parts[0] in NAMESPACES, metric
        assert all(isinstance(p, str) and p for p in parts), metric
        assert len(parts) % 2 == 0, f"{metric}: dimensions come as name/value pairs"
    for widget in body["widgets"]:
        if widget["type"] == "metric":
            assert widget["properties"]["region"] == "eu-west-1"
            assert widget["properties"]["period"] == 60


def test_the_page_covers_alb_services_waf_cache_and_database(run_component: ComponentRunner) -> None:
    _, body = _body(run_component)
    metrics = _metrics(body)
    names = {(m[0], m[1]) for m in metrics}
    assert {("AWS/ApplicationELB", "RequestCount"), ("AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count"),
            ("AWS/ApplicationELB", "TargetResponseTime"), ("AWS/ApplicationELB", "UnHealthyHostCount"),
            ("ECS/ContainerInsights", "RunningTaskCount"), ("AWS/ECS", "CPUUtilization"),
            ("AWS/WAFV2", "BlockedRequests"), ("AWS/ElastiCache", "EngineCPUUtilization"),
            ("AWS/ElastiCache", "CacheHitRate"), ("AWS/RDS", "DatabaseConnections")} <= names  # fmt: skip
    latency = [m for m in metrics if m[1] == "TargetResponseTime"]
    assert {m[-1]["stat"] for m in latency} == {"p99", "p50"}
    assert {m[m.index("TargetGroup") + 1] for m in latency} == {s.target_group_arn_suffix for s in SERVICES}
    assert {m[3] for m in metrics if m[0] == "AWS/ElastiCache"} == {"platform-dev-001", "platform-dev-002"}
    alarm = next(w for w in body["widgets"] if w["type"] == "alarm")
    assert alarm["properties"]["alarms"] == ALARMS


def test_memcached_and_optional_rows(run_component: ComponentRunner) -> None:
    _, body = _body(run_component, cache=DashboardCache(engine="memcached", node_ids=["platform-dev"]),
                    database_identifier=None, web_acl_name=None, alarm_arns=[])  # fmt: skip
    metrics = _metrics(body)
    assert {m[1] for m in metrics if m[0] == "AWS/ElastiCache"} == {"CPUUtilization", "Evictions"}
    assert not [m for m in metrics if m[0] in ("AWS/RDS", "AWS/WAFV2")]
    assert not [w for w in body["widgets"] if w["type"] == "alarm"]


def test_outputs_flow_into_the_body(run_component: ComponentRunner) -> None:
    def program() -> None:
        lb = aws.lb.LoadBalancer("web", load_balancer_type="application", subnets=["subnet-a", "subnet-b"])
        StackDashboard("stack-dashboard", _args(load_balancer_arn_suffix=lb.arn_suffix))

    run = run_component(program)
    lb = run.one("aws:lb/loadBalancer:LoadBalancer")
    dashboard = run.one("aws:cloudwatch/dashboard:Dashboard")
    assert lb.urn in dashboard.property_dependencies["dashboardBody"]
    assert lb.outputs["arnSuffix"] in dashboard.inputs["dashboardBody"]


@pytest.mark.parametrize(
    ("overrides", "setting"),
    [
        ({"name": "has space"}, "name"),
        ({"name": "x" * 256}, "name"),
        ({"services": ()}, "services"),
        ({"alarm_arns": ["arn"] * 101}, "alarm_arns"),
        ({"cache": DashboardCache(engine="valkey", node_ids=[])}, "cache.node_ids"),
    ],
)
def test_bad_arguments_are_refused(overrides: dict[str, Any], setting: str) -> None:
    with pytest.raises(InputError) as error:
        _args(**overrides)
    assert error.value.setting == setting
