"""Architecture diagram (Mermaid) generated from what the program registered, so it never drifts.

Nodes are the top-level components. Solid arrows are *traffic*: one per security-group ingress rule
that references another component's security group (or admits the internet), labelled with the
protocol and port. Dashed arrows are *uses*: a component's resources depend on another's (an image
reference, an ARN, a secret), network plumbing left out since everything lives in the VPC.
"""

from __future__ import annotations

import ipaddress
import re
from collections import Counter
from typing import Any, Final

from mockcloud.cloud import hexid
from mockcloud.runner import StackRun

INGRESS_RULE: Final = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
NETWORK_TYPE: Final = "platform:network:Network"
INTERNET: Final = "internet"


def _node_id(urn: str) -> str:
    # Stable across runs and processes (str hash() is salted per process).
    return "c_" + re.sub(r"[^A-Za-z0-9_]", "_", urn.split("::")[-1]) + "_" + hexid(urn, 4)


def _short_type(type_: str) -> str:
    return type_.rsplit(":", 1)[-1]


def _port_label(rule: dict[str, Any]) -> str:
    protocol = str(rule.get("ipProtocol", "tcp"))
    low, high = rule.get("fromPort"), rule.get("toPort")
    if protocol == "-1":
        return "all traffic"
    if low is None:
        return protocol
    low, high = int(low), int(high if high is not None else low)
    return f"{protocol} {low}" if low == high else f"{protocol} {low}-{high}"


class _Graph:
    def __init__(self, run: StackRun) -> None:
        self.run = run
        self.stack_urn = run.stack_urn
        self.by_urn = {r.urn: r for r in run.resources}
        self.top: dict[str, str] = {}  # urn -> top-level component urn
        for r in run.resources:
            self.top[r.urn] = self._top_of(r.urn)

    def _top_of(self, urn: str) -> str:
        current = self.by_urn.get(urn)
        while current is not None and current.parent and current.parent != self.stack_urn:
            current = self.by_urn.get(current.parent)
        return current.urn if current is not None else urn

    def components(self) -> list[str]:
        # Sorted: components built concurrently register in an order that varies between runs.
        tops = [r for r in self.run.resources if r.parent == self.stack_urn and not r.custom]
        return [r.urn for r in sorted(tops, key=lambda r: (r.type, r.name))]

    def owner_of_security_group(self, sg_id: str) -> str | None:
        for r in self.run.resources:
            if r.id == sg_id and r.type in ("aws:ec2/securityGroup:SecurityGroup",):
                return self.top[r.urn]
        return None

    def vpc_cidrs(self) -> list[ipaddress.IPv4Network]:
        cidrs = [r.inputs.get("cidrBlock") for r in self.run.of_type("aws:ec2/vpc:Vpc")]
        return [ipaddress.IPv4Network(c) for c in cidrs if c]


def mermaid(run: StackRun) -> str:
    """A Mermaid flowchart of the components and the traffic and dependencies between them."""
    graph = _Graph(run)
    lines = ["flowchart LR"]
    components = graph.components()
    ids = {urn: _node_id(urn) for urn in components}
    for urn in components:
        component = graph.by_urn[urn]
        inside = Counter(_short_type(r.type) for r in run.descendants(urn) if r.custom and graph.top[r.urn] == urn)
        # Ties broken by name: most_common() keeps insertion order, i.e. async registration order.
        top = sorted(inside.items(), key=lambda item: (-item[1], item[0]))[:4]
        summary = ", ".join(f"{n} {t}" if n > 1 else t for t, n in top)
        label = f"<b>{_short_type(component.type)}</b><br/>{component.name}"
        if summary:
            label += f"<br/><small>{summary}</small>"
        lines.append(f'  {ids[urn]}["{label}"]')

    traffic: dict[tuple[str, str], set[str]] = {}
    vpcs = graph.vpc_cidrs()
    for rule in run.of_type(INGRESS_RULE):
        target = graph.owner_of_security_group(str(rule.inputs.get("securityGroupId", "")))
        if target is None or target not in ids:
            continue
        source: str | None = None
        if rule.inputs.get("referencedSecurityGroupId"):
            source = graph.owner_of_security_group(str(rule.inputs["referencedSecurityGroupId"]))
        elif rule.inputs.get("cidrIpv4") or rule.inputs.get("cidrIpv6"):
            cidr = ipaddress.ip_network(str(rule.inputs.get("cidrIpv4") or rule.inputs.get("cidrIpv6")))
            internal = any(isinstance(cidr, ipaddress.IPv4Network) and cidr.subnet_of(v) for v in vpcs)
            source = None if internal else INTERNET
        if source is None or source == target:
            continue
        traffic.setdefault((source, target), set()).add(_port_label(rule.inputs))

    if any(src == INTERNET for src, _ in traffic):
        lines.insert(1, f"  {INTERNET}((Internet))")
    for (source, target), ports in sorted(traffic.items()):
        src_id = INTERNET if source == INTERNET else ids[source]
        lines.append(f'  {src_id} -->|"{", ".join(sorted(ports))}"| {ids[target]}')

    uses: set[tuple[str, str]] = set()
    for r in run.resources:
        owner = graph.top.get(r.urn)
        if owner not in ids:
            continue
        deps = set(r.dependencies) | {u for urns in r.property_dependencies.values() for u in urns}
        for dep in deps:
            target = graph.top.get(dep)
            if target is None or target == owner or target not in ids:
                continue
            if graph.by_urn[target].type == NETWORK_TYPE:
                continue
            if (owner, target) in traffic or (target, owner) in traffic:
                continue
            uses.add((owner, target))
    for owner, target in sorted(uses):
        lines.append(f"  {ids[owner]} -.->|uses| {ids[target]}")
    return "\n".join(lines) + "\n"
