"""A regional WAFv2 web ACL in front of the ALB: AWS managed rules, a per-IP rate limit, logging.

Rules, in evaluation order (lower priority first; the first terminating match decides):

0. ``AWSManagedRulesAmazonIpReputationList`` (25 WCU): addresses Amazon's threat intelligence sees
   attacking (bots, scanners, DDoS sources). Cheapest, so first: known-bad sources never cost the
   inspection below.
1. A rate-based rule per client IP: more than ``rate_limit`` requests in ``rate_window_seconds`` from
   one address. A block answers ``429 Too Many Requests``.
2. ``AWSManagedRulesKnownBadInputsRuleSet`` (200 WCU): request patterns known to be exploits
   (Log4Shell lookups, Java deserialisation, localhost Host headers, exploitable paths).
3. ``AWSManagedRulesCommonRuleSet`` (700 WCU): the OWASP-style core set (XSS, LFI/RFI, SSRF to the
   metadata service, missing User-Agent, oversized bodies/headers).

The three groups are AWS Managed Rules with no charge beyond WAF's own (only Bot Control and the
Fraud Control groups cost extra); together about 927 WCU, inside the 1,500 WCU a web ACL gets at the
base price. The default action is *allow*: the rules name what is refused.

``mode`` decides what a match does: ``count`` (observe: matches are counted, labelled and logged but
let through, for tuning in dev) or ``block``. ``overrides`` set single rules of a group to another
action (typically ``count`` for a rule that flags legitimate traffic, e.g. ``SizeRestrictions_BODY``
for large JSON bodies), which WAF calls rule action overrides.

Logging goes to the CloudWatch Logs group ``aws-waf-logs-<name>`` (WAF only delivers to destinations
whose name starts with ``aws-waf-logs-``) with the ``authorization`` and ``cookie`` headers redacted.
WAF would otherwise add this log group to a shared, account-wide resource policy (``AWSWAF-LOGS``)
that it rewrites on every ``PutLoggingConfiguration`` and that can outgrow CloudWatch's 5,120-character
limit (hashicorp/terraform-provider-aws#25296); the component writes its own policy for its own group
instead, so delivery never depends on that shared document.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal, cast

import pulumi
import pulumi_aws as aws

from components.arns import check_kms_key_arn
from components.aws_context import AwsContext
from components.errors import InputError, in_range, one_of, require
from components.log_groups import check_retention

WafMode = Literal["count", "block"]
WAF_MODES: Final = ("count", "block")
OverrideAction = Literal["count", "block", "allow"]
OVERRIDE_ACTIONS: Final = ("count", "block", "allow")
LogFilter = Literal["all", "matched"]
LOG_FILTERS: Final = ("all", "matched")

VENDOR: Final = "AWS"
IP_REPUTATION: Final = "AWSManagedRulesAmazonIpReputationList"
KNOWN_BAD_INPUTS: Final = "AWSManagedRulesKnownBadInputsRuleSet"
COMMON_RULE_SET: Final = "AWSManagedRulesCommonRuleSet"
MANAGED_RULE_GROUPS: Final = (IP_REPUTATION, KNOWN_BAD_INPUTS, COMMON_RULE_SET)
"""The AWS managed rule groups the web ACL always has, in evaluation order (the rate rule sits
between the first and the second)."""
MANAGED_GROUP_WCU: Final = {IP_REPUTATION: 25, KNOWN_BAD_INPUTS: 200, COMMON_RULE_SET: 700}
"""Web ACL capacity units per group, from AWS's managed rule group list."""

RATE_LIMIT: Final = (10, 2_000_000_000)
"""RateBasedStatement.Limit in botocore's wafv2 model."""
RATE_WINDOWS: Final = (60, 120, 300, 600)
"""EvaluationWindowSec values WAF accepts (wafv2 model documentation; default 300)."""
RATE_LIMITED_STATUS: Final = 429
REDACTED_HEADERS: Final = ("authorization", "cookie")
"""Headers never written to the WAF logs (credentials and session tokens)."""
LOG_GROUP_PREFIX: Final = "aws-waf-logs-"
MAX_OVERRIDES_PER_GROUP: Final = 100
"""RuleActionOverrides per managed rule group statement (wafv2 model)."""

_ENTITY_NAME: Final = re.compile(r"^[\w-]{1,128}$")
"""EntityName in the wafv2 model: web ACL, rule and rule-group rule names."""


@dataclass(frozen=True, kw_only=True)
class RuleOverride:
    """One rule of a managed group run with another action than the group's (a rule action override)."""

    rule_group: str
    """One of ``MANAGED_RULE_GROUPS``."""
    rule: str
    """The rule's name inside the group, e.g. ``SizeRestrictions_BODY``."""
    action: OverrideAction = "count"
    """``count`` (the usual exclusion: seen and logged, never blocked), ``block`` or ``allow``."""

    @classmethod
    def parse(cls, value: str, setting: str = "overrides") -> RuleOverride:
        """``<RuleGroup>/<Rule>[=count|block|allow]`` (``count`` when no action is given), the form a
        stack setting writes; the parts are checked by ``WafSpec``."""
        head, sep, action = value.partition("=")
        group, slash, rule = head.partition("/")
        if not slash or not group or not rule or (sep and not action):
            raise InputError(
                setting,
                value,
                "'<RuleGroup>/<Rule>' or '<RuleGroup>/<Rule>=<count|block|allow>', "
                f"e.g. '{COMMON_RULE_SET}/SizeRestrictions_BODY'",
            )
        return cls(rule_group=group, rule=rule, action=cast("OverrideAction", action or "count"))


@dataclass(frozen=True, kw_only=True)
class WafSpec:
    """What the web ACL does: plain values a stack's config decides, validated."""

    mode: WafMode
    """``count`` (observe: matches are counted and logged, nothing is blocked) or ``block``."""
    rate_limit: int
    """Requests per ``rate_window_seconds`` one client IP may send (10 to 2,000,000,000)."""
    rate_window_seconds: int
    """The rate rule's look-back window: 60, 120, 300 or 600 seconds."""
    overrides: Sequence[RuleOverride]
    """Rule action overrides in the managed groups (exclusions are ``action="count"``)."""
    log_retention_days: int
    """Retention of the WAF log group."""
    log_filter: LogFilter
    """``all`` requests, or only those a rule ``matched`` (blocked or counted), which cuts log volume."""

    def __post_init__(self) -> None:
        one_of("mode", self.mode, WAF_MODES)
        in_range("rate_limit", self.rate_limit, *RATE_LIMIT, unit="requests per window")
        one_of("rate_window_seconds", self.rate_window_seconds, RATE_WINDOWS)
        one_of("log_filter", self.log_filter, LOG_FILTERS)
        check_retention("log_retention_days", self.log_retention_days)
        seen: set[tuple[str, str]] = set()
        for i, override in enumerate(self.overrides):
            one_of(f"overrides[{i}].rule_group", override.rule_group, MANAGED_RULE_GROUPS)
            require(
                isinstance(override.rule, str) and bool(_ENTITY_NAME.match(override.rule)),
                f"overrides[{i}].rule",
                override.rule,
                "a rule name of the group (letters, digits, '_', '-'), e.g. SizeRestrictions_BODY",
            )
            one_of(f"overrides[{i}].action", override.action, OVERRIDE_ACTIONS)
            key = (override.rule_group, override.rule)
            if key in seen:
                raise InputError(f"overrides[{i}]", f"{override.rule_group}/{override.rule}", "each rule once")
            seen.add(key)
        for group in MANAGED_RULE_GROUPS:
            count = sum(1 for o in self.overrides if o.rule_group == group)
            require(
                count <= MAX_OVERRIDES_PER_GROUP,
                "overrides",
                f"{count} for {group}",
                f"at most {MAX_OVERRIDES_PER_GROUP} per rule group",
            )


@dataclass(frozen=True, kw_only=True)
class WebAclArgs:
    """The web ACL protecting one ALB: where it is, what it protects, and its spec."""

    context: AwsContext
    """Account and region (the ACL is regional and must be in the ALB's region)."""
    name: str
    """Web ACL name (1-128 of letters, digits, '_', '-'); also names its metrics and log group."""
    resource_arn: pulumi.Input[str]
    """The ALB to protect."""
    spec: WafSpec
    """Mode, rate limit, overrides, logging."""
    log_kms_key_arn: pulumi.Input[str] | None = None
    """Customer-managed KMS key encrypting the WAF log group (the stack's logs key, whose policy must
    admit this group's name); None leaves CloudWatch Logs' own encryption."""

    def __post_init__(self) -> None:
        require(
            isinstance(self.name, str) and bool(_ENTITY_NAME.match(self.name)),
            "name",
            self.name,
            "1-128 of letters, digits, '_' and '-' (WAF's EntityName)",
        )
        require(len(self.log_group_name) <= 512, "name", self.name, "a name whose log group name fits 512 characters")
        if isinstance(self.log_kms_key_arn, str):
            check_kms_key_arn("log_kms_key_arn", self.log_kms_key_arn)

    @property
    def mode(self) -> WafMode:
        return self.spec.mode

    @property
    def log_group_name(self) -> str:
        return f"{LOG_GROUP_PREFIX}{self.name}"

    def metric_name(self, rule: str) -> str:
        """The CloudWatch metric name of a rule (``<acl>-<rule>``; VisibilityConfig.MetricName)."""
        return f"{self.name}-{rule}"


def rule_names() -> dict[str, str]:
    """Rule name by role, the names the web ACL's rules (and their metrics) carry."""
    return {
        "ip-reputation": "aws-ip-reputation",
        "rate-limit": "rate-limit-per-ip",
        "known-bad-inputs": "aws-known-bad-inputs",
        "common": "aws-common-rule-set",
    }


def _visibility(args: WebAclArgs, rule: str) -> aws.wafv2.WebAclRuleVisibilityConfigArgs:
    return aws.wafv2.WebAclRuleVisibilityConfigArgs(
        cloudwatch_metrics_enabled=True, sampled_requests_enabled=True, metric_name=args.metric_name(rule)
    )


def _override_action(
    action: OverrideAction,
) -> aws.wafv2.WebAclRuleStatementManagedRuleGroupStatementRuleActionOverrideActionToUseArgs:
    use = aws.wafv2.WebAclRuleStatementManagedRuleGroupStatementRuleActionOverrideActionToUseArgs
    if action == "count":
        return use(count=aws.wafv2.WebAclRuleStatementManagedRuleGroupStatementRuleActionOverrideActionToUseCountArgs())
    if action == "allow":
        return use(allow=aws.wafv2.WebAclRuleStatementManagedRuleGroupStatementRuleActionOverrideActionToUseAllowArgs())
    return use(block=aws.wafv2.WebAclRuleStatementManagedRuleGroupStatementRuleActionOverrideActionToUseBlockArgs())


def _managed_rule(args: WebAclArgs, rule: str, group: str, priority: int) -> aws.wafv2.WebAclRuleArgs:
    overrides = [
        aws.wafv2.WebAclRuleStatementManagedRuleGroupStatementRuleActionOverrideArgs(
            name=o.rule, action_to_use=_override_action(o.action)
        )
        for o in args.spec.overrides
        if o.rule_group == group
    ]
    # Count mode overrides the whole group to count; block mode keeps the group's own actions. (The
    # two empty argument classes have no typed __init__ in pulumi-aws.)
    override = (
        aws.wafv2.WebAclRuleOverrideActionArgs(count=aws.wafv2.WebAclRuleOverrideActionCountArgs())  # type: ignore[no-untyped-call]
        if args.mode == "count"
        else aws.wafv2.WebAclRuleOverrideActionArgs(none=aws.wafv2.WebAclRuleOverrideActionNoneArgs())  # type: ignore[no-untyped-call]
    )
    return aws.wafv2.WebAclRuleArgs(
        name=rule,
        priority=priority,
        override_action=override,
        statement=aws.wafv2.WebAclRuleStatementArgs(
            managed_rule_group_statement=aws.wafv2.WebAclRuleStatementManagedRuleGroupStatementArgs(
                vendor_name=VENDOR, name=group, rule_action_overrides=overrides or None
            )
        ),
        visibility_config=_visibility(args, rule),
    )


def _rate_rule(args: WebAclArgs, rule: str, priority: int) -> aws.wafv2.WebAclRuleArgs:
    action = (
        aws.wafv2.WebAclRuleActionArgs(count=aws.wafv2.WebAclRuleActionCountArgs())
        if args.mode == "count"
        else aws.wafv2.WebAclRuleActionArgs(
            block=aws.wafv2.WebAclRuleActionBlockArgs(
                custom_response=aws.wafv2.WebAclRuleActionBlockCustomResponseArgs(response_code=RATE_LIMITED_STATUS)
            )
        )
    )
    return aws.wafv2.WebAclRuleArgs(
        name=rule,
        priority=priority,
        action=action,
        statement=aws.wafv2.WebAclRuleStatementArgs(
            rate_based_statement=aws.wafv2.WebAclRuleStatementRateBasedStatementArgs(
                aggregate_key_type="IP", limit=args.spec.rate_limit, evaluation_window_sec=args.spec.rate_window_seconds
            )
        ),
        visibility_config=_visibility(args, rule),
    )


def log_delivery_policy(args: WebAclArgs) -> dict[str, Any]:
    """The log group resource policy CloudWatch Logs' delivery service needs to write WAF logs.

    The statement AWS documents for WAF log delivery (``delivery.logs.amazonaws.com`` may create
    streams and put events, confused-deputy guarded by the source account and a log-delivery source
    ARN of this account and region), limited to this ACL's own log group.
    """
    ctx = args.context
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "WafLogDelivery",
                "Effect": "Allow",
                "Principal": {"Service": "delivery.logs.amazonaws.com"},
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": ctx.arn("logs", f"log-group:{args.log_group_name}:log-stream:*"),
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": ctx.account_id},
                    "ArnLike": {"aws:SourceArn": ctx.arn("logs", "*")},
                },
            }
        ],
    }


class WebAcl(pulumi.ComponentResource):
    """A regional web ACL with AWS managed rules and a rate limit, associated with one ALB, logging to
    CloudWatch Logs with credentials redacted."""

    arn: pulumi.Output[str]
    """ARN of the web ACL."""
    mode: str
    """``count`` or ``block`` (plain)."""
    rule_priorities: dict[str, int]
    """Priority by rule name (plain)."""
    metric_names: dict[str, str]
    """CloudWatch metric name (``AWS/WAFV2``, dimension ``Rule``) by rule name (plain)."""
    log_group_name: str
    """The WAF log group (plain)."""
    capacity_units: int
    """WCU of the managed groups plus the rate rule (plain; the base price covers 1,500)."""

    def __init__(self, name: str, args: WebAclArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("platform:edge:WebAcl", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        names = rule_names()
        rules = [
            _managed_rule(args, names["ip-reputation"], IP_REPUTATION, 0),
            _rate_rule(args, names["rate-limit"], 1),
            _managed_rule(args, names["known-bad-inputs"], KNOWN_BAD_INPUTS, 2),
            _managed_rule(args, names["common"], COMMON_RULE_SET, 3),
        ]
        self.mode = args.mode
        self.rule_priorities = {names[k]: p for p, k in enumerate(names)}
        self.metric_names = {rule: args.metric_name(rule) for rule in names.values()}
        self.log_group_name = args.log_group_name
        # A rate-based statement costs 2 WCU (WAF's rule statement list).
        self.capacity_units = sum(MANAGED_GROUP_WCU.values()) + 2

        acl = aws.wafv2.WebAcl(
            f"{name}-acl",
            name=args.name,
            scope="REGIONAL",
            description=f"{args.mode} mode: AWS managed rules and a per-IP rate limit in front of the ALB",
            default_action=aws.wafv2.WebAclDefaultActionArgs(allow=aws.wafv2.WebAclDefaultActionAllowArgs()),
            rules=rules,
            visibility_config=aws.wafv2.WebAclVisibilityConfigArgs(
                cloudwatch_metrics_enabled=True, sampled_requests_enabled=True, metric_name=args.name
            ),
            opts=child,
        )
        self.arn = acl.arn
        aws.wafv2.WebAclAssociation(
            f"{name}-association", resource_arn=args.resource_arn, web_acl_arn=acl.arn, opts=child
        )

        log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=args.log_group_name,
            retention_in_days=args.spec.log_retention_days,
            kms_key_id=args.log_kms_key_arn,
            opts=child,
        )
        policy = aws.cloudwatch.LogResourcePolicy(
            f"{name}-log-delivery",
            policy_name=f"{args.name}-waf-log-delivery"[:255],
            policy_document=json.dumps(log_delivery_policy(args)),
            opts=child,
        )
        aws.wafv2.WebAclLoggingConfiguration(
            f"{name}-logging",
            resource_arn=acl.arn,
            log_destination_configs=[log_group.arn],
            redacted_fields=[
                aws.wafv2.WebAclLoggingConfigurationRedactedFieldArgs(
                    single_header=aws.wafv2.WebAclLoggingConfigurationRedactedFieldSingleHeaderArgs(name=header)
                )
                for header in REDACTED_HEADERS
            ],
            logging_filter=_matched_only() if args.spec.log_filter == "matched" else None,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]),
        )
        self.register_outputs(
            {
                "arn": self.arn,
                "mode": self.mode,
                "rulePriorities": self.rule_priorities,
                "logGroupName": self.log_group_name,
            }
        )


def _matched_only() -> aws.wafv2.WebAclLoggingConfigurationLoggingFilterArgs:
    """Keep the log records of blocked or counted requests, drop the rest."""
    condition = aws.wafv2.WebAclLoggingConfigurationLoggingFilterFilterConditionArgs
    action = aws.wafv2.WebAclLoggingConfigurationLoggingFilterFilterConditionActionConditionArgs
    return aws.wafv2.WebAclLoggingConfigurationLoggingFilterArgs(
        default_behavior="DROP",
        filters=[
            aws.wafv2.WebAclLoggingConfigurationLoggingFilterFilterArgs(
                behavior="KEEP",
                requirement="MEETS_ANY",
                conditions=[
                    condition(action_condition=action(action="BLOCK")),
                    condition(action_condition=action(action="COUNT")),
                ],
            )
        ],
    )
