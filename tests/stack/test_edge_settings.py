"""Edge settings through config: bad input is a named error before anything is registered; the
alternatives (an existing certificate, a zone by ID, WAF or alarms off) build what they say."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mockcloud.runner import StackRun, run_stack
from stack import exports
from tests.support import assert_config_rejected

EXISTING = "arn:aws:acm:eu-west-1:123456789012:certificate/0f0e0d0c-1111-2222-3333-444455556666"
TOPIC = "arn:aws:sns:eu-west-1:123456789012:platform-alarms"

REJECTED: list[tuple[str, dict[str, Any], str, str]] = [
    # The zone and the domain.
    ("prod", {"domainName": "catalog.example.net"}, "domainName", "a name in the hosted zone example.com"),
    ("dev", {"hostedZoneName": "example.com"}, "domainName", "a domain in the hosted zone example.com"),
    ("dev", {"domainName": "Not A Domain"}, "domainName", "a lowercase DNS name"),
    ("dev", {"domainName": "catalog"}, "domainName", "a lowercase DNS name"),
    ("prod", {"hostedZoneName": "nosuch.org", "domainName": "catalog.nosuch.org"}, "hostedZoneName",
     "a public hosted zone of this account (Route 53: "),
    ("prod", {"hostedZoneName": "internal.example.com", "domainName": "catalog.internal.example.com"},
     "hostedZoneName", "a public hosted zone (ACM and clients resolve public DNS)"),
    ("prod", {"hostedZoneId": "Z0EXAMPLE000000000001"}, "hostedZoneId",
     "empty when the zone is looked up by hostedZoneName"),
    ("dev", {"hostedZoneId": "example.com", "domainName": "catalog.example.com"}, "hostedZoneId",
     "a Route 53 hosted zone ID"),
    # The certificate.
    ("prod", {"certificateArn": EXISTING}, "certificateArn", "none when hostedZoneName is given"),
    ("dev", {"certificateArn": "arn:aws:iam::123:cert"}, "certificateArn", "an ACM certificate ARN"),
    ("dev", {"certificateArn": EXISTING.replace("eu-west-1", "us-east-1")}, "certificateArn",
     "in this stack's region eu-west-1"),
    ("dev", {"certificateKeyAlgorithm": "RSA_1024"}, "certificateKeyAlgorithm", "one of RSA_2048, EC_prime256v1"),
    ("prod", {"hostedZoneName": ""}, "hostedZoneName", "prod serves HTTPS only"),
    ("prod", {"nlbHostName": "Static"}, "nlbHostName", "one lowercase DNS label"),
    ("prod", {"nlbHostName": "api"}, "nlbHostName", "a label other than the services' own (api, ops)"),
    # The WAF.
    ("dev", {"wafRateLimit": 9}, "wafRateLimit", "a whole number from 10 to 2000000000"),
    ("dev", {"wafRateLimit": 2_000_000_001}, "wafRateLimit", "a whole number from 10 to 2000000000"),
    ("dev", {"wafRateWindowSeconds": 30}, "wafRateWindowSeconds", "one of 60, 120, 300, 600"),
    ("dev", {"wafMode": "observe"}, "wafMode", "one of count, block"),
    ("dev", {"wafLogFilter": "blocked"}, "wafLogFilter", "one of all, matched"),
    ("dev", {"wafRuleOverrides": ["AWSManagedRulesCommonRuleSet"]}, "wafRuleOverrides", "'<RuleGroup>/<Rule>'"),
    ("dev", {"wafRuleOverrides": ["AWSManagedRulesBotControlRuleSet/x"]}, "wafRuleOverrides",
     "one of AWSManagedRulesAmazonIpReputationList"),
    ("dev", {"wafRuleOverrides": ["AWSManagedRulesCommonRuleSet/x=captcha"]}, "wafRuleOverrides",
     "one of count, block, allow"),
    ("prod", {"wafEnabled": False}, "wafEnabled", "true with environment=prod"),
    # The alarms.
    ("dev", {"alarmP99LatencyMs": 5}, "alarmP99LatencyMs", "a whole number from 10 to 4000000 ms"),
    ("dev", {"alarmTarget5xxPercent": 0}, "alarmTarget5xxPercent", "a percentage from 0.1 to 100"),
    ("dev", {"alarmElb5xxPercent": 101}, "alarmElb5xxPercent", "a percentage from 0.1 to 100"),
    ("dev", {"alarmEvaluationMinutes": 1441}, "alarmEvaluationMinutes", "a whole number from 1 to 1440 minutes"),
    ("dev", {"alarmUnhealthyHosts": 0}, "alarmUnhealthyHosts", "a whole number from 1 to 1000 targets"),
    ("dev", {"alarmMinRequestsPerMinute": 0}, "alarmMinRequestsPerMinute", "from 1 to 1000000"),
    ("dev", {"alarmTaskShortfallMinutes": 0}, "alarmTaskShortfallMinutes", "from 1 to 1440"),
    # Replicated images.
    ("prod", {"ecrReplicaKmsKeys": ["eu-central-1"]}, "ecrReplicaKmsKeys", "'<region>=<KMS key ARN>'"),
    ("prod", {"ecrReplicaKmsKeys": ["eu-central-1=arn:aws:kms:eu-central-1:123456789012:key/abc"]},
     "ecrReplicaKmsKeys", "empty with kms_key=customer-managed"),
]  # fmt: skip


@pytest.mark.parametrize(("stack", "overrides", "key", "allowed"), REJECTED)
def test_bad_edge_config_is_rejected_before_anything_is_registered(
    stack: str, overrides: dict[str, Any], key: str, allowed: str
) -> None:
    assert_config_rejected(stack, overrides, key, allowed)


def test_an_existing_certificate_is_used_as_given_and_nothing_is_requested() -> None:
    run = run_stack("dev", overrides={"domainName": "catalog.example.com", "certificateArn": EXISTING})
    https = run.one("aws:lb/listener:Listener", "dev-alb-https")
    assert https.inputs["certificateArn"] == EXISTING
    assert https.property_dependencies.get("certificateArn", []) == []
    assert run.of_type("aws:acm/certificate:Certificate") == []
    assert run.of_type("aws:route53/record:Record") == [], "without a zone the DNS records are the user's"
    assert run.outputs[exports.CERTIFICATE_ARN] == EXISTING
    assert run.outputs[exports.SERVICE_URLS]["ops"] == "https://ops.catalog.example.com/ops/"


def test_a_zone_by_id_gets_the_certificate_records_and_aliases() -> None:
    run = run_stack(
        "dev", overrides={"hostedZoneId": "Z0PLATFORM00000000002", "domainName": "shop.platform.example.org"}
    )
    records = run.of_type("aws:route53/record:Record")
    assert {r.inputs["zoneId"] for r in records} == {"Z0PLATFORM00000000002"}
    assert {r.inputs["name"] for r in records if r.inputs.get("aliases")} == {
        "api.shop.platform.example.org",
        "ops.shop.platform.example.org",
    }, "dev has no NLB: no static-IP name"
    assert run.one("aws:acm/certificate:Certificate").inputs["subjectAlternativeNames"] == [
        "ops.shop.platform.example.org"
    ]
    assert run.one("aws:lb/listener:Listener", "dev-alb-https").inputs["sslPolicy"]


def test_the_key_algorithm_reaches_the_certificate() -> None:
    run = run_stack("prod", overrides={"certificateKeyAlgorithm": "EC_prime256v1"})
    assert run.one("aws:acm/certificate:Certificate").inputs["keyAlgorithm"] == "EC_prime256v1"


def test_without_the_nlb_host_name_the_nlb_gets_no_record() -> None:
    run = run_stack("prod", overrides={"nlbHostName": ""})
    aliases = {r.inputs["name"] for r in run.of_type("aws:route53/record:Record") if r.inputs.get("aliases")}
    assert aliases == {"api.catalog.example.com", "ops.catalog.example.com"}


def test_waf_off_in_dev_creates_no_web_acl_and_no_waf_row() -> None:
    run = run_stack("dev", overrides={"wafEnabled": False})
    assert run.of_type("aws:wafv2/webAcl:WebAcl") == []
    assert run.outputs[exports.WEB_ACL_ARN] is None
    body = json.loads(run.one("aws:cloudwatch/dashboard:Dashboard").inputs["dashboardBody"])
    assert not [w for w in body["widgets"] if w["properties"].get("title", "").startswith("WAF")]


def test_rule_overrides_and_the_matched_log_filter_reach_the_web_acl() -> None:
    overrides = [
        "AWSManagedRulesCommonRuleSet/SizeRestrictions_BODY",
        "AWSManagedRulesKnownBadInputsRuleSet/Host_localhost_HEADER=block",
    ]
    run = run_stack(
        "dev",
        overrides={
            "wafRuleOverrides": overrides,
            "wafLogFilter": "matched",
            "wafRateLimit": 500,
            "wafRateWindowSeconds": 60,
        },
    )
    rules = {r["name"]: r for r in run.one("aws:wafv2/webAcl:WebAcl").inputs["rules"]}

    def actions(rule: str) -> list[dict[str, Any]]:
        return list(rules[rule]["statement"]["managedRuleGroupStatement"]["ruleActionOverrides"])

    assert actions("aws-common-rule-set") == [{"name": "SizeRestrictions_BODY", "actionToUse": {"count": {}}}]
    assert actions("aws-known-bad-inputs") == [{"name": "Host_localhost_HEADER", "actionToUse": {"block": {}}}]
    rate = rules["rate-limit-per-ip"]["statement"]["rateBasedStatement"]
    assert (rate["limit"], rate["evaluationWindowSec"]) == (500, 60)
    logging = run.one("aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration").inputs
    assert logging["loggingFilter"]["defaultBehavior"] == "DROP"


def _edge_alarm_inputs(run: StackRun) -> list[dict[str, Any]]:
    return [a.inputs for a in run.of_type("aws:cloudwatch/metricAlarm:MetricAlarm") if a.name.startswith("dev-alarms-")]


def test_alarms_notify_the_alarm_topic_when_set_and_thresholds_come_from_config() -> None:
    run = run_stack("dev", overrides={"alarmTopicArn": TOPIC, "alarmP99LatencyMs": 750, "alarmEvaluationMinutes": 5})
    alarms = _edge_alarm_inputs(run)
    assert len(alarms) == 9
    for alarm in alarms:
        assert alarm["alarmActions"] == alarm["okActions"] == [TOPIC]
        assert alarm["evaluationPeriods"] == (10 if alarm["name"].endswith("task-shortfall") else 5)
    (p99,) = [a for a in alarms if a["name"].endswith("api-latency-p99")]
    assert p99["threshold"] == 0.75


def test_without_container_insights_there_is_no_task_shortfall_alarm() -> None:
    names = {a["name"] for a in _edge_alarm_inputs(run_stack("dev", overrides={"containerInsights": "disabled"}))}
    assert names
    assert not [n for n in names if n.endswith("task-shortfall")]


def test_deployment_alarms_off_leaves_the_circuit_breaker_alone() -> None:
    run = run_stack("dev", overrides={"deploymentAlarms": False, "dashboard": False})
    for service in run.of_type("aws:ecs/service:Service"):
        assert service.inputs.get("alarms") is None
        assert service.inputs["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
    assert _edge_alarm_inputs(run), "the alarms still exist and notify"
    assert run.of_type("aws:cloudwatch/dashboard:Dashboard") == []
    assert run.outputs[exports.DASHBOARD_NAME] is None
