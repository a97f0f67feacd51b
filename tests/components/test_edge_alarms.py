"""The edge alarms alone, and a Fargate service rolling back on them (ECS deployment alarms).

Every alarm is checked as the PutMetricAlarm request it becomes against botocore's cloudwatch model,
and the service's deployment configuration as CreateService's against the ecs model.
"""

from __future__ import annotations

from typing import Any

import pytest

from components.edge_alarms import (
    ROLLBACK_ALARMS,
    SERVICE_ALARMS,
    AlarmThresholds,
    EdgeAlarms,
    EdgeAlarmsArgs,
    MonitoredService,
)
from components.errors import InputError
from components.fargate_service import FargateService
from mockcloud.runner import StackRun
from stack.settings import ALARMS
from tests.aws_validation import create_service_request, put_metric_alarm_request, validate_request
from tests.components.test_fargate_service import _args as service_args
from tests.support import ComponentRunner, config_defaults

LB_SUFFIX = "app/dev-alb/0123456789abcdef"
TOPIC = "arn:aws:sns:eu-west-1:123456789012:platform-alarms"
SERVICES = (
    MonitoredService(key="api", cluster_name="platform-dev", service_name="api",
                     target_group_arn_suffix="targetgroup/dev-api/1111111111111111"),
    MonitoredService(key="ops", cluster_name="platform-dev", service_name="ops",
                     target_group_arn_suffix="targetgroup/dev-ops/2222222222222222"),
)  # fmt: skip
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"


def _thresholds(**overrides: Any) -> AlarmThresholds:
    """Thresholds at Pulumi.yaml's defaults (the one home of defaults) plus ``overrides``."""
    return AlarmThresholds(**{**config_defaults(ALARMS, AlarmThresholds), **overrides})


def _args(**overrides: Any) -> EdgeAlarmsArgs:
    values: dict[str, Any] = {
        "name_prefix": "container-platform-dev",
        "load_balancer_arn_suffix": LB_SUFFIX,
        "services": SERVICES,
        "thresholds": _thresholds(),
        "alarm_topic_arn": TOPIC,
        **overrides,
    }
    return EdgeAlarmsArgs(**values)


def _alarms(run_component: ComponentRunner, **overrides: Any) -> StackRun:
    return run_component(lambda: EdgeAlarms("edge-alarms", _args(**overrides)))


def _by_name(run: StackRun) -> dict[str, dict[str, Any]]:
    return {a.inputs["name"]: put_metric_alarm_request(a) for a in run.of_type(ALARM)}


def test_every_alarm_is_a_valid_put_metric_alarm(run_component: ComponentRunner) -> None:
    alarms = _by_name(_alarms(run_component))
    assert len(alarms) == 1 + len(SERVICES) * len(SERVICE_ALARMS)
    for name, request in alarms.items():
        assert validate_request("cloudwatch", "PutMetricAlarm", request) == [], name
        assert request["AlarmActions"] == request["OKActions"] == [TOPIC]
        assert request["TreatMissingData"] == "notBreaching"
        assert request["AlarmDescription"]


def test_target_5xx_share_is_metric_math_over_the_target_group(run_component: ComponentRunner) -> None:
    alarm = _by_name(_alarms(run_component))["container-platform-dev-api-target-5xx"]
    metrics = {m["Id"]: m for m in alarm["Metrics"]}
    assert metrics["share"]["Expression"] == "IF(requests >= 20, 100 * FILL(errors, 0) / requests, 0)"
    assert metrics["share"]["ReturnData"] is True
    for key, metric_name in (("errors", "HTTPCode_Target_5XX_Count"), ("requests", "RequestCount")):
        stat = metrics[key]["MetricStat"]
        assert metrics[key]["ReturnData"] is False
        assert stat["Metric"]["Namespace"] == "AWS/ApplicationELB"
        assert stat["Metric"]["MetricName"] == metric_name
        assert {d["Name"]: d["Value"] for d in stat["Metric"]["Dimensions"]} == {
            "LoadBalancer": LB_SUFFIX,
            "TargetGroup": "targetgroup/dev-api/1111111111111111",
        }
        assert (stat["Period"], stat["Stat"]) == (60, "Sum")
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (5.0, "GreaterThanThreshold")
    assert alarm["EvaluationPeriods"] == alarm["DatapointsToAlarm"] == 3
    assert "MetricName" not in alarm
    assert "Period" not in alarm


def test_elb_5xx_is_one_alarm_on_the_load_balancer(run_component: ComponentRunner) -> None:
    alarms = _by_name(_alarms(run_component))
    elb = alarms["container-platform-dev-alb-elb-5xx"]
    errors = next(m for m in elb["Metrics"] if m["Id"] == "errors")["MetricStat"]["Metric"]
    assert errors["MetricName"] == "HTTPCode_ELB_5XX_Count"
    assert errors["Dimensions"] == [{"Name": "LoadBalancer", "Value": LB_SUFFIX}]
    assert sum(1 for n in alarms if n.endswith("elb-5xx")) == 1


def test_latency_health_and_capacity_alarms(run_component: ComponentRunner) -> None:
    limits = _thresholds(p99_latency_ms=750, unhealthy_hosts=2, evaluation_minutes=5, task_shortfall_minutes=15)
    alarms = _by_name(_alarms(run_component, thresholds=limits))
    latency = alarms["container-platform-dev-ops-latency-p99"]
    assert (latency["MetricName"], latency["ExtendedStatistic"], latency["Threshold"]) == (
        "TargetResponseTime", "p99", 0.75,
    )  # fmt: skip
    assert "Statistic" not in latency
    assert latency["EvaluationPeriods"] == 5
    hosts = alarms["container-platform-dev-ops-unhealthy-hosts"]
    assert (hosts["MetricName"], hosts["Statistic"], hosts["Threshold"], hosts["ComparisonOperator"]) == (
        "UnHealthyHostCount", "Maximum", 2.0, "GreaterThanOrEqualToThreshold",
    )  # fmt: skip
    shortfall = alarms["container-platform-dev-ops-task-shortfall"]
    metrics = {m["Id"]: m for m in shortfall["Metrics"]}
    assert metrics["shortfall"]["Expression"] == "desired - FILL(running, 0)"
    for key, metric_name in (("desired", "DesiredTaskCount"), ("running", "RunningTaskCount")):
        metric = metrics[key]["MetricStat"]["Metric"]
        assert (metric["Namespace"], metric["MetricName"]) == ("ECS/ContainerInsights", metric_name)
        assert {d["Name"]: d["Value"] for d in metric["Dimensions"]} == {
            "ClusterName": "platform-dev",
            "ServiceName": "ops",
        }
    assert (shortfall["Threshold"], shortfall["EvaluationPeriods"]) == (0.0, 15)


def test_without_container_insights_there_is_no_task_shortfall_alarm(run_component: ComponentRunner) -> None:
    alarms = _by_name(_alarms(run_component, container_insights=False))
    assert not [n for n in alarms if n.endswith("task-shortfall")]


def test_without_a_topic_alarms_have_no_actions(run_component: ComponentRunner) -> None:
    for request in _by_name(_alarms(run_component, alarm_topic_arn=None)).values():
        assert request.get("AlarmActions", []) == request.get("OKActions", []) == []


def test_a_service_rolls_back_on_its_deployment_alarms(run_component: ComponentRunner) -> None:
    captured: dict[str, EdgeAlarms] = {}

    def program() -> None:
        alarms = captured["alarms"] = EdgeAlarms("edge-alarms", _args())
        FargateService("api", service_args(deployment_alarm_names=alarms.deployment_alarm_names["api"]))

    run = run_component(program)
    service = run.one("aws:ecs/service:Service")
    request = create_service_request(service)
    assert validate_request("ecs", "CreateService", request) == []
    assert request["deploymentConfiguration"]["alarms"] == {
        "alarmNames": [f"container-platform-dev-api-{kind}" for kind in ROLLBACK_ALARMS],
        "enable": True,
        "rollback": True,
    }
    assert request["deploymentConfiguration"]["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
    assert validate_request("ecs", "UpdateService", {"service": "api", "cluster": "platform-dev", **{
        "deploymentConfiguration": request["deploymentConfiguration"]}}) == []  # fmt: skip
    # The service waits for its alarms (they are what it names).
    rollback_alarms = [
        a for a in run.of_type(ALARM) if a.inputs["name"] in request["deploymentConfiguration"]["alarms"]["alarmNames"]
    ]
    assert {a.urn for a in rollback_alarms} <= set(service.property_dependencies["alarms"])
    assert captured["alarms"].alarm_names["api"]["target-5xx"] == "container-platform-dev-api-target-5xx"


def test_a_service_without_deployment_alarms_has_only_the_circuit_breaker(run_component: ComponentRunner) -> None:
    run = run_component(lambda: FargateService("api", service_args()))
    service = run.one("aws:ecs/service:Service")
    assert "alarms" not in service.inputs
    assert create_service_request(service)["deploymentConfiguration"]["deploymentCircuitBreaker"]["rollback"] is True


def test_deployment_alarm_names_are_known_at_preview(run_component: ComponentRunner) -> None:
    def program() -> None:
        alarms = EdgeAlarms("edge-alarms", _args())
        FargateService("api", service_args(deployment_alarm_names=alarms.deployment_alarm_names["api"]))

    run = run_component(program, preview=True)
    alarms = run.one("aws:ecs/service:Service").inputs["alarms"]
    assert alarms["alarmNames"] == [f"container-platform-dev-api-{kind}" for kind in ROLLBACK_ALARMS]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("target_5xx_percent", 0.0),
        ("target_5xx_percent", 101.0),
        ("target_5xx_percent", float("nan")),
        ("elb_5xx_percent", True),
        ("min_requests", 0),
        ("p99_latency_ms", 5),
        ("p99_latency_ms", 4_000_001),
        ("unhealthy_hosts", 0),
        ("evaluation_minutes", 0),
        ("evaluation_minutes", 1441),
        ("task_shortfall_minutes", 2000),
    ],
)
def test_thresholds_out_of_range_are_refused(field: str, value: Any) -> None:
    with pytest.raises(InputError) as error:
        _thresholds(**{field: value})
    assert error.value.setting == field


@pytest.mark.parametrize(
    ("overrides", "setting"),
    [
        ({"name_prefix": "has space"}, "name_prefix"),
        ({"name_prefix": "x" * 240}, "name_prefix"),
        ({"services": ()}, "services"),
        ({"services": (SERVICES[0], SERVICES[0])}, "services[].key"),
        ({"alarm_topic_arn": "arn:aws:sqs:eu-west-1:123456789012:q"}, "alarm_topic_arn"),
    ],
)
def test_bad_arguments_are_refused(overrides: dict[str, Any], setting: str) -> None:
    with pytest.raises(InputError) as error:
        _args(**overrides)
    assert error.value.setting == setting


def test_the_stack_defaults_are_the_documented_ones() -> None:
    limits = _thresholds()
    assert (limits.target_5xx_percent, limits.elb_5xx_percent, limits.min_requests) == (5.0, 5.0, 20)
    assert (limits.p99_latency_ms, limits.unhealthy_hosts) == (1000, 1)
    assert (limits.evaluation_minutes, limits.task_shortfall_minutes) == (3, 10)
