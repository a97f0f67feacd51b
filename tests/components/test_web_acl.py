"""The web ACL alone: managed rule groups, the rate rule, count vs block, overrides, logging, association.

Every request (CreateWebACL with its rules, PutLoggingConfiguration, the log resource policy) is
checked against botocore's wafv2 model, and rule names against AWS's managed group names.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import botocore.session
import pytest
from botocore.model import StructureShape

from components.aws_context import AwsContext
from components.errors import InputError
from components.web_acl import (
    COMMON_RULE_SET,
    IP_REPUTATION,
    KNOWN_BAD_INPUTS,
    RATE_LIMIT,
    REDACTED_HEADERS,
    RuleOverride,
    WafSpec,
    WebAcl,
    WebAclArgs,
)
from mockcloud.runner import StackRun
from stack.settings import WAF
from tests.aws_validation import (
    create_web_acl_request,
    put_logging_configuration_request,
    statements,
    validate_request,
)
from tests.support import ComponentRunner, config_defaults

CONTEXT = AwsContext(account_id="123456789012", region="eu-west-1")
ALB_ARN = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/dev-alb/0123456789abcdef"
ACL = "aws:wafv2/webAcl:WebAcl"
ASSOCIATION = "aws:wafv2/webAclAssociation:WebAclAssociation"
LOGGING = "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
LOG_POLICY = "aws:cloudwatch/logResourcePolicy:LogResourcePolicy"


SPEC_FIELDS = {f.name for f in dataclasses.fields(WafSpec)}


def waf_spec(**overrides: Any) -> WafSpec:
    """A spec at Pulumi.yaml's defaults (block mode, 2000 per 300 s, all logged), no overrides."""
    return WafSpec(**{**config_defaults(WAF, WafSpec), "overrides": (), **overrides})


def _args(**overrides: Any) -> WebAclArgs:
    """Args with a spec at the defaults; ``overrides`` may name spec fields and Args fields alike."""
    spec = {k: v for k, v in overrides.items() if k in SPEC_FIELDS}
    values: dict[str, Any] = {
        "context": CONTEXT,
        "name": "container-platform-dev",
        "resource_arn": ALB_ARN,
        **{k: v for k, v in overrides.items() if k not in SPEC_FIELDS},
    }
    return WebAclArgs(**values, spec=waf_spec(**spec))


def _waf(run_component: ComponentRunner, *, preview: bool = False, **overrides: Any) -> StackRun:
    return run_component(lambda: WebAcl("edge-waf", _args(**overrides)), preview=preview)


def _rules(run: StackRun) -> dict[str, dict[str, Any]]:
    return {r["Name"]: r for r in create_web_acl_request(run.one(ACL))["Rules"]}


@pytest.mark.parametrize("mode", ["count", "block"])
def test_create_web_acl_is_valid_for_wafv2(run_component: ComponentRunner, mode: str) -> None:
    run = _waf(
        run_component, mode=mode, overrides=[RuleOverride(rule_group=COMMON_RULE_SET, rule="SizeRestrictions_BODY")]
    )
    request = create_web_acl_request(run.one(ACL))
    assert validate_request("wafv2", "CreateWebACL", request) == []
    assert request["Scope"] == "REGIONAL"
    assert request["DefaultAction"] == {"Allow": {}}
    assert request["VisibilityConfig"] == {
        "CloudWatchMetricsEnabled": True,
        "SampledRequestsEnabled": True,
        "MetricName": "container-platform-dev",
    }


def test_the_managed_groups_and_the_rate_rule_in_order(run_component: ComponentRunner) -> None:
    rules = _rules(_waf(run_component))
    order = sorted(rules.values(), key=lambda r: r["Priority"])
    groups = [r["Statement"].get("ManagedRuleGroupStatement", {}).get("Name") for r in order]
    assert groups == [IP_REPUTATION, None, KNOWN_BAD_INPUTS, COMMON_RULE_SET]
    for rule in order:
        statement = rule["Statement"].get("ManagedRuleGroupStatement")
        if statement:
            assert statement["VendorName"] == "AWS"
        assert rule["VisibilityConfig"]["CloudWatchMetricsEnabled"] is True
        assert rule["VisibilityConfig"]["MetricName"] == f"container-platform-dev-{rule['Name']}"
    assert len({r["VisibilityConfig"]["MetricName"] for r in order}) == 4
    assert sorted(r["Priority"] for r in order) == [0, 1, 2, 3]


def test_the_rate_rule_counts_per_client_ip(run_component: ComponentRunner) -> None:
    rate = _rules(_waf(run_component, rate_limit=500, rate_window_seconds=60))["rate-limit-per-ip"]
    assert rate["Statement"]["RateBasedStatement"] == {
        "AggregateKeyType": "IP",
        "Limit": 500,
        "EvaluationWindowSec": 60,
    }
    assert rate["Action"] == {"Block": {"CustomResponse": {"ResponseCode": 429}}}


def test_block_mode_lets_the_groups_act_and_count_mode_only_counts(run_component: ComponentRunner) -> None:
    block = _rules(_waf(run_component, mode="block"))
    count = _rules(_waf(run_component, mode="count"))
    for name in ("aws-ip-reputation", "aws-known-bad-inputs", "aws-common-rule-set"):
        assert block[name]["OverrideAction"] == {"None": {}}
        assert count[name]["OverrideAction"] == {"Count": {}}
        assert "Action" not in block[name]  # a rule group takes an override action, never an action
    assert count["rate-limit-per-ip"]["Action"] == {"Count": {}}
    assert "OverrideAction" not in count["rate-limit-per-ip"]


def test_overrides_become_rule_action_overrides_of_their_group(run_component: ComponentRunner) -> None:
    overrides = [
        RuleOverride(rule_group=COMMON_RULE_SET, rule="SizeRestrictions_BODY"),
        RuleOverride(rule_group=COMMON_RULE_SET, rule="NoUserAgent_HEADER", action="block"),
        RuleOverride(rule_group=KNOWN_BAD_INPUTS, rule="Host_localhost_HEADER", action="allow"),
    ]
    rules = _rules(_waf(run_component, overrides=overrides))
    common = rules["aws-common-rule-set"]["Statement"]["ManagedRuleGroupStatement"]
    assert common["RuleActionOverrides"] == [
        {"Name": "SizeRestrictions_BODY", "ActionToUse": {"Count": {}}},
        {"Name": "NoUserAgent_HEADER", "ActionToUse": {"Block": {}}},
    ]
    bad = rules["aws-known-bad-inputs"]["Statement"]["ManagedRuleGroupStatement"]
    assert bad["RuleActionOverrides"] == [{"Name": "Host_localhost_HEADER", "ActionToUse": {"Allow": {}}}]
    assert "RuleActionOverrides" not in rules["aws-ip-reputation"]["Statement"]["ManagedRuleGroupStatement"]


def test_the_acl_is_associated_with_the_alb(run_component: ComponentRunner) -> None:
    run = _waf(run_component)
    association = run.one(ASSOCIATION)
    acl = run.one(ACL)
    assert association.inputs["resourceArn"] == ALB_ARN
    assert association.inputs["webAclArn"] == acl.outputs["arn"]
    assert acl.outputs["arn"].startswith("arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/container-platform-dev/")


def test_logs_go_to_an_aws_waf_logs_group_with_credentials_redacted(run_component: ComponentRunner) -> None:
    run = _waf(run_component, log_retention_days=90)
    group = run.one(LOG_GROUP)
    assert group.inputs["name"] == "aws-waf-logs-container-platform-dev"
    assert group.inputs["retentionInDays"] == 90
    logging = run.one(LOGGING)
    assert logging.inputs["logDestinationConfigs"] == [group.outputs["arn"]]
    request = put_logging_configuration_request(logging)
    assert validate_request("wafv2", "PutLoggingConfiguration", request) == []
    redacted = request["LoggingConfiguration"]["RedactedFields"]
    assert redacted == [{"SingleHeader": {"Name": h}} for h in ("authorization", "cookie")]
    assert REDACTED_HEADERS == ("authorization", "cookie")
    assert "LoggingFilter" not in request["LoggingConfiguration"]


def test_logs_can_keep_only_matched_requests(run_component: ComponentRunner) -> None:
    request = put_logging_configuration_request(_waf(run_component, log_filter="matched").one(LOGGING))
    assert validate_request("wafv2", "PutLoggingConfiguration", request) == []
    assert request["LoggingConfiguration"]["LoggingFilter"] == {
        "DefaultBehavior": "DROP",
        "Filters": [
            {
                "Behavior": "KEEP",
                "Requirement": "MEETS_ANY",
                "Conditions": [{"ActionCondition": {"Action": "BLOCK"}}, {"ActionCondition": {"Action": "COUNT"}}],
            }
        ],
    }


def test_log_delivery_policy_is_scoped_to_the_acls_group_and_written_first(run_component: ComponentRunner) -> None:
    run = _waf(run_component)
    policy = run.one(LOG_POLICY)
    assert (
        validate_request(
            "logs",
            "PutResourcePolicy",
            {"policyName": policy.inputs["policyName"], "policyDocument": policy.inputs["policyDocument"]},
        )
        == []
    )
    (statement,) = statements(policy.inputs["policyDocument"])
    assert statement["Principal"] == {"Service": "delivery.logs.amazonaws.com"}
    assert statement["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert statement["Resource"] == (
        "arn:aws:logs:eu-west-1:123456789012:log-group:aws-waf-logs-container-platform-dev:log-stream:*"
    )
    assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": "123456789012"}
    assert policy.urn in run.one(LOGGING).dependencies
    assert len(json.dumps(json.loads(policy.inputs["policyDocument"]))) < 5120  # CloudWatch's policy size limit


def test_at_preview_rules_are_known(run_component: ComponentRunner) -> None:
    """The rules are plain values: the plan shows them and policies can read them before `up`."""
    run = _waf(run_component, preview=True)
    assert len(run.one(ACL).inputs["rules"]) == 4


@pytest.mark.parametrize(
    ("overrides", "setting"),
    [
        ({"rate_limit": RATE_LIMIT[0] - 1}, "rate_limit"),
        ({"rate_limit": RATE_LIMIT[1] + 1}, "rate_limit"),
        ({"rate_limit": True}, "rate_limit"),
        ({"rate_window_seconds": 30}, "rate_window_seconds"),
        ({"mode": "observe"}, "mode"),
        ({"name": "has space"}, "name"),
        ({"name": ""}, "name"),
        ({"log_filter": "blocked"}, "log_filter"),
        (
            {"overrides": [RuleOverride(rule_group="AWSManagedRulesBotControlRuleSet", rule="x")]},
            "overrides[0].rule_group",
        ),
        ({"overrides": [RuleOverride(rule_group=COMMON_RULE_SET, rule="bad name")]}, "overrides[0].rule"),
        ({"overrides": [RuleOverride(rule_group=COMMON_RULE_SET, rule="x", action="captcha")]}, "overrides[0].action"),  # type: ignore[arg-type]
        (
            {
                "overrides": [
                    RuleOverride(rule_group=COMMON_RULE_SET, rule="x"),
                    RuleOverride(rule_group=COMMON_RULE_SET, rule="x"),
                ]
            },
            "overrides[1]",
        ),
    ],
)
def test_bad_input_is_refused_naming_the_setting(overrides: dict[str, Any], setting: str) -> None:
    with pytest.raises(InputError) as error:
        _args(**overrides)
    assert error.value.setting == setting


def test_rate_limit_bounds_are_wafs() -> None:
    """The bounds come from botocore's wafv2 model (RateBasedStatement.Limit)."""
    statement = botocore.session.get_session().get_service_model("wafv2").shape_for("RateBasedStatement")
    assert isinstance(statement, StructureShape)
    limit = statement.members["Limit"]
    assert (limit.metadata["min"], limit.metadata["max"]) == RATE_LIMIT
    _args(rate_limit=RATE_LIMIT[0])
    _args(rate_limit=RATE_LIMIT[1])


def test_the_waf_log_group_takes_the_stacks_logs_key(run_component: ComponentRunner) -> None:
    key = "arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-0000-0000-00000000000a"
    assert _waf(run_component, log_kms_key_arn=key).one(LOG_GROUP).inputs["kmsKeyId"] == key
    assert "kmsKeyId" not in _waf(run_component).one(LOG_GROUP).inputs
