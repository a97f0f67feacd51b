"""Elastic Load Balancing: explicit health checks in range, HTTPS-only ALBs, hardened load balancers."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Final, Literal

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationPolicy,
)

from . import resource_types as t
from .props import as_list, as_mapping, is_set, iter_mappings, number
from .rules import Report, StackView, referenced, resource_policy, stack_policy

Family = Literal["application", "network", "gateway"]

# CreateTargetGroup limits (botocore's elbv2 service model).
HEALTH_CHECK_RANGES: Final = {
    "interval": (5, 300),
    "timeout": (2, 120),
    "healthyThreshold": (2, 10),
    "unhealthyThreshold": (2, 10),
}
MATCHER_RANGES: Final[dict[Family, tuple[int, int]]] = {
    "application": (200, 499),
    "network": (200, 599),
    "gateway": (200, 399),
}
GRPC_MATCHER_RANGE: Final = (0, 99)
HEALTH_CHECK_PROTOCOLS: Final[dict[Family, tuple[str, ...]]] = {
    "application": ("HTTP", "HTTPS"),
    "network": ("TCP", "HTTP", "HTTPS"),
    "gateway": ("TCP", "HTTP", "HTTPS"),
}
MAX_PATH_LENGTH: Final = 1024
DEFAULT_TLS_POLICY_PREFIXES: Final = ("ELBSecurityPolicy-TLS13-1-2-", "ELBSecurityPolicy-TLS13-1-3-")
_CODES: Final = re.compile(r"^\d{1,3}(-\d{1,3})?$")


def family_of_target_group(props: Mapping[str, Any]) -> Family:
    protocol = props.get("protocol")
    if protocol == "GENEVE":
        return "gateway"
    if protocol in ("HTTP", "HTTPS") or protocol is None:  # no protocol: lambda targets, behind an ALB
        return "application"
    return "network"


def family_of_load_balancer(props: Mapping[str, Any]) -> Family:
    kind = props.get("loadBalancerType", "application")
    return kind if kind in ("network", "gateway") else "application"


def matcher_problem(matcher: Any, low: int, high: int) -> str | None:
    """Check ``"200"``, ``"200-299"`` or ``"200,202"`` against the allowed range."""
    if not isinstance(matcher, str) or not matcher.strip():
        return "is empty"
    for part in matcher.split(","):
        part = part.strip()
        if not _CODES.match(part):
            return f"has an invalid code {part!r}"
        first, _, last = part.partition("-")
        codes = (int(first), int(last or first))
        if codes[0] > codes[1] or not all(low <= c <= high for c in codes):
            return f"{part!r} is outside {low}-{high}"
    return None


def _target_group_health_check(args: ResourceValidationArgs, report: Report) -> None:
    props = args.props
    family = family_of_target_group(props)
    check = as_mapping(props.get("healthCheck"))
    if not check:
        report("No healthCheck block: AWS defaults apply silently. Set every health check setting explicitly.")
        return
    if check.get("enabled") is False:
        report("healthCheck.enabled=false: targets are never taken out of rotation when they fail.")
        return
    missing = [key for key in (*HEALTH_CHECK_RANGES, "protocol") if not is_set(check, key)]
    if missing:
        report(f"healthCheck leaves {', '.join(missing)} to AWS defaults; set them explicitly.")
    values: dict[str, float] = {}
    for key, (low, high) in HEALTH_CHECK_RANGES.items():
        if is_set(check, key):
            value = number(check[key])
            if value is None or value != int(value) or not low <= value <= high:
                report(f"healthCheck.{key}={check[key]!r} is outside AWS's range {low}..{high}.")
            else:
                values[key] = value
    if "interval" in values and "timeout" in values and values["timeout"] >= values["interval"]:
        report(
            f"healthCheck.timeout ({values['timeout']:g}s) must be shorter than the interval ({values['interval']:g}s)."
        )
    # Unset, the protocol defaults to HTTP for ALBs and TCP for NLBs/GWLBs (reported above as implicit).
    protocol = check.get("protocol") or ("HTTP" if family == "application" else "TCP")
    if protocol not in HEALTH_CHECK_PROTOCOLS[family]:
        report(f"healthCheck.protocol={protocol!r} is not allowed for a {family} target group.")
    if is_set(check, "port"):
        port = check["port"]
        if port != "traffic-port" and not (number(port) is not None and 1 <= (number(port) or 0) <= 65535):
            report(f"healthCheck.port={port!r} must be 'traffic-port' or 1..65535.")
    if protocol in ("HTTP", "HTTPS"):
        path = check.get("path")
        if not isinstance(path, str) or not path.startswith("/") or len(path) > MAX_PATH_LENGTH:
            report(f"healthCheck.path={path!r}: HTTP(S) health checks need a path starting with '/'.")
        low, high = GRPC_MATCHER_RANGE if props.get("protocolVersion") == "GRPC" else MATCHER_RANGES[family]
        if not is_set(check, "matcher"):
            report(f"healthCheck.matcher is not set; name the healthy codes explicitly ({low}-{high}).")
        elif problem := matcher_problem(check["matcher"], low, high):
            report(f"healthCheck.matcher {problem}.")


# -- ALB guardrails ---------------------------------------------------------------------------------
def _is_https_redirect(action: Mapping[str, Any]) -> bool:
    redirect = as_mapping(action.get("redirect"))
    return action.get("type") == "redirect" and redirect.get("protocol") == "HTTPS"


def _https_with_redirect(view: StackView, report: Report, config: Mapping[str, Any]) -> None:
    listeners = view.of_type(t.LISTENERS)
    rules = view.of_type(t.LISTENER_RULES)
    for lb in view.of_type(t.LOAD_BALANCERS):
        with view.reading(lb):
            if family_of_load_balancer(lb.props) != "application":
                continue
            protocols = [
                listener.props.get("protocol")
                for listener in listeners
                if lb.urn in referenced(listener, "loadBalancerArn", [lb])
            ]
            if "HTTPS" not in protocols:
                report(f"ALB {lb.name} has no HTTPS listener (listeners: {protocols or 'none'}).", lb.urn)
    for listener in listeners:
        with view.reading(listener):
            if listener.props.get("protocol") != "HTTP":
                continue
            actions = list(iter_mappings(listener.props.get("defaultActions")))
            if not actions or not all(_is_https_redirect(a) for a in actions):
                report(
                    f"HTTP listener {listener.name} must only redirect to HTTPS (type=redirect, protocol=HTTPS).",
                    listener.urn,
                )
            for rule in rules:
                if listener.urn in referenced(rule, "listenerArn", [listener]):
                    with view.reading(rule):
                        if not all(_is_https_redirect(a) for a in iter_mappings(rule.props.get("actions"))):
                            report(
                                f"Rule {rule.name} on HTTP listener {listener.name} serves plain HTTP; "
                                "rules on the HTTP listener may only redirect to HTTPS.",
                                rule.urn,
                            )


def _tls_policy(args: ResourceValidationArgs, report: Report) -> None:
    if args.props.get("protocol") not in ("HTTPS", "TLS"):
        return
    prefixes = tuple(str(p) for p in as_list(args.get_config().get("allowedPolicyPrefixes"))) or (
        DEFAULT_TLS_POLICY_PREFIXES
    )
    policy = args.props.get("sslPolicy")
    if not isinstance(policy, str):
        report(
            "sslPolicy is not set (config key albSslPolicy): ELB then uses ELBSecurityPolicy-2016-08, which "
            "accepts TLS 1.0."
        )
    elif not policy.startswith(prefixes):
        report(
            f"sslPolicy={policy!r} (config key albSslPolicy) is not a TLS 1.3 policy with TLS 1.2 minimum "
            f"({', '.join(prefixes)}*)."
        )


def _application_only(args: ResourceValidationArgs) -> bool:
    return family_of_load_balancer(args.props) == "application"


def _drop_invalid_headers(args: ResourceValidationArgs, report: Report) -> None:
    if _application_only(args) and args.props.get("dropInvalidHeaderFields") is not True:
        report("dropInvalidHeaderFields is not true: malformed headers reach the app (request smuggling).")


def _deletion_protection(args: ResourceValidationArgs, report: Report) -> None:
    if _application_only(args) and args.props.get("enableDeletionProtection") is not True:
        report(
            "enableDeletionProtection is not true (config key deletionProtection): one mistaken `pulumi destroy` "
            "takes the entry point down."
        )


def _access_logs(args: ResourceValidationArgs, report: Report) -> None:
    if not _application_only(args):
        return
    logs = as_mapping(args.props.get("accessLogs"))
    if logs.get("enabled") is not True or not is_set(logs, "bucket"):
        report("accessLogs are off (config key albAccessLogs): set accessLogs={bucket: <S3 bucket>, enabled: true}.")


def _desync_mitigation(args: ResourceValidationArgs, report: Report) -> None:
    mode = args.props.get("desyncMitigationMode", "defensive")
    if _application_only(args) and mode not in ("defensive", "strictest"):
        report(f"desyncMitigationMode={mode!r} forwards ambiguous requests (HTTP desync); use defensive or strictest.")


def _cross_zone(args: ResourceValidationArgs, report: Report) -> None:
    family = family_of_load_balancer(args.props)
    if family != "application" and args.props.get("enableCrossZoneLoadBalancing") is not True:
        report(
            f"This {family} load balancer keeps traffic in the client's AZ: with an unhealthy AZ the clients there "
            "fail. Set enableCrossZoneLoadBalancing=true."
        )


def _no_classic(args: ResourceValidationArgs, report: Report) -> None:
    report("Classic Load Balancers are legacy (no HTTP/2, no WAF, no modern TLS policies); use an ALB or NLB.")


def policies() -> Sequence[ResourceValidationPolicy | StackValidationPolicy]:
    mandatory, advisory = EnforcementLevel.MANDATORY, EnforcementLevel.ADVISORY
    return [
        resource_policy(
            name="lb-target-group-health-check",
            description="Every ALB/NLB/GWLB target group has explicit health checks within AWS's ranges; HTTP(S) "
            "checks have a path and a matcher.",
            types=t.TARGET_GROUPS,
            check=_target_group_health_check,
            enforcement=mandatory,
            severity=Severity.HIGH,
            remediation="healthCheck={enabled: true, protocol, path, matcher, interval, timeout, "
            "healthyThreshold, unhealthyThreshold} with timeout < interval.",
        ),
        stack_policy(
            name="alb-https-with-redirect",
            description="Every ALB has an HTTPS listener; HTTP listeners (and their rules) only redirect to HTTPS.",
            check=_https_with_redirect,
            enforcement=advisory,
            severity=Severity.HIGH,
            remediation="Add an HTTPS listener with an ACM certificate; make the HTTP listener's default action "
            "a redirect to HTTPS (HTTP_301) and attach forwarding rules to the HTTPS listener only.",
        ),
        resource_policy(
            name="listener-tls-policy",
            description="HTTPS and TLS listeners use a TLS 1.3 security policy with a TLS 1.2 minimum.",
            types=t.LISTENERS,
            check=_tls_policy,
            enforcement=advisory,
            severity=Severity.HIGH,
            remediation="sslPolicy='ELBSecurityPolicy-TLS13-1-2-2021-06' (or a newer TLS13-1-2/1-3 policy).",
            config_schema=PolicyConfigSchema(
                properties={
                    "allowedPolicyPrefixes": {
                        "type": "array",
                        "items": {"type": "string"},
                        "default": list(DEFAULT_TLS_POLICY_PREFIXES),
                        "description": "Security policy name prefixes that are accepted.",
                    }
                }
            ),
        ),
        resource_policy(
            name="alb-drop-invalid-headers",
            description="ALBs drop invalid HTTP header fields.",
            types=t.LOAD_BALANCERS,
            check=_drop_invalid_headers,
            enforcement=advisory,
            severity=Severity.MEDIUM,
            remediation="dropInvalidHeaderFields=true",
        ),
        resource_policy(
            name="alb-deletion-protection",
            description="ALBs have deletion protection.",
            types=t.LOAD_BALANCERS,
            check=_deletion_protection,
            enforcement=advisory,
            severity=Severity.MEDIUM,
            remediation="enableDeletionProtection=true (the stack's deletionProtection setting).",
        ),
        resource_policy(
            name="alb-access-logs",
            description="ALBs write access logs to S3.",
            types=t.LOAD_BALANCERS,
            check=_access_logs,
            enforcement=advisory,
            severity=Severity.MEDIUM,
            remediation="accessLogs={bucket: <bucket with the ELB log delivery policy>, enabled: true}",
        ),
        resource_policy(
            name="alb-desync-mitigation",
            description="ALBs mitigate HTTP desync (defensive or strictest mode).",
            types=t.LOAD_BALANCERS,
            check=_desync_mitigation,
            enforcement=advisory,
            severity=Severity.MEDIUM,
            remediation="desyncMitigationMode='defensive' (the default) or 'strictest'.",
        ),
        resource_policy(
            name="nlb-gwlb-cross-zone",
            description="Network and Gateway Load Balancers balance across zones.",
            types=t.LOAD_BALANCERS,
            check=_cross_zone,
            enforcement=advisory,
            severity=Severity.MEDIUM,
            remediation="enableCrossZoneLoadBalancing=true",
        ),
        resource_policy(
            name="no-classic-load-balancers",
            description="No Classic Load Balancers.",
            types=[t.CLASSIC_ELB],
            check=_no_classic,
            enforcement=advisory,
            severity=Severity.MEDIUM,
            remediation="Replace aws.elb.LoadBalancer with aws.lb.LoadBalancer (application or network).",
        ),
    ]
