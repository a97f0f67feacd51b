"""alb-waf-association through the Analyzer protocol: compliant and violating stacks, update and preview."""

from __future__ import annotations

import json

import pulumi_aws as aws
import pytest

from components.aws_context import AwsContext
from components.web_acl import WebAcl, WebAclArgs
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
