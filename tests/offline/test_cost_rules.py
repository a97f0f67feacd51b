"""Estimators of the types no committed stack creates yet (WAF, Route 53, ACM, dashboards, composite and
high-resolution alarms, replicated secrets, flow logs to S3), on hand-made registrations."""

from __future__ import annotations

from typing import Any

import pytest
from google.protobuf import struct_pb2

from mockcloud.monitor import CapturedResource
from mockcloud.runner import StackConfig, StackRun
from offline.cost.estimate import Estimate, estimate
from offline.cost.table import PriceTable, load_table

REGION = "eu-west-1"


def _resource(type_: str, name: str, inputs: dict[str, Any], depends_on: tuple[str, ...] = ()) -> CapturedResource:
    return CapturedResource(
        urn=f"urn:pulumi:t::p::{type_}::{name}",
        type=type_,
        name=name,
        parent="",
        custom=True,
        provider="",
        dependencies=[f"urn:pulumi:t::p::{d}" for d in depends_on],
        property_dependencies={},
        inputs=inputs,
        wire_inputs=struct_pb2.Struct(),
        options={},
    )


def _estimate(*resources: CapturedResource) -> Estimate:
    config = StackConfig(values={"aws:region": REGION}, secret_keys=frozenset())
    return estimate(StackRun(project="p", stack="t", preview=False, config=config, resources=list(resources)))


@pytest.fixture(scope="module")
def table() -> PriceTable:
    return load_table(REGION)


def _price(table: PriceTable, key: str) -> float:
    value = table.lookup(key, None)
    assert value is not None, key
    return value


MANAGED = {"managedRuleGroupStatement": {"vendorName": "AWS", "name": "AWSManagedRulesCommonRuleSet"}}
BOT_CONTROL = {"managedRuleGroupStatement": {"vendorName": "AWS", "name": "AWSManagedRulesBotControlRuleSet"}}


def test_a_web_acl_is_billed_per_acl_rule_and_request(table: PriceTable) -> None:
    acl = _resource(
        "aws:wafv2/webAcl:WebAcl",
        "acl",
        {
            "rules": [
                {"name": "common", "statement": MANAGED},
                {"name": "rate", "statement": {"rateBasedStatement": {}}},
            ]
        },
    )
    result = _estimate(acl)
    by_price = {line.price: line for line in result.lines}
    assert by_price["waf.web_acl_month"].quantity == 1
    assert by_price["waf.rule_month"].quantity == 2, "a managed rule group counts as one rule"
    assert by_price["waf.requests_million"].quantity == 1, "the table's 1M requests a month"
    assert result.total_usd == pytest.approx(
        _price(table, "waf.web_acl_month") + 2 * _price(table, "waf.rule_month") + _price(table, "waf.requests_million")
    )
    paid = _estimate(
        _resource("aws:wafv2/webAcl:WebAcl", "acl", {"rules": [{"name": "bots", "statement": BOT_CONTROL}]})
    )
    assert "waf.bot_control_month" in {line.price for line in paid.lines}, "Bot Control has a subscription fee"


def test_waf_logs_to_cloudwatch_are_vended_logs_on_their_group() -> None:
    group = _resource("aws:cloudwatch/logGroup:LogGroup", "aws-waf-logs-x", {"retentionInDays": 30})
    logging = _resource(
        "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration",
        "logging",
        {"logDestinationConfigs": ["arn:aws:logs:eu-west-1:1:log-group:aws-waf-logs-x"]},
        depends_on=(f"{group.type}::{group.name}",),
    )
    result = _estimate(group, logging)
    assert [line.price for line in result.lines if line.name == "logging"] == []
    ingest = next(line for line in result.lines if line.name == group.name and line.price.endswith("ingest_gb"))
    assert ingest.price == "logs.vended_ingest_gb"
    assert ingest.assumptions == ("logs.waf_gb_per_day",)


def test_alias_records_and_public_certificates_are_free_hosted_zones_are_not(table: PriceTable) -> None:
    alias = _resource("aws:route53/record:Record", "api", {"type": "A", "aliases": [{"name": "alb.example"}]})
    validation = _resource("aws:route53/record:Record", "validation", {"type": "CNAME", "records": ["x"]})
    zone = _resource("aws:route53/zone:Zone", "zone", {"name": "example.com"})
    public = _resource("aws:acm/certificate:Certificate", "public", {"domainName": "example.com"})
    private = _resource(
        "aws:acm/certificate:Certificate", "private", {"domainName": "x.internal", "certificateAuthorityArn": "arn:pca"}
    )
    result = _estimate(alias, validation, zone, public, private)
    assert [line.price for line in result.lines if line.name in ("api", "public")] == []
    assert {line.name: line.price for line in result.lines} == {
        "validation": "route53.queries_million",
        "zone": "route53.hosted_zone_month",
        "private": "acm.private_certificate",
    }
    assert next(line for line in result.lines if line.name == "zone").monthly_usd == _price(
        table, "route53.hosted_zone_month"
    )


def test_alarms_by_kind() -> None:
    standard = _resource("aws:cloudwatch/metricAlarm:MetricAlarm", "standard", {"period": 300})
    high_res = _resource("aws:cloudwatch/metricAlarm:MetricAlarm", "high-res", {"period": 10})
    math = _resource(
        "aws:cloudwatch/metricAlarm:MetricAlarm",
        "math",
        {
            "metricQueries": [
                {"id": "a", "metric": {"metricName": "HTTPCode_Target_5XX_Count", "period": 60}},
                {"id": "b", "metric": {"metricName": "RequestCount", "period": 60}},
                {"id": "rate", "expression": "a / b", "returnData": True},
            ]
        },
    )
    composite = _resource("aws:cloudwatch/compositeAlarm:CompositeAlarm", "composite", {"alarmRule": "ALARM(a)"})
    dashboard = _resource("aws:cloudwatch/dashboard:Dashboard", "board", {"dashboardBody": "{}"})
    result = _estimate(standard, high_res, math, composite, dashboard)
    charged = {line.name: (line.price, line.quantity) for line in result.lines}
    assert charged == {
        "standard": ("cloudwatch.alarm_standard_month", 1),
        "high-res": ("cloudwatch.alarm_high_resolution_month", 1),
        "math": ("cloudwatch.alarm_standard_month", 2),
        "composite": ("cloudwatch.alarm_composite_month", 1),
        "board": ("cloudwatch.dashboard_month", 1),
    }, "a metric-math alarm is billed per metric it reads; under 60 s is high resolution"


def test_a_replicated_secret_is_billed_per_replica(table: PriceTable) -> None:
    secret = _resource("aws:secretsmanager/secret:Secret", "s", {"replicas": [{"region": "eu-central-1"}]})
    [stored] = [line for line in _estimate(secret).lines if line.price == "secretsmanager.secret_month"]
    assert stored.quantity == 2
    assert stored.monthly_usd == pytest.approx(2 * _price(table, "secretsmanager.secret_month"))


def test_flow_logs_to_s3_are_vended_logs_on_the_flow_log() -> None:
    flow = _resource("aws:ec2/flowLog:FlowLog", "flow", {"logDestinationType": "s3", "trafficType": "ALL"})
    [line] = _estimate(flow).lines
    assert line.price == "logs.vended_s3_gb"
    assert line.assumptions == ("logs.flow_gb_per_day",)


def test_standard_parameters_are_free_advanced_ones_are_not() -> None:
    standard = _resource("aws:ssm/parameter:Parameter", "standard", {"type": "String", "value": "x"})
    advanced = _resource("aws:ssm/parameter:Parameter", "advanced", {"type": "String", "tier": "Advanced"})
    assert [line.name for line in _estimate(standard, advanced).lines] == ["advanced"]


def test_a_type_the_table_does_not_know_is_reported() -> None:
    unknown = _resource("aws:sqs/queue:Queue", "queue", {})
    result = _estimate(unknown)
    assert dict(result.unknown_types) == {"aws:sqs/queue:Queue": 1}
    assert result.to_json()["complete"] is False
