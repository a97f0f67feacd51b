"""Route 53 alias records for the service hosts: ``api.<domain>`` and ``ops.<domain>`` to the ALB.

An alias record answers with the load balancer's current addresses (which change: an ALB has no
fixed IPs) at no query charge, and ``evaluate_target_health`` lets Route 53 stop answering with a
load balancer that has no healthy targets. Records are created per plain host name, so their count
never hangs off an ``Output``.

A and AAAA: an A alias per host always; an AAAA alias where the target answers IPv6 (a ``dualstack``
load balancer). An AAAA alias to an IPv4-only load balancer resolves to nothing, so it is not created
rather than promised. A host may point at the static-IP NLB instead of the ALB (``target="nlb"``),
for clients that allow-list the NLB's Elastic IPs; TLS still terminates at the ALB behind it, so such
a host must be on the certificate and in the ALB's host-header rules like any other.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal

import pulumi
import pulumi_aws as aws

from components.errors import InputError, one_of, require
from components.hosted_zone import HostedZone, check_domain_name

TargetKind = Literal["alb", "nlb"]
TARGET_KINDS: Final = ("alb", "nlb")
_KEY: Final = re.compile(r"^[a-z][a-z0-9-]{0,31}$")


@dataclass(frozen=True, kw_only=True)
class AliasTarget:
    """A load balancer an alias record points at."""

    dns_name: pulumi.Input[str]
    """The load balancer's DNS name."""
    zone_id: pulumi.Input[str]
    """Its canonical hosted zone ID (ELB's, per region and type; not the record's zone)."""
    ipv6: bool = False
    """Whether it answers IPv6 (``ip_address_type="dualstack"``): decides whether AAAA records exist."""


@dataclass(frozen=True, kw_only=True)
class ServiceHost:
    """One host name and the load balancer it resolves to."""

    key: str
    """Short identifier (``api``): names the records' resources."""
    name: str
    """Fully qualified host, e.g. ``api.catalog.example.com``."""
    target: TargetKind = "alb"
    """``alb`` (everyone) or ``nlb`` (the static-IP entry for allow-listing clients)."""


@dataclass(frozen=True, kw_only=True)
class ServiceDnsArgs:
    """The zone, the hosts and the load balancers they point at."""

    zone: HostedZone
    hosts: Sequence[ServiceHost]
    alb: AliasTarget
    nlb: AliasTarget | None = None
    """The static-IP NLB, when there is one; required by any host with ``target="nlb"``."""
    evaluate_target_health: bool = True
    """Route 53 answers only while the load balancer has healthy targets (with one load balancer per
    name this turns "no healthy target" into no answer instead of a 503; AWS's default for ELB aliases)."""

    def __post_init__(self) -> None:
        require(bool(self.hosts), "hosts", [], "at least one host")
        keys = [h.key for h in self.hosts]
        names = [h.name for h in self.hosts]
        for i, host in enumerate(self.hosts):
            require(bool(_KEY.match(host.key)), f"hosts[{i}].key", host.key, "1-32 of a-z, 0-9, '-' (letter first)")
            check_domain_name(f"hosts[{host.key}].name", host.name)
            self.zone.require_contains(f"hosts[{host.key}].name", host.name)
            one_of(f"hosts[{host.key}].target", host.target, TARGET_KINDS)
            if host.target == "nlb" and self.nlb is None:
                raise InputError(f"hosts[{host.key}].target", "nlb", "alb, or give the NLB as ServiceDnsArgs.nlb")
        for what, values in (("key", keys), ("name", names)):
            duplicates = sorted({v for v in values if values.count(v) > 1})
            require(not duplicates, f"hosts[].{what}", duplicates, "each once (one record set per name and type)")


class ServiceDns(pulumi.ComponentResource):
    """Alias A (and, to dual-stack targets, AAAA) records for each service host."""

    fqdns: dict[str, str]
    """Host name by key (plain)."""
    record_types: dict[str, list[str]]
    """Record types created per key (plain): ``["A"]`` or ``["A", "AAAA"]``."""

    def __init__(self, name: str, args: ServiceDnsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("platform:edge:ServiceDns", name, None, opts)
        self.fqdns = {h.key: h.name for h in args.hosts}
        self.record_types = {}
        for host in args.hosts:
            target = args.alb if host.target == "alb" else args.nlb
            assert target is not None  # validated in ServiceDnsArgs
            types = ["A", "AAAA"] if target.ipv6 else ["A"]
            self.record_types[host.key] = types
            for record_type in types:
                aws.route53.Record(
                    f"{name}-{host.key}-{record_type.lower()}",
                    zone_id=args.zone.zone_id,
                    name=host.name,
                    type=record_type,
                    aliases=[
                        aws.route53.RecordAliasArgs(
                            name=target.dns_name,
                            zone_id=target.zone_id,
                            evaluate_target_health=args.evaluate_target_health,
                        )
                    ],
                    opts=pulumi.ResourceOptions(parent=self),
                )
        self.register_outputs({"fqdns": self.fqdns, "recordTypes": self.record_types})
