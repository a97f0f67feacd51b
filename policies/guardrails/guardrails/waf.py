"""Web application firewall: every internet-facing ALB is associated with a WAFv2 web ACL.

An ALB is internet-facing unless ``internal`` is true; network and gateway load balancers take no
web ACL (WAF inspects HTTP), so they are not checked. The association is found the way the topology
policies find their relations: by the property dependency of the association's ``resourceArn`` on
the load balancer (known at preview, when the ARN itself is not), else by comparing a literal ARN
with the load balancer's known ARN. AWS WAF Classic (``aws:wafregional``) does not count: it reached
its end of support, and its rules cannot be managed alongside WAFv2's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pulumi_policy import EnforcementLevel, Severity, StackValidationPolicy

from . import resource_types as t
from .load_balancing import family_of_load_balancer
from .rules import Report, StackView, referenced, stack_policy


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


def policies() -> Sequence[StackValidationPolicy]:
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
    ]
