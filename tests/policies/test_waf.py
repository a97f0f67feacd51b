"""alb-waf-association through the Analyzer protocol: compliant and violating stacks, update and preview."""

from __future__ import annotations

import json
from typing import Any

import pulumi_aws as aws
import pytest

from components.aws_context import AwsContext
from components.web_acl import KNOWN_BAD_INPUTS, WebAcl, WebAclArgs
from offline.policy.config import config_file, parse_config, reconcile
from offline.policy.pack import PolicyPackProcess
from tests.components.test_web_acl import waf_spec
from tests.policies.builders import alb, https_listener, redirect_listener, target_group
from tests.policies.support import Analyze, flagged, messages, unknown_notes
from tests.support import ComponentRunner

POLICY = "alb-waf-association"
CONTEXT = AwsContext(account_id="123456789012", region="eu-west-1")


def _served(name: str, **overrides: object) -> aws.lb.LoadBalancer:
    """An ALB with its listeners (so only the WAF question is open)."""
    lb = alb(name, **overrides)
    https_listener(f"{name}-https", lb, target_group(f"{name}-tg"))
    redirect_listener(f"{name}-http", lb)
    return lb


def _stack() -> None:
    protected = _served("protected")
    WebAcl("waf", WebAclArgs(context=CONTEXT, name="protected", resource_arn=protected.arn, spec=waf_spec()))
    _served("exposed")
    _served("internal", internal=True)
    aws.lb.LoadBalancer("static-ips", load_balancer_type="network", subnets=["subnet-a", "subnet-b"])


@pytest.mark.parametrize("preview", [False, True], ids=["update", "preview"])
def test_only_the_internet_facing_alb_without_a_web_acl_is_flagged(
    run_component: ComponentRunner, analyze: Analyze, preview: bool
) -> None:
    # At preview the ALB's ARN is unknown: the association is matched by its property dependency.
    report = analyze(run_component(_stack, preview=preview))
    assert flagged(report, POLICY) == {"exposed"}
    (message,) = messages(report, POLICY, "exposed")
    assert "no WAFv2 web ACL association" in message
    assert [n for n in unknown_notes(report) if n.startswith(POLICY)] == []
    assert report.levels[POLICY] == "mandatory"
    assert {v.level for v in report.for_policy(POLICY)} == {"mandatory"}


def test_an_association_by_literal_arn_counts(run_component: ComponentRunner, analyze: Analyze) -> None:
    """An association written with a typed-in ARN (say, from another stack) matches the known ARN."""
    arn = run_component(lambda: alb("shared")).one("aws:lb/loadBalancer:LoadBalancer").outputs["arn"]

    def program() -> None:
        _served("shared")
        acl = aws.wafv2.WebAcl(
            "acl",
            scope="REGIONAL",
            default_action={"allow": {}},
            visibility_config={
                "cloudwatch_metrics_enabled": True,
                "metric_name": "acl",
                "sampled_requests_enabled": True,
            },
        )
        aws.wafv2.WebAclAssociation("by-arn", resource_arn=arn, web_acl_arn=acl.arn)

    assert flagged(analyze(run_component(program)), POLICY) == set()


def test_an_association_with_another_alb_does_not_protect_this_one(
    run_component: ComponentRunner, analyze: Analyze
) -> None:
    def program() -> None:
        first = _served("first")
        _served("second")
        WebAcl("waf", WebAclArgs(context=CONTEXT, name="first", resource_arn=first.arn,
                                 spec=waf_spec(mode="count", rate_limit=100)))  # fmt: skip

    assert flagged(analyze(run_component(program)), POLICY) == {"second"}


def test_advisory_in_dev(run_component: ComponentRunner, analyze: Analyze) -> None:
    report = analyze(run_component(_stack), config=config_file("dev"))
    assert report.levels[POLICY] == "advisory"
    assert {v.level for v in report.for_policy(POLICY)} == {"advisory"}


def test_mandatory_in_prod(policy_pack: PolicyPackProcess) -> None:
    """prod.json names no exception for the policy (the stack creates the web ACL), so prod's
    ``"all": "mandatory"`` makes it mandatory."""
    _, _, policies = policy_pack.info()
    prod = json.loads(config_file("prod").read_text())
    assert POLICY not in prod
    assert str(reconcile(policies.values(), parse_config(prod))[POLICY].level) == "mandatory"


# -- waf-known-bad-inputs and waf-logging ---------------------------------------------------------------
BAD_INPUTS = "waf-known-bad-inputs"
LOGGING = "waf-logging"


def _bare_acl(name: str, rules: list[dict[str, Any]] | None = None) -> aws.wafv2.WebAcl:
    """A web ACL written by hand, without the component's managed groups or logging."""
    arguments: dict[str, Any] = {
        "scope": "REGIONAL",
        "default_action": {"allow": {}},
        "rules": rules,
        "visibility_config": {
            "cloudwatch_metrics_enabled": True,
            "metric_name": name,
            "sampled_requests_enabled": True,
        },
    }
    return aws.wafv2.WebAcl(name, **arguments)


def _known_bad_inputs_rule(**statement: Any) -> dict[str, Any]:
    return {
        "name": "bad-inputs",
        "priority": 0,
        "override_action": {"none": {}},
        "statement": {"managed_rule_group_statement": {"vendor_name": "AWS", "name": KNOWN_BAD_INPUTS, **statement}},
        "visibility_config": {
            "cloudwatch_metrics_enabled": True,
            "metric_name": "bad-inputs",
            "sampled_requests_enabled": True,
        },
    }


def _acls() -> None:
    # Compliant: the component in block mode (the group acts; its logging configuration exists), and a
    # hand-written ACL overriding a non-Log4j rule of the group to count.
    WebAcl("blocks", WebAclArgs(context=CONTEXT, name="blocks", resource_arn="arn:alb", spec=waf_spec(mode="block")))
    harmless = [{"name": "Host_localhost_HEADER", "action_to_use": {"count": {}}}]
    logged = _bare_acl("harmless-override", [_known_bad_inputs_rule(rule_action_overrides=harmless)])
    aws.wafv2.WebAclLoggingConfiguration(
        "harmless-override-logs",
        resource_arn=logged.arn,
        log_destination_configs=["arn:aws:logs:eu-west-1:123456789012:log-group:aws-waf-logs-x"],
    )
    # Violating: the component in count mode; no group at all; a Log4j rule overridden to count.
    WebAcl("counts", WebAclArgs(context=CONTEXT, name="counts", resource_arn="arn:alb", spec=waf_spec(mode="count")))
    _bare_acl("no-group")
    log4j = [{"name": "Log4JRCE_HEADER", "action_to_use": {"count": {}}}]
    _bare_acl("log4j-counted", [_known_bad_inputs_rule(rule_action_overrides=log4j)])


@pytest.mark.parametrize("preview", [False, True], ids=["update", "preview"])
def test_known_bad_inputs_must_block_log4shell(run_component: ComponentRunner, analyze: Analyze, preview: bool) -> None:
    report = analyze(run_component(_acls, preview=preview))
    assert flagged(report, BAD_INPUTS) == {"counts-acl", "no-group", "log4j-counted"}
    assert "only counts" in " ".join(messages(report, BAD_INPUTS, "counts-acl"))
    assert f"No rule runs the AWS managed group {KNOWN_BAD_INPUTS}" in messages(report, BAD_INPUTS, "no-group")[0]
    assert "overrides Log4JRCE_HEADER to count" in messages(report, BAD_INPUTS, "log4j-counted")[0]
    assert [n for n in unknown_notes(report) if n.startswith(BAD_INPUTS)] == []
    assert {v.level for v in report.for_policy(BAD_INPUTS)} == {"mandatory"}


@pytest.mark.parametrize("preview", [False, True], ids=["update", "preview"])
def test_every_web_acl_logs(run_component: ComponentRunner, analyze: Analyze, preview: bool) -> None:
    # The component's ACLs and the hand-written one with a logging configuration pass (matched by the
    # property dependency at preview, where the ACLs' ARNs are unknown); the bare ACLs do not.
    report = analyze(run_component(_acls, preview=preview))
    assert flagged(report, LOGGING) == {"no-group", "log4j-counted"}
    assert "has no WebAclLoggingConfiguration" in messages(report, LOGGING, "no-group")[0]
    assert [n for n in unknown_notes(report) if n.startswith(LOGGING)] == []
    assert {v.level for v in report.for_policy(LOGGING)} == {"mandatory"}


def test_the_waf_policies_are_advisory_in_dev_and_mandatory_in_prod(
    run_component: ComponentRunner, analyze: Analyze
) -> None:
    run = run_component(_acls)
    dev = analyze(run, config=config_file("dev"))
    prod = analyze(run, config=config_file("prod"))
    for policy in (BAD_INPUTS, LOGGING):
        assert {v.level for v in dev.for_policy(policy)} == {"advisory"}
        assert {v.level for v in prod.for_policy(policy)} == {"mandatory"}


def test_the_pack_and_the_component_name_the_same_rule_group() -> None:
    from policies.guardrails.guardrails import waf  # the pack's own copy: it cannot import components

    assert waf.KNOWN_BAD_INPUTS == KNOWN_BAD_INPUTS
