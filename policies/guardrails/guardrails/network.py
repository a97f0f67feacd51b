"""Security groups: the internet reaches the ALB on 80/443 and nothing else."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from pulumi_policy import EnforcementLevel, PolicyResource, Severity, StackValidationPolicy

from . import resource_types as t
from .load_balancing import family_of_load_balancer
from .props import UnknownValueError, as_list, is_set, iter_mappings, number
from .rules import Report, StackView, depends_on, stack_policy

PUBLIC_CIDRS: Final = frozenset({"0.0.0.0/0", "::/0"})
PUBLIC_PORTS: Final = frozenset({80, 443})
TCP: Final = frozenset({"tcp", "6"})


@dataclass(frozen=True)
class Ingress:
    """One ingress permission, whichever resource type expressed it."""

    protocol: str
    from_port: float | None
    to_port: float | None


def _public(values: Sequence[Any]) -> bool:
    return any(v in PUBLIC_CIDRS for v in values)


def ingress_problem(ingress: Ingress, on_alb: bool) -> str | None:
    """Why a rule open to the internet is not allowed, or None."""
    if ingress.protocol.lower() not in TCP:
        return f"protocol {ingress.protocol!r} is open to the internet (only TCP 80/443 may be)"
    if ingress.from_port != ingress.to_port or ingress.from_port not in PUBLIC_PORTS:
        ports = f"{_port(ingress.from_port)}-{_port(ingress.to_port)}"
        return f"ports {ports} are open to the internet (only 80 and 443 may be)"
    if not on_alb:
        return "the security group does not belong to an Application Load Balancer"
    return None


def _port(value: float | None) -> str:
    return "any" if value is None else f"{value:g}"


def _alb_security_groups(view: StackView) -> tuple[set[str], set[str]]:
    """URNs (from property dependencies) and known IDs of the security groups attached to ALBs."""
    urns: set[str] = set()
    ids: set[str] = set()
    for lb in view.of_type(t.LOAD_BALANCERS):
        with view.reading(lb):
            if family_of_load_balancer(lb.props) != "application":
                continue
            urns.update(d.urn for d in depends_on(lb, "securityGroups") if d.resource_type == t.SECURITY_GROUP)
            groups = as_list(_known_or_none(lb.props, "securityGroups"))
            for index in range(len(groups)):
                try:
                    value = groups[index]
                except UnknownValueError:
                    continue  # an ID only known after the update: the property dependency covers it
                if isinstance(value, str):
                    ids.add(value)
    return urns, ids


def _known_or_none(props: Mapping[str, Any], key: str) -> Any:
    """The value, or None when it is absent or only known after the update."""
    try:
        return props[key]
    except (KeyError, UnknownValueError):
        return None


def _targets_alb(rule: PolicyResource, alb_urns: set[str], alb_ids: set[str]) -> bool:
    groups = {d.urn for d in depends_on(rule, "securityGroupId")}
    if groups:
        return bool(groups & alb_urns)
    value = _known_or_none(rule.props, "securityGroupId")
    return isinstance(value, str) and value in alb_ids


def _cidrs(props: Mapping[str, Any], *keys: str) -> list[Any]:
    values: list[Any] = []
    for key in keys:
        if is_set(props, key):
            value = props[key]
            values.extend(as_list(value) if not isinstance(value, str) else [value])
    return values


def _public_ingress(view: StackView, report: Report, config: Mapping[str, Any]) -> None:
    alb_urns, alb_ids = _alb_security_groups(view)

    def judge(owner: PolicyResource, ingress: Ingress, on_alb: bool, where: str) -> None:
        problem = ingress_problem(ingress, on_alb)
        if problem:
            report(f"{where} allows ingress from 0.0.0.0/0 or ::/0: {problem}.", owner.urn)

    for rule in view.of_type(t.SECURITY_GROUP_INGRESS_RULE):
        with view.reading(rule):
            if _public(_cidrs(rule.props, "cidrIpv4", "cidrIpv6")):
                ingress = Ingress(
                    str(rule.props.get("ipProtocol", "")),
                    number(rule.props.get("fromPort")),
                    number(rule.props.get("toPort")),
                )
                judge(rule, ingress, _targets_alb(rule, alb_urns, alb_ids), f"Rule {rule.name}")
    for rule in view.of_type(t.SECURITY_GROUP_RULE):
        with view.reading(rule):
            if rule.props.get("type") == "ingress" and _public(_cidrs(rule.props, "cidrBlocks", "ipv6CidrBlocks")):
                ingress = Ingress(
                    str(rule.props.get("protocol", "")),
                    number(rule.props.get("fromPort")),
                    number(rule.props.get("toPort")),
                )
                judge(rule, ingress, _targets_alb(rule, alb_urns, alb_ids), f"Rule {rule.name}")
    for group in view.of_type(t.SECURITY_GROUP):
        with view.reading(group):
            on_alb = group.urn in alb_urns
            for block in iter_mappings(group.props.get("ingress")):
                if _public(_cidrs(block, "cidrBlocks", "ipv6CidrBlocks")):
                    ingress = Ingress(
                        str(block.get("protocol", "")), number(block.get("fromPort")), number(block.get("toPort"))
                    )
                    judge(group, ingress, on_alb, f"Security group {group.name} (inline ingress)")


def policies() -> Sequence[StackValidationPolicy]:
    return [
        stack_policy(
            name="sg-no-public-ingress",
            description="Only the ALB's security group accepts traffic from 0.0.0.0/0 or ::/0, on TCP 80 and 443.",
            check=_public_ingress,
            enforcement=EnforcementLevel.ADVISORY,
            severity=Severity.CRITICAL,
            remediation="Reference the client's security group (referencedSecurityGroupId) instead of a CIDR; "
            "put internet-facing endpoints behind the ALB.",
        ),
    ]
