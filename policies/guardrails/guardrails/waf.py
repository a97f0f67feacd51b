"""Web application firewall: every internet-facing ALB is associated with a WAFv2 web ACL, every web
ACL blocks the known exploit inputs (Log4Shell) and logs its decisions.

An ALB is internet-facing unless ``internal`` is true; network and gateway load balancers take no
web ACL (WAF inspects HTTP), so they are not checked. The association is found the way the topology
policies find their relations: by the property dependency of the association's ``resourceArn`` on
the load balancer (known at preview, when the ARN itself is not), else by comparing a literal ARN
with the load balancer's known ARN. AWS WAF Classic (``aws:wafregional``) does not count: it reached
its end of support, and its rules cannot be managed alongside WAFv2's.

A web ACL without ``AWSManagedRulesKnownBadInputsRuleSet`` acting (not overridden to count, its
``Log4JRCE*`` rules not overridden to count or allow) lets Log4Shell lookups (CVE-2021-44228) through
(checkov CKV_AWS_192); one without a ``WebAclLoggingConfiguration`` leaves no record of what it
blocked (CKV2_AWS_31). The logging configuration is matched like the association, by the property
dependency of its ``resourceArn`` on the web ACL, else by the known ARN.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from pulumi_policy import (
    EnforcementLevel,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationPolicy,
)

from . import resource_types as t
from .load_balancing import family_of_load_balancer
from .props import as_mapping, iter_mappings
from .rules import Report, StackView, referenced, resource_policy, stack_policy

KNOWN_BAD_INPUTS: Final = "AWSManagedRulesKnownBadInputsRuleSet"
LOG4J_RULE_PREFIX: Final = "Log4JRCE"
"""The group's Log4Shell rules (Log4JRCE_HEADER, _QUERYSTRING, _BODY, _URIPATH)."""


def _internet_facing_alb_has_waf(view: StackView, report: Report, config: Mapping[str, Any]) -> None:
    associations = view.of_type(t.WAFV2_WEB_ACL_ASSOCIATION)
    for lb in view.of_type(t.LOAD_BALANCERS):
        with view.reading(lb):
            if family_of_load_balancer(lb.props) != "application" or lb.props.get("internal") is True:
                continue
            if not any(lb.urn in referenced(a, "resourceArn", [lb]) for a in associations):
                report(
                    f"Internet-facing ALB {lb.name} has no WAFv2 web ACL association "
                    "(aws.wafv2.WebAclAssociation with its ARN as resourceArn): requests reach the "
                    "services without managed-rule or rate-limit inspection.",
                    lb.urn,
                )


def _known_bad_inputs_block(args: ResourceValidationArgs, report: Report) -> None:
    rules = [
        rule
        for rule in iter_mappings(args.props.get("rules"))
        if as_mapping(as_mapping(rule.get("statement")).get("managedRuleGroupStatement")).get("name")
        == KNOWN_BAD_INPUTS
    ]
    if not rules:
        report(
            f"No rule runs the AWS managed group {KNOWN_BAD_INPUTS}: Log4Shell (CVE-2021-44228) lookups and "
            "other known exploit inputs reach the services."
        )
    for rule in rules:
        name = rule.get("name")
        if "count" in as_mapping(rule.get("overrideAction")):
            report(f"Rule {name} ({KNOWN_BAD_INPUTS}) only counts (overrideAction count): nothing is blocked.")
        statement = as_mapping(as_mapping(rule.get("statement")).get("managedRuleGroupStatement"))
        for override in iter_mappings(statement.get("ruleActionOverrides")):
            rule_name = str(override.get("name") or "")
            action = as_mapping(override.get("actionToUse"))
            if rule_name.startswith(LOG4J_RULE_PREFIX) and ("count" in action or "allow" in action):
                report(
                    f"Rule {name} overrides {rule_name} to {'count' if 'count' in action else 'allow'}: "
                    "Log4Shell lookups in that part of the request pass."
                )


def _web_acl_logging(view: StackView, report: Report, config: Mapping[str, Any]) -> None:
    logging = view.of_type(t.WAFV2_WEB_ACL_LOGGING)
    for acl in view.of_type(t.WAFV2_WEB_ACL):
        with view.reading(acl):
            if not any(acl.urn in referenced(c, "resourceArn", [acl]) for c in logging):
                report(
                    f"Web ACL {acl.name} has no WebAclLoggingConfiguration (resourceArn its ARN): what it blocked "
                    "or let through leaves no record for an incident.",
                    acl.urn,
                )


def policies() -> Sequence[ResourceValidationPolicy | StackValidationPolicy]:
    return [
        stack_policy(
            name="alb-waf-association",
            description="Every internet-facing ALB is associated with a WAFv2 web ACL.",
            check=_internet_facing_alb_has_waf,
            enforcement=EnforcementLevel.ADVISORY,
            severity=Severity.HIGH,
            remediation="Associate a regional web ACL: aws.wafv2.WebAclAssociation(resource_arn=<alb>.arn, "
            "web_acl_arn=<acl>.arn) (components/web_acl.py builds one with AWS managed rules and a rate limit).",
        ),
        resource_policy(
            name="waf-known-bad-inputs",
            description=f"Every WAFv2 web ACL blocks with {KNOWN_BAD_INPUTS}, its Log4Shell rules included.",
            types=[t.WAFV2_WEB_ACL],
            check=_known_bad_inputs_block,
            enforcement=EnforcementLevel.ADVISORY,
            severity=Severity.HIGH,
            remediation=f"Add a rule with managed_rule_group_statement {{vendor_name: AWS, name: {KNOWN_BAD_INPUTS}}} "
            "and override_action none; override single rules to count, never the Log4JRCE ones "
            "(components/web_acl.py in block mode).",
        ),
        stack_policy(
            name="waf-logging",
            description="Every WAFv2 web ACL has a logging configuration.",
            check=_web_acl_logging,
            enforcement=EnforcementLevel.ADVISORY,
            severity=Severity.MEDIUM,
            remediation="Add aws.wafv2.WebAclLoggingConfiguration(resource_arn=<acl>.arn, log_destination_configs="
            "[<aws-waf-logs-* log group ARN>]) (components/web_acl.py writes one with credentials redacted).",
        ),
    ]
