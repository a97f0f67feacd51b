"""A Gateway Load Balancer in front of third-party appliances (firewall, IDS), inline on internet traffic.

The textbook layout: an inspection VPC holds the GWLB and the appliances; the GWLB is published as a
VPC endpoint service; the app VPC gets one Gateway Load Balancer endpoint per AZ in small dedicated
subnets; routes send the app's internet traffic through the endpoint *of the same AZ* in both
directions:

    inbound   IGW -> edge route table: <public subnet CIDR> -> endpoint (same AZ) -> GWLB -> appliance
              -> back to the endpoint -> public subnet (ALB, NLB, NAT)
    outbound  public subnet: 0.0.0.0/0 -> endpoint (same AZ) -> GWLB -> appliance -> endpoint
              -> endpoint subnet: 0.0.0.0/0 -> IGW

The GWLB wraps every packet in GENEVE (UDP 6081) and keeps a flow on one appliance, so appliances
see both directions of a flow as long as both directions cross the same endpoint; that is why the
routes are per AZ. The app VPC is prepared by ``Network(inspection=True)`` (per-AZ public route
tables without a default route, endpoint subnets, the IGW edge table); this component adds the
endpoints and the routes through them.

Every bad setting fails in ``InspectionSpec`` or ``GatewayLoadBalancerArgs`` (``InputError``) before
anything exists.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final, Literal, get_args

import pulumi
import pulumi_aws as aws

from components.aws_context import AwsContext
from components.errors import InputError, in_range, one_of, require
from components.network import InspectionRouting, NetworkSpec

GENEVE_PORT: Final = 6081
"""The only port a GENEVE target group takes (CreateTargetGroup)."""
GWLB_MATCHER: Final = "200-399"
"""HTTP(S) health checks of a GWLB target group must accept exactly 200-399 (ELBv2 API reference)."""

FailoverMode = Literal["rebalance", "no_rebalance"]
HealthCheckProtocol = Literal["TCP", "HTTP", "HTTPS"]

_AMI: Final = re.compile(r"^ami-([0-9a-f]{8}|[0-9a-f]{17})$")
_INSTANCE_TYPE: Final = re.compile(r"^[a-z][a-z0-9-]*\.[a-z0-9]+$")
_DEVICE: Final = re.compile(r"^/dev/(sd[a-z]\d*|xvd[a-z]\d*|nvme\d+n\d+)$")
_PRINCIPAL: Final = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:(root|role/[\w+=,.@/-]+|user/[\w+=,.@/-]+)$")


@dataclass(frozen=True, kw_only=True)
class GeneveHealthCheck:
    """How the GWLB checks an appliance: on the appliance's own health port, never on GENEVE itself."""

    protocol: HealthCheckProtocol
    """TCP, HTTP or HTTPS (GENEVE cannot be a health-check protocol)."""
    port: int
    """The appliance's health port (the traffic port 6081 is UDP and cannot be checked)."""
    path: str | None = None
    """HTTP(S) only (``/`` when omitted); healthy answers are 200-399, as AWS requires for GWLB."""
    interval_seconds: int = 10
    """5-300 (10 is the GWLB default)."""
    timeout_seconds: int = 5
    """2-120, shorter than the interval."""
    healthy_threshold: int = 3
    """2-10."""
    unhealthy_threshold: int = 2
    """2-10: failing over quickly matters more than flapping for an inline appliance."""

    def __post_init__(self) -> None:
        one_of("protocol", self.protocol, get_args(HealthCheckProtocol))
        in_range("port", self.port, 1, 65535)
        in_range("interval_seconds", self.interval_seconds, 5, 300)
        in_range("timeout_seconds", self.timeout_seconds, 2, 120)
        require(
            self.timeout_seconds < self.interval_seconds,
            "timeout_seconds",
            self.timeout_seconds,
            f"less than interval_seconds ({self.interval_seconds})",
            refers=("interval_seconds",),
        )
        in_range("healthy_threshold", self.healthy_threshold, 2, 10)
        in_range("unhealthy_threshold", self.unhealthy_threshold, 2, 10)
        if self.protocol == "TCP":
            require(
                self.path is None,
                "path",
                self.path,
                "none with protocol TCP: only HTTP and HTTPS health checks take a path",
            )
        elif self.path is not None:
            require(
                self.path.startswith("/") and len(self.path) <= 1024,
                "path",
                self.path,
                "an absolute path starting with / (at most 1024 characters)",
            )


@dataclass(frozen=True, kw_only=True)
class TargetFailover:
    """What happens to existing flows when an appliance is deregistered or becomes unhealthy.

    ``rebalance`` moves them to healthy appliances (they see mid-flow packets and must accept them,
    or reset the flow); ``no_rebalance`` keeps them on the failed appliance until they end. AWS requires
    both settings to be equal.
    """

    on_deregistration: FailoverMode
    on_unhealthy: FailoverMode

    def __post_init__(self) -> None:
        one_of("on_deregistration", self.on_deregistration, get_args(FailoverMode))
        one_of("on_unhealthy", self.on_unhealthy, get_args(FailoverMode))
        require(
            self.on_deregistration == self.on_unhealthy,
            "on_unhealthy",
            self.on_unhealthy,
            f"equal to on_deregistration ({self.on_deregistration!r}): AWS rejects a mix",
            refers=("on_deregistration",),
        )


@dataclass(frozen=True, kw_only=True)
class ApplianceFleet:
    """Appliances run by an Auto Scaling group from a vendor AMI (registered as ``instance`` targets)."""

    ami_id: str
    """The appliance image (e.g. from the vendor's Marketplace listing, in this region)."""
    instance_type: str
    """An instance type the vendor supports (network-optimised types such as c6in suit inline traffic)."""
    min_size: int
    """At least one appliance per AZ keeps inspection local to the AZ during an outage."""
    max_size: int
    root_device_name: str
    """The AMI's root device (``/dev/xvda`` on Amazon Linux; many vendor AMIs use ``/dev/sda1``): the
    encrypted-EBS mapping must name it, or it adds a second volume and leaves the root unencrypted."""
    desired_capacity: int | None = None
    """Defaults to ``min_size``."""
    root_volume_gib: int | None = None
    """Root volume size; None keeps the AMI's (never smaller than its snapshot)."""

    def __post_init__(self) -> None:
        require(_AMI.match(self.ami_id) is not None, "ami_id", self.ami_id, "an AMI ID (ami-...)")
        require(
            _INSTANCE_TYPE.match(self.instance_type) is not None,
            "instance_type",
            self.instance_type,
            "an instance type (family.size, e.g. c6in.large)",
        )
        in_range("min_size", self.min_size, 1, 100)
        require(
            isinstance(self.max_size, int) and self.min_size <= self.max_size <= 100,
            "max_size",
            self.max_size,
            f"a whole number from min_size ({self.min_size}) to 100",
            refers=("min_size",),
        )
        desired = self.desired_capacity if self.desired_capacity is not None else self.min_size
        require(
            self.min_size <= desired <= self.max_size,
            "desired_capacity",
            desired,
            f"from min_size ({self.min_size}) to max_size ({self.max_size})",
            refers=("min_size", "max_size"),
        )
        require(
            _DEVICE.match(self.root_device_name) is not None,
            "root_device_name",
            self.root_device_name,
            "/dev/sdX, /dev/xvdX or /dev/nvmeXnY",
        )
        if self.root_volume_gib is not None:
            in_range("root_volume_gib", self.root_volume_gib, 1, 16384, "GiB")


@dataclass(frozen=True, kw_only=True)
class RegisteredAppliances:
    """Appliances managed elsewhere, registered by private IP (``ip`` targets in the inspection VPC)."""

    ip_addresses: Sequence[str]

    def __post_init__(self) -> None:
        ips = list(self.ip_addresses)
        require(bool(ips), "ip_addresses", ips, "at least one IPv4 address")
        require(len(set(ips)) == len(ips), "ip_addresses", ips, "distinct addresses")
        for ip in ips:
            try:
                ipaddress.IPv4Address(ip)
            except ValueError:
                raise InputError("ip_addresses", ips, f"IPv4 addresses ({ip!r} is not one)") from None


def check_allowed_principals(setting: str, principals: Sequence[str]) -> None:
    """Endpoint service principals: IAM ARNs of an account root, role or user; never ``*``."""
    for principal in principals:
        require(
            _PRINCIPAL.match(principal) is not None,
            setting,
            list(principals),
            "IAM ARNs of an account root, role or user (arn:aws:iam::<account>:root); '*' would offer "
            f"the service to every AWS account (bad: {principal})",
        )


@dataclass(frozen=True, kw_only=True)
class InspectionSpec:
    """What inspects the traffic: the inspection VPC, the appliances and how the GWLB treats them.

    Plain values only, validated here (the stack settings build this straight from config)."""

    vpc: NetworkSpec
    """The inspection VPC (its own CIDR, apart from the app VPC's; no endpoints)."""
    appliances: ApplianceFleet | RegisteredAppliances
    health_check: GeneveHealthCheck
    target_failover: TargetFailover
    allowed_principals: Sequence[str]
    """Principals (besides this account) allowed to create endpoints to the service (IAM ARNs)."""
    deletion_protection: bool
    deregistration_delay_seconds: int = 300
    """0-3600: how long existing flows may stay on a deregistered appliance (with ``no_rebalance``)."""

    def __post_init__(self) -> None:
        if isinstance(self.appliances, RegisteredAppliances):
            network = ipaddress.IPv4Network(self.vpc.cidr_block)
            ips = list(self.appliances.ip_addresses)
            outside = [ip for ip in ips if ipaddress.IPv4Address(ip) not in network]
            require(
                not outside,
                "appliances.ip_addresses",
                ips,
                f"addresses inside the inspection VPC ({network}): ip targets of a GWLB must be in its VPC "
                f"(outside: {', '.join(outside)})",
            )
        check_allowed_principals("allowed_principals", self.allowed_principals)
        in_range("deregistration_delay_seconds", self.deregistration_delay_seconds, 0, 3600)


@dataclass(frozen=True, kw_only=True)
class GatewayLoadBalancerArgs:
    """The inspection layer: the GWLB side (inspection VPC) and the endpoint side (app VPC)."""

    context: AwsContext
    """Account, region and partition (plain values: the allowed principal ARN is known at preview)."""
    appliance_vpc_id: pulumi.Input[str]
    """The inspection (security) VPC, built from ``spec.vpc``."""
    appliance_subnet_ids: Sequence[pulumi.Input[str]]
    """Subnets of the GWLB and the appliances, one per AZ."""
    appliance_availability_zones: Sequence[str]
    """AZ names of ``appliance_subnet_ids``, in the same order."""
    app_vpc_id: pulumi.Input[str]
    """The VPC whose internet traffic is inspected."""
    app_routing: InspectionRouting
    """Its endpoint subnets and route tables, from ``Network(inspection=True).inspection``."""
    spec: InspectionSpec
    instance_tags: Mapping[str, str] = field(default_factory=dict)
    """Tags for appliance instances and volumes. Provider default tags do not reach resources that
    Auto Scaling launches from a template, so the stack's default tags are passed in here."""

    def __post_init__(self) -> None:
        azs = list(self.appliance_availability_zones)
        require(2 <= len(azs) <= 6, "appliance_availability_zones", azs, "2 to 6 AZ names")
        require(len(set(azs)) == len(azs), "appliance_availability_zones", azs, "distinct AZ names")
        require(
            len(self.appliance_subnet_ids) == len(azs),
            "appliance_subnet_ids",
            f"{len(self.appliance_subnet_ids)} subnets",
            f"one subnet per AZ ({len(azs)})",
        )
        zones = [z.availability_zone for z in self.app_routing.zones]
        require(bool(zones), "app_routing.zones", zones, "one endpoint subnet per AZ of the app VPC")
        # An endpoint only works in an AZ where the GWLB has a node; a zone without one would leave
        # that AZ's public subnet with no working route at all.
        missing = [z for z in zones if z not in azs]
        require(
            not missing,
            "app_routing.zones",
            zones,
            f"AZs where the GWLB has a node ({', '.join(azs)}); every AZ of the app VPC needs the GWLB in the "
            f"same AZ (missing: {', '.join(missing)})",
        )

    @property
    def appliance_vpc_cidr(self) -> str:
        """Plain: GENEVE and health checks come from the GWLB's addresses inside it."""
        return self.spec.vpc.cidr_block


@dataclass(frozen=True)
class _Zone:
    index: int
    name: str


class GatewayLoadBalancer(pulumi.ComponentResource):
    """GWLB + GENEVE target group + appliances + endpoint service, and per-AZ endpoints and routes."""

    load_balancer_arn: pulumi.Output[str]
    """ARN of the Gateway Load Balancer."""
    target_group_arn: pulumi.Output[str]
    """The GENEVE target group of the appliances."""
    endpoint_service_name: pulumi.Output[str]
    """``com.amazonaws.vpce.<region>.vpce-svc-...``: what other VPCs (or accounts) create endpoints to."""
    endpoint_service_id: pulumi.Output[str]
    """``vpce-svc-...`` (to accept endpoint connections from other accounts)."""
    endpoint_ids: dict[str, pulumi.Output[str]]
    """Gateway Load Balancer endpoint ID per AZ of the app VPC."""
    appliance_security_group_id: pulumi.Output[str] | None
    """Security group of the appliance instances (None for registered IPs, managed elsewhere)."""
    auto_scaling_group_name: pulumi.Output[str] | None
    """The appliances' Auto Scaling group (None for registered IPs)."""

    def __init__(self, name: str, args: GatewayLoadBalancerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("platform:gwlb:GatewayLoadBalancer", name, None, opts)
        self._name = name
        self._args = args
        child = pulumi.ResourceOptions(parent=self)

        gwlb = aws.lb.LoadBalancer(
            f"{name}-gwlb",
            load_balancer_type="gateway",
            subnets=list(args.appliance_subnet_ids),
            ip_address_type="ipv4",
            # Flows from an endpoint in one AZ may use appliances in any AZ: a partial outage of the
            # fleet in one AZ does not black-hole that AZ's traffic (guardrail: cross-zone on GWLB).
            enable_cross_zone_load_balancing=True,
            enable_deletion_protection=args.spec.deletion_protection,
            tags={"Name": name},
            opts=child,
        )
        self.load_balancer_arn = gwlb.arn

        target_group = self._create_target_group()
        self.target_group_arn = target_group.arn
        listener = aws.lb.Listener(
            f"{name}-listener",
            load_balancer_arn=gwlb.arn,
            # A GWLB listener has no port or protocol: it takes every packet (IP protocol 0-255).
            default_actions=[aws.lb.ListenerDefaultActionArgs(type="forward", target_group_arn=target_group.arn)],
            opts=child,
        )

        self.appliance_security_group_id = None
        self.auto_scaling_group_name = None
        if isinstance(args.spec.appliances, ApplianceFleet):
            self._create_fleet(args.spec.appliances, target_group)
        else:
            for i, ip in enumerate(args.spec.appliances.ip_addresses):
                aws.lb.TargetGroupAttachment(
                    f"{name}-appliance-{i + 1}",
                    target_group_arn=target_group.arn,
                    target_id=ip,
                    port=GENEVE_PORT,
                    opts=child,
                )

        ctx = args.context
        service = aws.ec2.VpcEndpointService(
            f"{name}-service",
            # Every endpoint is approved explicitly: the allowed principals may *ask*, and nobody can
            # silently splice their traffic into (or out of) this appliance fleet.
            acceptance_required=True,
            gateway_load_balancer_arns=[gwlb.arn],
            allowed_principals=[f"arn:{ctx.partition}:iam::{ctx.account_id}:root", *args.spec.allowed_principals],
            supported_ip_address_types=["ipv4"],
            tags={"Name": f"{name}-inspection"},
            opts=child,
        )
        self.endpoint_service_name = service.service_name
        self.endpoint_service_id = service.id

        self.endpoint_ids = self._create_endpoints_and_routes(service, listener)

        self.register_outputs(
            {
                "loadBalancerArn": self.load_balancer_arn,
                "endpointServiceName": self.endpoint_service_name,
                "endpointIds": self.endpoint_ids,
            }
        )

    # -- target group and appliances ----------------------------------------------------------------
    def _create_target_group(self) -> aws.lb.TargetGroup:
        args = self._args
        check = args.spec.health_check
        http = check.protocol in ("HTTP", "HTTPS")
        return aws.lb.TargetGroup(
            f"{self._name}-appliances",
            vpc_id=args.appliance_vpc_id,
            protocol="GENEVE",
            port=GENEVE_PORT,
            target_type="instance" if isinstance(args.spec.appliances, ApplianceFleet) else "ip",
            deregistration_delay=args.spec.deregistration_delay_seconds,
            health_check=aws.lb.TargetGroupHealthCheckArgs(
                enabled=True,
                protocol=check.protocol,
                port=str(check.port),
                path=(check.path or "/") if http else None,
                matcher=GWLB_MATCHER if http else None,
                interval=check.interval_seconds,
                timeout=check.timeout_seconds,
                healthy_threshold=check.healthy_threshold,
                unhealthy_threshold=check.unhealthy_threshold,
            ),
            target_failovers=[
                aws.lb.TargetGroupTargetFailoverArgs(
                    on_deregistration=args.spec.target_failover.on_deregistration,
                    on_unhealthy=args.spec.target_failover.on_unhealthy,
                )
            ],
            tags={"Name": f"{self._name}-appliances"},
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _create_fleet(self, fleet: ApplianceFleet, target_group: aws.lb.TargetGroup) -> None:
        name, args, ctx = self._name, self._args, self._args.context
        child = pulumi.ResourceOptions(parent=self)

        sg = aws.ec2.SecurityGroup(
            f"{name}-appliance-sg",
            vpc_id=args.appliance_vpc_id,
            description="Inspection appliances: GENEVE and health checks from the GWLB; updates out",
            tags={"Name": f"{name}-appliances"},
            opts=child,
        )
        self.appliance_security_group_id = sg.id
        # The GWLB has no security group of its own: its nodes' addresses are in the inspection VPC,
        # which holds nothing but the GWLB and the appliances.
        rules: list[tuple[str, str, str, int, str]] = [
            ("in", "geneve", "udp", GENEVE_PORT, "GENEVE-encapsulated traffic from the GWLB"),
            ("in", "health", "tcp", args.spec.health_check.port, "Health checks from the GWLB"),
            ("out", "geneve", "udp", GENEVE_PORT, "GENEVE-encapsulated traffic back to the GWLB"),
        ]
        for direction, purpose, protocol, port, description in rules:
            rule_type = aws.vpc.SecurityGroupIngressRule if direction == "in" else aws.vpc.SecurityGroupEgressRule
            rule_type(
                f"{name}-appliance-{purpose}-{direction}",
                security_group_id=sg.id,
                description=description,
                ip_protocol=protocol,
                from_port=port,
                to_port=port,
                cidr_ipv4=args.appliance_vpc_cidr,
                opts=child,
            )
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-appliance-https-out",
            security_group_id=sg.id,
            description="HTTPS to signature/licence updates and SSM (through the inspection VPC's NAT)",
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            cidr_ipv4="0.0.0.0/0",
            opts=child,
        )

        # Management through SSM Session Manager: no SSH keys, no inbound management port.
        role = aws.iam.Role(
            f"{name}-appliance-role",
            assume_role_policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
                    ],
                }
            ),
            opts=child,
        )
        aws.iam.RolePolicyAttachment(
            f"{name}-appliance-ssm",
            role=role.name,
            policy_arn=f"arn:{ctx.partition}:iam::aws:policy/AmazonSSMManagedInstanceCore",
            opts=child,
        )
        profile = aws.iam.InstanceProfile(f"{name}-appliance-profile", role=role.name, opts=child)

        template = aws.ec2.LaunchTemplate(
            f"{name}-appliance-lt",
            description=f"Inspection appliance for {name}",
            image_id=fleet.ami_id,
            instance_type=fleet.instance_type,
            iam_instance_profile=aws.ec2.LaunchTemplateIamInstanceProfileArgs(arn=profile.arn),
            vpc_security_group_ids=[sg.id],
            # IMDSv2 only, one hop: a compromised process cannot replay metadata requests (SSRF) or
            # reach the instance role's credentials from a container.
            metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(
                http_endpoint="enabled",
                http_tokens="required",
                http_put_response_hop_limit=1,
                instance_metadata_tags="disabled",
            ),
            block_device_mappings=[
                aws.ec2.LaunchTemplateBlockDeviceMappingArgs(
                    device_name=fleet.root_device_name,
                    ebs=aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                        encrypted="true",
                        volume_type="gp3",
                        volume_size=fleet.root_volume_gib,
                        delete_on_termination="true",
                    ),
                )
            ],
            monitoring=aws.ec2.LaunchTemplateMonitoringArgs(enabled=True),
            # Instances launched by the group do not get the provider's default tags.
            tag_specifications=[
                aws.ec2.LaunchTemplateTagSpecificationArgs(
                    resource_type=kind,
                    tags={**args.instance_tags, "Name": f"{name}-appliance", "Role": "inspection-appliance"},
                )
                for kind in ("instance", "volume", "network-interface")
            ],
            update_default_version=True,
            opts=child,
        )
        group = aws.autoscaling.Group(
            f"{name}-appliances",
            vpc_zone_identifiers=list(args.appliance_subnet_ids),
            min_size=fleet.min_size,
            max_size=fleet.max_size,
            desired_capacity=fleet.desired_capacity if fleet.desired_capacity is not None else fleet.min_size,
            launch_template=aws.autoscaling.GroupLaunchTemplateArgs(
                id=template.id, version=template.latest_version.apply(str)
            ),
            target_group_arns=[target_group.arn],
            # Replace appliances the GWLB finds unhealthy, not only those EC2 finds broken.
            health_check_type="ELB",
            health_check_grace_period=300,
            # A new launch template version (AMI upgrade) rolls the fleet, keeping most of it in service.
            instance_refresh=aws.autoscaling.GroupInstanceRefreshArgs(
                strategy="Rolling",
                preferences=aws.autoscaling.GroupInstanceRefreshPreferencesArgs(min_healthy_percentage=50),
            ),
            tags=[aws.autoscaling.GroupTagArgs(key="Name", value=f"{name}-appliance", propagate_at_launch=True)],
            opts=child,
        )
        self.auto_scaling_group_name = group.name

    # -- endpoints and routes -----------------------------------------------------------------------
    def _create_endpoints_and_routes(
        self, service: aws.ec2.VpcEndpointService, listener: aws.lb.Listener
    ) -> dict[str, pulumi.Output[str]]:
        name, routing = self._name, self._args.app_routing
        child = pulumi.ResourceOptions(parent=self)
        endpoint_ids: dict[str, pulumi.Output[str]] = {}
        for i, zone in enumerate(routing.zones):
            endpoint = aws.ec2.VpcEndpoint(
                f"{name}-endpoint-{i + 1}",
                vpc_id=self._args.app_vpc_id,
                service_name=service.service_name,
                vpc_endpoint_type="GatewayLoadBalancer",
                subnet_ids=[zone.endpoint_subnet_id],
                # Same account as the service: accept our own endpoint here (acceptance is required).
                # Endpoints from other accounts are accepted with aws.ec2.VpcEndpointConnectionAccepter.
                auto_accept=True,
                tags={"Name": f"{name}-{zone.availability_zone}"},
                # Routes through an endpoint whose GWLB has no listener would drop every packet.
                opts=pulumi.ResourceOptions(parent=self, depends_on=[listener]),
            )
            endpoint_ids[zone.availability_zone] = endpoint.id
            # Inbound: the IGW hands traffic for this AZ's public subnet to this AZ's endpoint ...
            aws.ec2.Route(
                f"{name}-ingress-{i + 1}",
                route_table_id=routing.edge_route_table_id,
                destination_cidr_block=zone.public_subnet_cidr,
                vpc_endpoint_id=endpoint.id,
                opts=child,
            )
            # ... and the replies (and all outbound traffic) from that subnet leave through the same one.
            aws.ec2.Route(
                f"{name}-egress-{i + 1}",
                route_table_id=zone.public_route_table_id,
                destination_cidr_block="0.0.0.0/0",
                vpc_endpoint_id=endpoint.id,
                opts=child,
            )
        return endpoint_ids
