"""A Network Load Balancer with static IPs: typed listeners and target groups, one Elastic IP per AZ.

Typical use here: fixed addresses in front of the ALB (target type ``alb``) for clients that can only
allow-list IPs, while the ALB keeps the HTTP routing. The same component serves UDP/TCP services on
``ip`` or ``instance`` targets, and terminates TLS itself when a certificate is given.

Every combination AWS would reject is refused in ``NetworkLoadBalancerArgs`` (``InputError``), so a
bad spec stops the run before anything is created. The rules come from the ELBv2 API reference
(botocore's ``elbv2`` model: CreateTargetGroup/CreateListener) and the NLB user guide:

- listener -> target group protocols: TCP -> TCP|TCP_UDP, TLS -> TCP|TLS, UDP -> UDP|TCP_UDP,
  TCP_UDP -> TCP_UDP;
- an ``alb`` target group is TCP only, its port is the ALB listener's port, and its health check is
  HTTP or HTTPS (sent to that ALB listener);
- health checks: TCP, HTTP or HTTPS only; interval 5-300 s; timeout 2-120 s; thresholds 2-10;
  HTTP(S) matcher codes within 200-599; path only for HTTP(S).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal

import pulumi
import pulumi_aws as aws

# One list of TLS 1.3 policies for both load balancers (NLB TLS listeners take the same ELB policies,
# including AWS's recommended hybrid post-quantum default).
from components.arns import check_certificate_arn
from components.errors import InputError, in_range, one_of, require
from components.load_balancer import DEFAULT_TLS_POLICY, TLS13_POLICIES

NlbProtocol = Literal["TCP", "UDP", "TCP_UDP", "TLS"]
NlbTargetType = Literal["ip", "instance", "alb"]
HealthCheckProtocol = Literal["TCP", "HTTP", "HTTPS"]
AlpnPolicy = Literal["HTTP1Only", "HTTP2Only", "HTTP2Optional", "HTTP2Preferred", "None"]

# Which target-group protocols a listener protocol may forward to (CreateListener / NLB guide).
LISTENER_TARGET_PROTOCOLS: Final[dict[str, frozenset[str]]] = {
    "TCP": frozenset({"TCP", "TCP_UDP"}),
    "TLS": frozenset({"TCP", "TLS"}),
    "UDP": frozenset({"UDP", "TCP_UDP"}),
    "TCP_UDP": frozenset({"TCP_UDP"}),
}
# Security-group protocols a listener or target group protocol needs.
_SG_PROTOCOLS: Final[dict[str, tuple[str, ...]]] = {
    "TCP": ("tcp",),
    "TLS": ("tcp",),
    "UDP": ("udp",),
    "TCP_UDP": ("tcp", "udp"),
}
_MATCHER: Final = re.compile(r"^\d{3}(-\d{3})?(,\d{3}(-\d{3})?)*$")
_NAME: Final = re.compile(r"^[a-z][a-z0-9-]{0,15}$")


def _validate_matcher(setting: str, matcher: str, low: int, high: int) -> None:
    allowed = f"HTTP codes or ranges such as '200' or '200-399', each from {low} to {high}"
    require(_MATCHER.match(matcher) is not None, setting, matcher, allowed)
    for code in re.findall(r"\d{3}", matcher):
        require(low <= int(code) <= high, setting, matcher, allowed)


@dataclass(frozen=True, kw_only=True)
class NlbHealthCheck:
    """Active health check of a target group (NLB ranges, from the ELBv2 API reference)."""

    protocol: HealthCheckProtocol = "TCP"
    """TCP, HTTP or HTTPS (UDP, TLS and TCP_UDP cannot be health-check protocols)."""
    port: int | Literal["traffic-port"] = "traffic-port"
    """Port checked; a UDP target group needs an explicit TCP port here."""
    path: str | None = None
    """HTTP(S) only: the request path (defaults to ``/`` for HTTP(S) checks)."""
    matcher: str = "200-399"
    """HTTP(S) only: success codes, within 200-599."""
    interval_seconds: int = 10
    """5-300."""
    timeout_seconds: int = 5
    """2-120, and shorter than the interval."""
    healthy_threshold: int = 3
    """2-10 consecutive successes."""
    unhealthy_threshold: int = 2
    """2-10 consecutive failures."""

    def validate(self, where: str) -> None:
        one_of(f"{where}.protocol", self.protocol, ("TCP", "HTTP", "HTTPS"))
        if self.port != "traffic-port":
            in_range(f"{where}.port", self.port, 1, 65535)
        in_range(f"{where}.interval_seconds", self.interval_seconds, 5, 300)
        in_range(f"{where}.timeout_seconds", self.timeout_seconds, 2, 120)
        require(
            self.timeout_seconds < self.interval_seconds,
            f"{where}.timeout_seconds",
            self.timeout_seconds,
            f"less than interval_seconds ({self.interval_seconds})",
        )
        in_range(f"{where}.healthy_threshold", self.healthy_threshold, 2, 10)
        in_range(f"{where}.unhealthy_threshold", self.unhealthy_threshold, 2, 10)
        if self.protocol == "TCP":
            require(self.path is None, f"{where}.path", self.path, "none with TCP (only HTTP(S) checks take a path)")
        else:
            path = self.path or "/"
            require(
                path.startswith("/") and len(path) <= 1024, f"{where}.path", path, "a path starting with / (<= 1024)"
            )
            _validate_matcher(f"{where}.matcher", self.matcher, 200, 599)


@dataclass(frozen=True, kw_only=True)
class AlbTarget:
    """An Application Load Balancer registered as the single target of an ``alb`` target group."""

    load_balancer_arn: pulumi.Input[str]
    listener_arn: pulumi.Input[str]
    """The ALB listener on the target group's port. The registration waits for it: AWS refuses an
    ALB target that has no listener on the target group's port."""
    listener_port: int
    """Port of that listener (must equal the target group's port)."""
    listener_protocol: Literal["HTTP", "HTTPS"]
    """Protocol of that listener: a health check on the traffic port must use the same protocol."""
    security_group_id: pulumi.Input[str] | None = None
    """The ALB's security group; the NLB adds the rule admitting itself (the client creates the connection)."""


@dataclass(frozen=True, kw_only=True)
class NlbTargetGroup:
    """One target group: protocol, port, target type, health check and its targets."""

    name: str
    """Short role name (lowercase, <= 16 chars), used in child names and referenced by listeners."""
    protocol: NlbProtocol
    port: int
    target_type: NlbTargetType
    health_check: NlbHealthCheck
    targets: Sequence[pulumi.Input[str]] = ()
    """``ip``: private IPv4 addresses; ``instance``: instance IDs. Empty for ``alb`` (use ``alb``)."""
    alb: AlbTarget | None = None
    """Required for (and only for) ``target_type="alb"``."""
    target_security_group_id: pulumi.Input[str] | None = None
    """Security group of ``ip``/``instance`` targets, so the NLB can create the rules to reach them."""
    deregistration_delay_seconds: int = 60
    """0-3600: how long in-flight connections drain from a deregistered target."""

    @property
    def security_group_id(self) -> pulumi.Input[str] | None:
        """The security group the NLB must be admitted by (the ALB's for ``alb`` targets)."""
        return self.alb.security_group_id if self.alb is not None else self.target_security_group_id


@dataclass(frozen=True, kw_only=True)
class NlbListener:
    """A listener forwarding to one target group."""

    port: int
    protocol: NlbProtocol
    target_group: str
    """Name of a target group in ``NetworkLoadBalancerArgs.target_groups``."""
    certificate_arn: pulumi.Input[str] | None = None
    """ACM certificate; required for (and only for) TLS listeners."""
    ssl_policy: str = DEFAULT_TLS_POLICY
    """TLS only: a TLS 1.3 policy (``components.load_balancer.TLS13_POLICIES``)."""
    alpn_policy: AlpnPolicy | None = None
    """TLS only: ALPN negotiation (e.g. ``HTTP2Preferred``)."""


@dataclass(frozen=True, kw_only=True)
class NetworkLoadBalancerArgs:
    """Settings for one Network Load Balancer."""

    vpc_id: pulumi.Input[str]
    subnet_ids: Sequence[pulumi.Input[str]]
    """One subnet per AZ (public subnets for an internet-facing NLB)."""
    availability_zones: Sequence[str]
    """AZ names in the order of ``subnet_ids`` (plain values: they decide how many EIPs exist)."""
    listeners: Sequence[NlbListener]
    target_groups: Sequence[NlbTargetGroup]
    internal: bool = False
    """Internal NLBs have private addresses only (no Elastic IPs)."""
    static_ips: bool = True
    """Internet-facing: one Elastic IP per AZ in the subnet mappings, so the addresses never change."""
    existing_eip_allocation_ids: Sequence[str] = ()
    """Use these Elastic IPs (``eipalloc-...``, one per AZ, in AZ order) instead of allocating new ones."""
    security_group: bool = True
    """Attach a security group (AWS only allows this when the NLB is created; adding one later replaces it)."""
    ingress_cidrs: Sequence[str] = ()
    """Client CIDRs admitted on the listener ports (required with a security group)."""
    deletion_protection: bool = False
    protect_static_ips: bool = False
    """``protect`` the Elastic IPs (prod): deleting allow-listed addresses needs a deliberate unprotect."""

    def __post_init__(self) -> None:
        az_count = len(self.availability_zones)
        require(2 <= az_count <= 6, "availability_zones", list(self.availability_zones), "2 to 6 AZ names")
        require(
            len(self.subnet_ids) == az_count,
            "subnet_ids",
            f"{len(self.subnet_ids)} subnets",
            f"one subnet per AZ ({az_count})",
        )
        self._validate_addresses(az_count)
        groups = self._validate_target_groups()
        self._validate_listeners(groups)
        if self.security_group:
            check_ingress_cidrs("ingress_cidrs", self.ingress_cidrs)
            for i, tg in enumerate(self.target_groups):
                require(
                    tg.security_group_id is not None,
                    f"target_groups[{i}].security_group_id",
                    None,
                    f"the targets' security group ({tg.name}: alb.security_group_id or target_security_group_id): "
                    "the NLB has a security group, and the targets' must admit it",
                )
        else:
            require(
                not self.ingress_cidrs, "ingress_cidrs", list(self.ingress_cidrs), "empty when security_group is False"
            )

    def _validate_addresses(self, az_count: int) -> None:
        ids = list(self.existing_eip_allocation_ids)
        if self.internal:
            require(not ids, "existing_eip_allocation_ids", ids, "empty: an internal NLB has no public addresses")
            return
        if ids:
            require(self.static_ips, "existing_eip_allocation_ids", ids, "empty when static_ips is False")
            require(
                len(ids) == az_count,
                "existing_eip_allocation_ids",
                ids,
                f"exactly one Elastic IP per AZ ({az_count})",
            )
            require(len(set(ids)) == len(ids), "existing_eip_allocation_ids", ids, "distinct allocation IDs")
            bad = [a for a in ids if not re.match(r"^eipalloc-[0-9a-f]{8,17}$", a)]
            require(not bad, "existing_eip_allocation_ids", ids, f"allocation IDs eipalloc-... (bad: {bad})")

    def _validate_target_groups(self) -> dict[str, NlbTargetGroup]:
        require(bool(self.target_groups), "target_groups", [], "at least one target group")
        groups: dict[str, NlbTargetGroup] = {}
        for i, tg in enumerate(self.target_groups):
            where = f"target_groups[{i}]"
            require(_NAME.match(tg.name) is not None, f"{where}.name", tg.name, "lowercase letters, digits, '-', <= 16")
            require(tg.name not in groups, f"{where}.name", tg.name, "a name no other target group has")
            groups[tg.name] = tg
            one_of(f"{where}.protocol", tg.protocol, LISTENER_TARGET_PROTOCOLS)
            one_of(f"{where}.target_type", tg.target_type, ("ip", "instance", "alb"))
            in_range(f"{where}.port", tg.port, 1, 65535)
            in_range(f"{where}.deregistration_delay_seconds", tg.deregistration_delay_seconds, 0, 3600)
            if tg.target_type == "alb":
                self._validate_alb_group(where, tg)
            tg.health_check.validate(f"{where}.health_check")
            if tg.protocol == "UDP":
                require(
                    tg.health_check.port != "traffic-port",
                    f"{where}.health_check.port",
                    tg.health_check.port,
                    "an explicit TCP port: UDP targets are health-checked over TCP",
                )
            if tg.target_type != "alb":
                require(tg.alb is None, f"{where}.alb", "an AlbTarget", "none unless target_type is 'alb'")
                for target in tg.targets:
                    if isinstance(target, str):
                        _validate_target(where, tg.target_type, target)
        return groups

    @staticmethod
    def _validate_alb_group(where: str, tg: NlbTargetGroup) -> None:
        require(
            tg.protocol == "TCP",
            f"{where}.protocol",
            tg.protocol,
            "TCP: an 'alb' target group accepts only TCP (no UDP, TCP_UDP or TLS)",
        )
        require(tg.alb is not None, f"{where}.alb", None, "the ALB (AlbTarget) for target_type 'alb'")
        require(
            not tg.targets, f"{where}.targets", list(tg.targets), "empty: an 'alb' target group's one target is alb"
        )
        assert tg.alb is not None
        require(
            tg.health_check.protocol in ("HTTP", "HTTPS"),
            f"{where}.health_check.protocol",
            tg.health_check.protocol,
            "HTTP or HTTPS: an 'alb' target is checked through one of its listeners",
        )
        require(
            tg.alb.listener_port == tg.port,
            f"{where}.port",
            tg.port,
            f"the ALB listener's port ({tg.alb.listener_port}): an 'alb' target group's port must be one",
        )
        if tg.health_check.port in ("traffic-port", tg.port):
            require(
                tg.health_check.protocol == tg.alb.listener_protocol,
                f"{where}.health_check.protocol",
                tg.health_check.protocol,
                f"{tg.alb.listener_protocol}, the protocol of the ALB's listener on {tg.port}",
            )

    def _validate_listeners(self, groups: dict[str, NlbTargetGroup]) -> None:
        require(bool(self.listeners), "listeners", [], "at least one listener")
        ports: set[int] = set()
        used: set[str] = set()
        for i, listener in enumerate(self.listeners):
            where = f"listeners[{i}]"
            in_range(f"{where}.port", listener.port, 1, 65535)
            require(
                listener.port not in ports,
                f"{where}.port",
                listener.port,
                "a port no other listener uses (TCP_UDP serves TCP and UDP on one port)",
            )
            ports.add(listener.port)
            one_of(f"{where}.protocol", listener.protocol, LISTENER_TARGET_PROTOCOLS)
            allowed = LISTENER_TARGET_PROTOCOLS[listener.protocol]
            one_of(f"{where}.target_group", listener.target_group, groups)
            tg = groups[listener.target_group]
            used.add(tg.name)
            if tg.target_type == "alb":
                require(
                    listener.protocol == "TCP",
                    f"{where}.protocol",
                    listener.protocol,
                    f"TCP: it forwards to '{tg.name}' (target type alb), and only TCP listeners can forward to an ALB",
                )
            require(
                tg.protocol in allowed,
                f"{where}.target_group",
                listener.target_group,
                f"a target group of protocol {', '.join(sorted(allowed))} for a {listener.protocol} listener "
                f"('{tg.name}' is {tg.protocol})",
            )
            if listener.protocol == "TLS":
                require(
                    listener.certificate_arn is not None,
                    f"{where}.certificate_arn",
                    None,
                    "an ACM certificate ARN: a TLS listener needs a certificate",
                )
                if isinstance(listener.certificate_arn, str):
                    check_certificate_arn(f"{where}.certificate_arn", listener.certificate_arn)
                one_of(f"{where}.ssl_policy", listener.ssl_policy, TLS13_POLICIES)
            else:
                require(
                    listener.certificate_arn is None,
                    f"{where}.certificate_arn",
                    listener.certificate_arn,
                    "none: only TLS listeners take one",
                )
                require(
                    listener.alpn_policy is None,
                    f"{where}.alpn_policy",
                    listener.alpn_policy,
                    "none: only TLS listeners",
                )
        unused = [name for name in groups if name not in used]
        # A target group no listener forwards to is never health-checked and never receives traffic.
        require(not unused, "target_groups", unused, "only target groups some listener forwards to")


def _validate_target(where: str, target_type: str, target: str) -> None:
    if target_type == "instance":
        require(re.match(r"^i-[0-9a-f]{8,17}$", target) is not None, f"{where}.targets", target, "instance IDs (i-...)")
        return
    try:
        address = ipaddress.IPv4Address(target)
    except ValueError:
        raise InputError(f"{where}.targets", target, "IPv4 addresses") from None
    # AWS accepts VPC, RFC 1918 and RFC 6598 addresses only, never publicly routable ones.
    require(
        address.is_private or address in ipaddress.IPv4Network("100.64.0.0/10"),
        f"{where}.targets",
        target,
        "private addresses (RFC 1918/6598): ip targets are never publicly routable",
    )


def check_ingress_cidrs(setting: str, cidrs: Sequence[str]) -> None:
    """Client ranges admitted by the NLB's security group: one or more IPv4 CIDRs."""
    values = list(cidrs)
    require(bool(values), setting, values, "at least one CIDR (IPv4; a security group with no ingress admits no one)")
    for cidr in values:
        try:
            ipaddress.IPv4Network(cidr)
        except ValueError:
            raise InputError(setting, values, f"every item an IPv4 CIDR such as 203.0.113.0/24 (bad: {cidr})") from None


@dataclass(frozen=True, kw_only=True)
class AlbListener:
    """One listener of the ALB to put behind the NLB."""

    port: int
    protocol: Literal["HTTP", "HTTPS"]
    arn: pulumi.Input[str]


def alb_front_door(
    *,
    alb_arn: pulumi.Input[str],
    alb_security_group_id: pulumi.Input[str],
    alb_listeners: Sequence[AlbListener],
) -> tuple[list[NlbListener], list[NlbTargetGroup]]:
    """TCP listeners and ``alb`` target groups that pass each ALB listener's port straight through.

    TLS stays on the ALB (its certificate and TLS 1.3 policy). The health check goes to ``/``
    through the same ALB listener and accepts 200-499: any HTTP answer (the ALB's default 404, or the
    80 -> 443 redirect) proves the ALB is serving on that port; the ALB health-checks its own targets,
    and these checks never reach the app.
    """
    listeners: list[NlbListener] = []
    groups: list[NlbTargetGroup] = []
    for alb_listener in alb_listeners:
        name = f"alb-{alb_listener.port}"
        groups.append(
            NlbTargetGroup(
                name=name,
                protocol="TCP",
                port=alb_listener.port,
                target_type="alb",
                health_check=NlbHealthCheck(protocol=alb_listener.protocol, path="/", matcher="200-499"),
                alb=AlbTarget(
                    load_balancer_arn=alb_arn,
                    listener_arn=alb_listener.arn,
                    listener_port=alb_listener.port,
                    listener_protocol=alb_listener.protocol,
                    security_group_id=alb_security_group_id,
                ),
            )
        )
        listeners.append(NlbListener(port=alb_listener.port, protocol="TCP", target_group=name))
    return listeners, groups


@dataclass(frozen=True)
class _Port:
    protocol: str  # tcp | udp
    port: int


class NetworkLoadBalancer(pulumi.ComponentResource):
    """An NLB with cross-zone load balancing, optional static IPs and security group, listeners and targets."""

    load_balancer_arn: pulumi.Output[str]
    """ARN of the NLB."""
    dns_name: pulumi.Output[str]
    """DNS name of the NLB (resolves to the static IPs when they are on)."""
    zone_id: pulumi.Output[str]
    """Route 53 hosted zone of the DNS name (for alias records)."""
    static_ips: list[pulumi.Output[str]]
    """Public IPv4 address per AZ, in AZ order (empty when static IPs are off or the NLB is internal)."""
    eip_allocation_ids: list[pulumi.Output[str]]
    """Elastic IP allocation ID per AZ, in AZ order."""
    security_group_id: pulumi.Output[str] | None
    """The NLB's security group (None when ``security_group=False``)."""
    target_group_arns: dict[str, pulumi.Output[str]]
    """Target group ARN by target group name."""
    listener_arns: dict[int, pulumi.Output[str]]
    """Listener ARN by port."""

    def __init__(self, name: str, args: NetworkLoadBalancerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("platform:nlb:NetworkLoadBalancer", name, None, opts)
        self._name = name
        self._args = args
        child = pulumi.ResourceOptions(parent=self)

        self.security_group_id = self._create_security_group() if args.security_group else None
        self.static_ips, self.eip_allocation_ids = self._static_addresses()

        if self.eip_allocation_ids:
            mappings = [
                aws.lb.LoadBalancerSubnetMappingArgs(subnet_id=subnet, allocation_id=allocation)
                for subnet, allocation in zip(args.subnet_ids, self.eip_allocation_ids, strict=True)
            ]
        else:
            mappings = [aws.lb.LoadBalancerSubnetMappingArgs(subnet_id=subnet) for subnet in args.subnet_ids]

        nlb = aws.lb.LoadBalancer(
            f"{name}-nlb",
            load_balancer_type="network",
            internal=args.internal,
            ip_address_type="ipv4",
            subnet_mappings=mappings,
            security_groups=[self.security_group_id] if self.security_group_id is not None else None,
            # Each NLB node spreads over the targets in every AZ, not only its own (an AZ with fewer
            # targets is not overloaded); the guardrails require it on NLBs and GWLBs.
            enable_cross_zone_load_balancing=True,
            enable_deletion_protection=args.deletion_protection,
            tags={"Name": name},
            # An Elastic IP is associated with one load balancer at a time: a replacement NLB can only
            # take the addresses once the old one has released them, so replace by delete-then-create.
            # The EIPs themselves are separate resources and survive the replacement unchanged.
            opts=pulumi.ResourceOptions(parent=self, delete_before_replace=bool(self.eip_allocation_ids)),
        )
        self.load_balancer_arn = nlb.arn
        self.dns_name = nlb.dns_name
        self.zone_id = nlb.zone_id

        self.target_group_arns = {}
        for tg in args.target_groups:
            self.target_group_arns[tg.name] = self._create_target_group(tg, child)

        self.listener_arns = {}
        for listener in args.listeners:
            self.listener_arns[listener.port] = aws.lb.Listener(
                f"{name}-{listener.protocol.lower().replace('_', '-')}-{listener.port}",
                load_balancer_arn=nlb.arn,
                port=listener.port,
                protocol=listener.protocol,
                certificate_arn=listener.certificate_arn,
                ssl_policy=listener.ssl_policy if listener.protocol == "TLS" else None,
                alpn_policy=listener.alpn_policy,
                default_actions=[
                    aws.lb.ListenerDefaultActionArgs(
                        type="forward", target_group_arn=self.target_group_arns[listener.target_group]
                    )
                ],
                opts=child,
            ).arn

        self.register_outputs(
            {
                "loadBalancerArn": self.load_balancer_arn,
                "dnsName": self.dns_name,
                "staticIps": self.static_ips,
                "securityGroupId": self.security_group_id,
            }
        )

    # -- addresses ----------------------------------------------------------------------------------
    def _static_addresses(self) -> tuple[list[pulumi.Output[str]], list[pulumi.Output[str]]]:
        args = self._args
        if args.internal or not args.static_ips:
            return [], []
        if args.existing_eip_allocation_ids:
            found = [
                aws.ec2.get_elastic_ip_output(id=allocation, opts=pulumi.InvokeOutputOptions(parent=self))
                for allocation in args.existing_eip_allocation_ids
            ]
            return [f.public_ip for f in found], [pulumi.Output.from_input(a) for a in args.existing_eip_allocation_ids]
        ips: list[pulumi.Output[str]] = []
        allocations: list[pulumi.Output[str]] = []
        for i, az in enumerate(args.availability_zones):
            # Separate resources, not part of the NLB: replacing the NLB keeps the addresses clients
            # allow-listed. In prod they are `protect`ed, so only a deliberate `pulumi state unprotect`
            # can release them. Not `retain_on_delete`: a retained EIP drops out of the state but stays
            # allocated (and billed) in the account, invisible until someone imports it again.
            eip = aws.ec2.Eip(
                f"{self._name}-eip-{i + 1}",
                domain="vpc",
                tags={"Name": f"{self._name}-{az}"},
                opts=pulumi.ResourceOptions(parent=self, protect=args.protect_static_ips),
            )
            ips.append(eip.public_ip)
            allocations.append(eip.allocation_id)
        return ips, allocations

    # -- security group -----------------------------------------------------------------------------
    def _create_security_group(self) -> pulumi.Output[str]:
        name, args = self._name, self._args
        child = pulumi.ResourceOptions(parent=self)
        sg = aws.ec2.SecurityGroup(
            f"{name}-sg",
            vpc_id=args.vpc_id,
            description=f"NLB {name}: listener ports from the allowed client CIDRs",
            tags={"Name": f"{name}-nlb"},
            opts=child,
        )
        listener_ports = sorted(
            {_Port(p, listener.port) for listener in args.listeners for p in _SG_PROTOCOLS[listener.protocol]},
            key=lambda p: (p.port, p.protocol),
        )
        for port in listener_ports:
            for i, cidr in enumerate(args.ingress_cidrs):
                aws.vpc.SecurityGroupIngressRule(
                    f"{name}-in-{port.protocol}-{port.port}-{i + 1}",
                    security_group_id=sg.id,
                    description=f"Clients to the NLB listener {port.protocol.upper()} {port.port}",
                    ip_protocol=port.protocol,
                    from_port=port.port,
                    to_port=port.port,
                    cidr_ipv4=cidr,
                    opts=child,
                )
        return sg.id

    def _connect(self, tg: NlbTargetGroup, target_sg: pulumi.Input[str], child: pulumi.ResourceOptions) -> None:
        """The NLB (client) creates both halves: egress from its group, ingress on the targets' group."""
        assert self.security_group_id is not None
        ports = {_Port(p, tg.port) for p in _SG_PROTOCOLS[tg.protocol]}
        # Health checks are TCP-based (TCP, HTTP, HTTPS), on their own port or the traffic port.
        check_port = tg.health_check.port
        ports.add(_Port("tcp", check_port if isinstance(check_port, int) else tg.port))
        what = "ALB" if tg.target_type == "alb" else "targets"
        for port in sorted(ports, key=lambda p: (p.port, p.protocol)):
            suffix = f"{tg.name}-{port.protocol}-{port.port}"
            aws.vpc.SecurityGroupEgressRule(
                f"{self._name}-to-{suffix}",
                security_group_id=self.security_group_id,
                description=f"NLB to the {what} of target group {tg.name} ({port.protocol.upper()} {port.port})",
                ip_protocol=port.protocol,
                from_port=port.port,
                to_port=port.port,
                referenced_security_group_id=target_sg,
                opts=child,
            )
            aws.vpc.SecurityGroupIngressRule(
                f"{self._name}-into-{suffix}",
                security_group_id=target_sg,
                description=f"From NLB {self._name} ({port.protocol.upper()} {port.port}, traffic and health checks)",
                ip_protocol=port.protocol,
                from_port=port.port,
                to_port=port.port,
                referenced_security_group_id=self.security_group_id,
                opts=child,
            )

    # -- target groups ------------------------------------------------------------------------------
    def _create_target_group(self, tg: NlbTargetGroup, child: pulumi.ResourceOptions) -> pulumi.Output[str]:
        name, args = self._name, self._args
        check = tg.health_check
        http = check.protocol in ("HTTP", "HTTPS")
        group = aws.lb.TargetGroup(
            f"{name}-{tg.name}",
            vpc_id=args.vpc_id,
            target_type=tg.target_type,
            protocol=tg.protocol,
            port=tg.port,
            deregistration_delay=tg.deregistration_delay_seconds,
            health_check=aws.lb.TargetGroupHealthCheckArgs(
                enabled=True,
                protocol=check.protocol,
                port=str(check.port),
                path=(check.path or "/") if http else None,
                matcher=check.matcher if http else None,
                interval=check.interval_seconds,
                timeout=check.timeout_seconds,
                healthy_threshold=check.healthy_threshold,
                unhealthy_threshold=check.unhealthy_threshold,
            ),
            tags={"Name": f"{name}-{tg.name}"},
            opts=child,
        )
        if tg.security_group_id is not None and self.security_group_id is not None:
            self._connect(tg, tg.security_group_id, child)

        if tg.alb is not None:
            # Registering an ALB fails unless it already has a listener on the target group's port:
            # taking the ARN through the listener's output makes the attachment depend on it.
            alb_arn = pulumi.Output.all(tg.alb.load_balancer_arn, tg.alb.listener_arn).apply(lambda v: str(v[0]))
            aws.lb.TargetGroupAttachment(
                f"{name}-{tg.name}-alb", target_group_arn=group.arn, target_id=alb_arn, port=tg.port, opts=child
            )
        for i, target in enumerate(tg.targets):
            aws.lb.TargetGroupAttachment(
                f"{name}-{tg.name}-target-{i + 1}",
                target_group_arn=group.arn,
                target_id=target,
                port=tg.port,
                opts=child,
            )
        return group.arn
