"""The VPC every other component lives in: three subnet tiers per AZ, NAT, endpoints, flow logs."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final, Literal, get_args

import pulumi
import pulumi_aws as aws

from components.aws_context import AwsContext
from components.errors import InputError, in_range, one_of, require
from components.log_groups import check_retention

NatGatewayMode = Literal["none", "single", "per-az"]

# Interface endpoints Fargate tasks in private subnets need when they should not depend on NAT:
# image manifests (ecr.api) and layers' auth (ecr.dkr; the layers themselves come from S3 through
# the gateway endpoint), logs, secrets injected at start, and ECS Exec's session channel and the KMS
# calls its agent makes (without it, exec would need 443 egress to the internet).
INTERFACE_ENDPOINT_SERVICES: Final = ("ecr.api", "ecr.dkr", "logs", "secretsmanager", "ssmmessages", "kms")

# A /16 is cut into four equal blocks (private, isolated, public, spare), each into 8 AZ slots, so
# a /16 yields /21 subnets (2,043 usable IPs each for Fargate ENIs) and a /22 still yields /27s.
_TIER_BLOCK: Final = {"private": 0, "isolated": 1, "public": 2}
_MAX_AZ_SLOTS: Final = 8
# Gateway Load Balancer endpoint subnets (inspection on) take /28s from the start of the spare block:
# each endpoint needs one address, and /28 is the smallest subnet AWS allows.
_SPARE_BLOCK: Final = 3
_ENDPOINT_SUBNET_PREFIX: Final = 28

SubnetTier = Literal["public", "private", "isolated"]


def subnet_cidrs(vpc_cidr: str, tier: SubnetTier, az_count: int) -> list[str]:
    """Deterministic, non-overlapping subnet CIDRs for one tier, one per AZ."""
    network = ipaddress.IPv4Network(vpc_cidr)
    blocks = list(network.subnets(prefixlen_diff=2))
    slots = list(blocks[_TIER_BLOCK[tier]].subnets(prefixlen_diff=3))
    if az_count > _MAX_AZ_SLOTS:
        raise InputError("az_count", az_count, f"at most {_MAX_AZ_SLOTS} (the subnet slots per tier)")
    return [str(s) for s in slots[:az_count]]


def endpoint_subnet_cidrs(vpc_cidr: str, az_count: int) -> list[str]:
    """Small (/28) subnets for Gateway Load Balancer endpoints, one per AZ, in the spare block."""
    network = ipaddress.IPv4Network(vpc_cidr)
    spare = list(network.subnets(prefixlen_diff=2))[_SPARE_BLOCK]
    if az_count > _MAX_AZ_SLOTS:
        raise InputError("az_count", az_count, f"at most {_MAX_AZ_SLOTS} (the subnet slots per tier)")
    return [str(s) for s in list(spare.subnets(new_prefix=_ENDPOINT_SUBNET_PREFIX))[:az_count]]


@dataclass(frozen=True, kw_only=True)
class InspectionZone:
    """One AZ of a VPC prepared for inspection: what the inspection component routes through."""

    availability_zone: str
    public_subnet_cidr: str
    """Exact CIDR of the AZ's public subnet (an edge route's destination must be a whole subnet)."""
    public_route_table_id: pulumi.Output[str]
    """The AZ's own public route table; its default route is left to the inspection component."""
    endpoint_subnet_id: pulumi.Output[str]
    """Dedicated subnet for the AZ's Gateway Load Balancer endpoint (default route to the IGW)."""
    endpoint_subnet_cidr: str


@dataclass(frozen=True, kw_only=True)
class InspectionRouting:
    """Route tables and subnets that an inspection component completes (see NetworkArgs.inspection)."""

    edge_route_table_id: pulumi.Output[str]
    """Route table associated with the internet gateway (ingress routing)."""
    zones: list[InspectionZone]
    """One entry per AZ, in AZ order."""


@dataclass(frozen=True, kw_only=True)
class AdoptedVpc:
    """IDs of an existing VPC to use as is (nothing in it is created or changed)."""

    vpc_id: str
    public_subnet_ids: Sequence[str]
    private_subnet_ids: Sequence[str]
    isolated_subnet_ids: Sequence[str]

    def __post_init__(self) -> None:
        require(self.vpc_id.startswith("vpc-"), "vpc_id", self.vpc_id, "a VPC ID (vpc-...)")
        for tier in _ADOPTED_TIERS:
            ids = list(getattr(self, tier))
            bad = [s for s in ids if not s.startswith("subnet-")]
            require(not bad, tier, ids, f"every item a subnet ID (subnet-...) (bad: {', '.join(bad)})")


_ADOPTED_TIERS: Final = ("public_subnet_ids", "private_subnet_ids", "isolated_subnet_ids")


@dataclass(frozen=True, kw_only=True)
class NetworkSpec:
    """The shape of a VPC (or of the adopted one): what the stack's config decides, validated."""

    cidr_block: str
    """IPv4 CIDR of the VPC: a private range, /16 to /22."""
    az_count: int
    """Availability zones to span, 2 to 6 (each tier gets one subnet per AZ)."""
    nat_gateways: NatGatewayMode
    """``per-az`` keeps private subnets online through an AZ outage; ``single`` is the cheap dev shape."""
    vpc_endpoints: bool
    """Interface endpoints + S3 gateway endpoint so image pulls and logs bypass NAT."""
    flow_logs: bool
    """Capture all traffic metadata to CloudWatch Logs."""
    log_retention_days: int
    """Retention of the flow log group (a value CloudWatch Logs accepts)."""
    adopt: AdoptedVpc | None = None
    """Use an existing VPC instead of creating one (one subnet per AZ in each tier)."""

    def __post_init__(self) -> None:
        try:
            network = ipaddress.IPv4Network(self.cidr_block)
        except ValueError:
            raise InputError("cidr_block", self.cidr_block, "an IPv4 CIDR such as 10.0.0.0/16") from None
        require(16 <= network.prefixlen <= 22, "cidr_block", self.cidr_block, "a prefix length from /16 to /22")
        require(network.is_private, "cidr_block", self.cidr_block, "a private (RFC 1918) range")
        in_range("az_count", self.az_count, 2, 6)
        one_of("nat_gateways", self.nat_gateways, get_args(NatGatewayMode))
        check_retention("log_retention_days", self.log_retention_days)
        if self.adopt is not None:
            for tier in _ADOPTED_TIERS:
                ids = list(getattr(self.adopt, tier))
                require(
                    len(ids) == self.az_count,
                    f"adopt.{tier}",
                    ids,
                    f"exactly az_count ({self.az_count}) subnet IDs, one per AZ",
                    refers=("az_count",),
                )


@dataclass(frozen=True, kw_only=True)
class NetworkArgs:
    """Settings for the platform VPC."""

    context: AwsContext
    """Account, region and partition (plain values)."""
    availability_zones: Sequence[str]
    """AZ names to span, resolved before construction: exactly ``spec.az_count`` of them."""
    spec: NetworkSpec
    """CIDR, AZ count, NAT, endpoints, flow logs, or the adopted VPC."""
    name_tags: dict[str, str] = field(default_factory=dict)
    """Extra tags for the VPC itself (provider default tags apply everywhere already)."""
    log_kms_key_arn: pulumi.Input[str] | None = None
    """Customer-managed key of the flow log group (its policy must admit CloudWatch Logs for it);
    None leaves it to CloudWatch Logs' own encryption."""
    inspection: bool = False
    """Prepare for a Gateway Load Balancer inspecting internet traffic: one public route table per AZ
    *without* a default route, a /28 endpoint subnet per AZ routed to the internet gateway, and an
    edge route table on the gateway. The inspection component adds the routes through its endpoints
    (see ``Network.inspection``); on its own this leaves the public subnets offline."""

    def __post_init__(self) -> None:
        zones = list(self.availability_zones)
        require(
            len(zones) == self.spec.az_count,
            "availability_zones",
            zones,
            f"exactly spec.az_count ({self.spec.az_count}) names",
        )
        require(len(set(zones)) == len(zones), "availability_zones", zones, "distinct AZ names")
        if self.spec.adopt is not None and self.inspection:
            raise InputError(
                "inspection",
                True,
                "False with spec.adopt: inspection needs route tables this program owns, and an adopted "
                "VPC cannot be re-routed through inspection endpoints",
            )


class Network(pulumi.ComponentResource):
    """A VPC with public, private (app) and isolated (data) subnets in each AZ.

    Public subnets hold load balancers and NAT gateways; private subnets hold Fargate tasks (egress
    through NAT and the VPC endpoints); isolated subnets hold ElastiCache and RDS and have no route
    to the internet at all.
    """

    vpc_id: pulumi.Output[str]
    """ID of the VPC."""
    vpc_cidr: pulumi.Output[str]
    """CIDR of the VPC (for rules that admit the whole VPC, e.g. the endpoints)."""
    availability_zones: list[str]
    """AZ names, in subnet order (plain values: consumers size per-AZ resources from them)."""
    public_subnet_ids: list[pulumi.Output[str]]
    """One public subnet per AZ."""
    private_subnet_ids: list[pulumi.Output[str]]
    """One private (app) subnet per AZ."""
    isolated_subnet_ids: list[pulumi.Output[str]]
    """One isolated (data) subnet per AZ."""
    public_route_table_id: pulumi.Output[str] | None
    """Route table of the public subnets (None for an adopted VPC)."""
    private_route_table_ids: list[pulumi.Output[str]]
    """Route table per private subnet (empty for an adopted VPC)."""
    internet_gateway_id: pulumi.Output[str] | None
    """The internet gateway (None for an adopted VPC)."""
    nat_gateway_ids: list[pulumi.Output[str]]
    """NAT gateways created: none, one, or one per AZ."""
    endpoint_security_group_id: pulumi.Output[str] | None
    """Security group of the interface endpoints (443 from the VPC), when endpoints are on."""
    inspection: InspectionRouting | None
    """Per-AZ public route tables, endpoint subnets and the edge route table (``inspection=True``);
    ``public_route_table_id`` is None then."""
    flow_log_group_name: str | None
    """The flow log group (plain), when flow logs are on."""

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("platform:network:Network", name, None, opts)
        self._name = name
        self._args = args
        self.availability_zones = list(args.availability_zones)
        self.public_route_table_id = None
        self.private_route_table_ids = []
        self.internet_gateway_id = None
        self.nat_gateway_ids = []
        self.endpoint_security_group_id = None
        self.inspection = None
        self.flow_log_group_name = None

        if args.spec.adopt is not None:
            self._adopt(args.spec.adopt)
        else:
            self._create_vpc()
        if args.spec.vpc_endpoints:
            self._create_endpoints()
        if args.spec.flow_logs:
            self._create_flow_logs()

        self.register_outputs(
            {
                "vpcId": self.vpc_id,
                "vpcCidr": self.vpc_cidr,
                "publicSubnetIds": self.public_subnet_ids,
                "privateSubnetIds": self.private_subnet_ids,
                "isolatedSubnetIds": self.isolated_subnet_ids,
            }
        )

    # -- adopted VPC --------------------------------------------------------------------------------
    def _adopt(self, adopt: AdoptedVpc) -> None:
        existing = aws.ec2.get_vpc_output(id=adopt.vpc_id, opts=pulumi.InvokeOutputOptions(parent=self))
        self.vpc_id = pulumi.Output.from_input(adopt.vpc_id)
        self.vpc_cidr = existing.cidr_block
        self.public_subnet_ids = [pulumi.Output.from_input(s) for s in adopt.public_subnet_ids]
        self.private_subnet_ids = [pulumi.Output.from_input(s) for s in adopt.private_subnet_ids]
        self.isolated_subnet_ids = [pulumi.Output.from_input(s) for s in adopt.isolated_subnet_ids]

    # -- new VPC ------------------------------------------------------------------------------------
    def _create_vpc(self) -> None:
        name, args = self._name, self._args
        child = pulumi.ResourceOptions(parent=self)
        azs = args.availability_zones

        vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=args.spec.cidr_block,
            enable_dns_support=True,  # both are required for interface endpoints' private DNS
            enable_dns_hostnames=True,
            tags={"Name": f"{name}-vpc", **args.name_tags},
            opts=child,
        )
        self.vpc_id = vpc.id
        self.vpc_cidr = vpc.cidr_block

        # The default security group allows all traffic between its members; adopting it with no
        # rules removes that, so nothing can accidentally rely on it.
        aws.ec2.DefaultSecurityGroup(f"{name}-default-sg", vpc_id=vpc.id, opts=child)

        igw = aws.ec2.InternetGateway(f"{name}-igw", vpc_id=vpc.id, tags={"Name": f"{name}-igw"}, opts=child)
        self.internet_gateway_id = igw.id

        def subnets(tier: SubnetTier) -> list[aws.ec2.Subnet]:
            cidrs = subnet_cidrs(args.spec.cidr_block, tier, len(azs))
            return [
                aws.ec2.Subnet(
                    f"{name}-{tier}-{i + 1}",
                    vpc_id=vpc.id,
                    cidr_block=cidr,
                    availability_zone=az,
                    # Only load balancers and NAT live in public subnets, and they get addresses
                    # explicitly; nothing should receive a public IP by accident.
                    map_public_ip_on_launch=False,
                    tags={"Name": f"{name}-{tier}-{az}", "Tier": tier},
                    opts=child,
                )
                for i, (cidr, az) in enumerate(zip(cidrs, azs, strict=True))
            ]

        public, private, isolated = subnets("public"), subnets("private"), subnets("isolated")
        self.public_subnet_ids = [s.id for s in public]
        self.private_subnet_ids = [s.id for s in private]
        self.isolated_subnet_ids = [s.id for s in isolated]

        if args.inspection:
            self.inspection = self._create_inspection_routing(vpc, igw, public)
        else:
            public_rt = aws.ec2.RouteTable(
                f"{name}-public-rt", vpc_id=vpc.id, tags={"Name": f"{name}-public"}, opts=child
            )
            aws.ec2.Route(
                f"{name}-public-default",
                route_table_id=public_rt.id,
                destination_cidr_block="0.0.0.0/0",
                gateway_id=igw.id,
                opts=child,
            )
            for i, subnet in enumerate(public):
                aws.ec2.RouteTableAssociation(
                    f"{name}-public-rta-{i + 1}", subnet_id=subnet.id, route_table_id=public_rt.id, opts=child
                )
            self.public_route_table_id = public_rt.id

        nat_ids = self._create_nat_gateways(public, igw)
        self.nat_gateway_ids = nat_ids

        # One private route table per AZ even with a single NAT: switching to per-az later then only
        # changes routes, never re-associates subnets.
        for i, subnet in enumerate(private):
            rt = aws.ec2.RouteTable(
                f"{name}-private-rt-{i + 1}",
                vpc_id=vpc.id,
                tags={"Name": f"{name}-private-{azs[i]}"},
                opts=child,
            )
            if nat_ids:
                aws.ec2.Route(
                    f"{name}-private-default-{i + 1}",
                    route_table_id=rt.id,
                    destination_cidr_block="0.0.0.0/0",
                    nat_gateway_id=nat_ids[i] if len(nat_ids) > 1 else nat_ids[0],
                    opts=child,
                )
            aws.ec2.RouteTableAssociation(
                f"{name}-private-rta-{i + 1}", subnet_id=subnet.id, route_table_id=rt.id, opts=child
            )
            self.private_route_table_ids.append(rt.id)

        # Isolated subnets share one table with only the implicit local route: no way out.
        isolated_rt = aws.ec2.RouteTable(
            f"{name}-isolated-rt", vpc_id=vpc.id, tags={"Name": f"{name}-isolated"}, opts=child
        )
        for i, subnet in enumerate(isolated):
            aws.ec2.RouteTableAssociation(
                f"{name}-isolated-rta-{i + 1}", subnet_id=subnet.id, route_table_id=isolated_rt.id, opts=child
            )

    def _create_inspection_routing(
        self, vpc: aws.ec2.Vpc, igw: aws.ec2.InternetGateway, public: list[aws.ec2.Subnet]
    ) -> InspectionRouting:
        """Per-AZ public route tables, endpoint subnets and the IGW edge table (routes come later).

        Internet traffic stays symmetric only if both directions of a flow cross the *same* AZ's
        endpoint (the appliance behind it holds the flow's state). So each public subnet gets its own
        table (default route -> its AZ's endpoint) and the edge table sends each public subnet's CIDR
        to that same endpoint; the inspection component adds those routes, because the endpoints are
        its children. The association names match the shared-table layout, so switching inspection
        on re-points the associations in place instead of replacing them.
        """
        name, args = self._name, self._args
        child = pulumi.ResourceOptions(parent=self)
        azs = args.availability_zones
        public_cidrs = subnet_cidrs(args.spec.cidr_block, "public", len(azs))
        endpoint_cidrs = endpoint_subnet_cidrs(args.spec.cidr_block, len(azs))

        endpoint_rt = aws.ec2.RouteTable(
            f"{name}-gwlbe-rt", vpc_id=vpc.id, tags={"Name": f"{name}-gwlb-endpoints"}, opts=child
        )
        # Traffic the appliances have inspected leaves the endpoint subnets straight to the IGW.
        aws.ec2.Route(
            f"{name}-gwlbe-default",
            route_table_id=endpoint_rt.id,
            destination_cidr_block="0.0.0.0/0",
            gateway_id=igw.id,
            opts=child,
        )
        edge_rt = aws.ec2.RouteTable(f"{name}-edge-rt", vpc_id=vpc.id, tags={"Name": f"{name}-edge"}, opts=child)
        aws.ec2.RouteTableAssociation(f"{name}-edge-rta", gateway_id=igw.id, route_table_id=edge_rt.id, opts=child)

        zones: list[InspectionZone] = []
        for i, (az, subnet) in enumerate(zip(azs, public, strict=True)):
            rt = aws.ec2.RouteTable(
                f"{name}-public-rt-{i + 1}", vpc_id=vpc.id, tags={"Name": f"{name}-public-{az}"}, opts=child
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-public-rta-{i + 1}", subnet_id=subnet.id, route_table_id=rt.id, opts=child
            )
            endpoint_subnet = aws.ec2.Subnet(
                f"{name}-gwlbe-{i + 1}",
                vpc_id=vpc.id,
                cidr_block=endpoint_cidrs[i],
                availability_zone=az,
                map_public_ip_on_launch=False,
                tags={"Name": f"{name}-gwlbe-{az}", "Tier": "inspection-endpoint"},
                opts=child,
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-gwlbe-rta-{i + 1}", subnet_id=endpoint_subnet.id, route_table_id=endpoint_rt.id, opts=child
            )
            zones.append(
                InspectionZone(
                    availability_zone=az,
                    public_subnet_cidr=public_cidrs[i],
                    public_route_table_id=rt.id,
                    endpoint_subnet_id=endpoint_subnet.id,
                    endpoint_subnet_cidr=endpoint_cidrs[i],
                )
            )
        return InspectionRouting(edge_route_table_id=edge_rt.id, zones=zones)

    def _create_nat_gateways(
        self, public: list[aws.ec2.Subnet], igw: aws.ec2.InternetGateway
    ) -> list[pulumi.Output[str]]:
        mode = self._args.spec.nat_gateways
        count = {"none": 0, "single": 1, "per-az": len(public)}[mode]
        ids: list[pulumi.Output[str]] = []
        for i in range(count):
            eip = aws.ec2.Eip(
                f"{self._name}-nat-eip-{i + 1}",
                domain="vpc",
                tags={"Name": f"{self._name}-nat-{i + 1}"},
                opts=pulumi.ResourceOptions(parent=self, depends_on=[igw]),
            )
            nat = aws.ec2.NatGateway(
                f"{self._name}-nat-{i + 1}",
                allocation_id=eip.id,
                subnet_id=public[i].id,
                connectivity_type="public",
                tags={"Name": f"{self._name}-nat-{i + 1}"},
                opts=pulumi.ResourceOptions(parent=self, depends_on=[igw]),
            )
            ids.append(nat.id)
        return ids

    # -- endpoints ----------------------------------------------------------------------------------
    def _create_endpoints(self) -> None:
        name = self._name
        child = pulumi.ResourceOptions(parent=self)
        ctx = self._args.context

        sg = aws.ec2.SecurityGroup(
            f"{name}-endpoints-sg",
            vpc_id=self.vpc_id,
            description="Interface VPC endpoints: HTTPS from inside the VPC",
            tags={"Name": f"{name}-endpoints"},
            opts=child,
        )
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-endpoints-https-in",
            security_group_id=sg.id,
            description="HTTPS from the VPC",
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            cidr_ipv4=self.vpc_cidr,
            opts=child,
        )
        self.endpoint_security_group_id = sg.id

        for service in INTERFACE_ENDPOINT_SERVICES:
            aws.ec2.VpcEndpoint(
                f"{name}-{service.replace('.', '-')}-endpoint",
                vpc_id=self.vpc_id,
                service_name=ctx.service_name(service),
                vpc_endpoint_type="Interface",
                private_dns_enabled=True,
                subnet_ids=self.private_subnet_ids,
                security_group_ids=[sg.id],
                tags={"Name": f"{name}-{service}"},
                opts=child,
            )

        if self.private_route_table_ids:
            aws.ec2.VpcEndpoint(
                f"{name}-s3-endpoint",
                vpc_id=self.vpc_id,
                service_name=ctx.service_name("s3"),
                vpc_endpoint_type="Gateway",
                route_table_ids=self.private_route_table_ids,
                tags={"Name": f"{name}-s3"},
                opts=child,
            )

    # -- flow logs ----------------------------------------------------------------------------------
    def _create_flow_logs(self) -> None:
        name, ctx = self._name, self._args.context
        child = pulumi.ResourceOptions(parent=self)
        group_name = f"/vpc/{name}/flow-logs"
        self.flow_log_group_name = group_name
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-flow-logs",
            name=group_name,
            retention_in_days=self._args.spec.log_retention_days,
            kms_key_id=self._args.log_kms_key_arn,
            opts=child,
        )
        # Plain JSON (known at preview, so policies can read it): see components/aws_context.py.
        assume = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "vpc-flow-logs.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                    # Confused-deputy guard: only flow logs acting for this account may assume it.
                    "Condition": {"StringEquals": {"aws:SourceAccount": ctx.account_id}},
                }
            ],
        }
        group_arn = ctx.arn("logs", f"log-group:{group_name}")
        write = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
                    "Resource": [group_arn, f"{group_arn}:*"],
                }
            ],
        }
        role = aws.iam.Role(f"{name}-flow-logs-role", assume_role_policy=json.dumps(assume), opts=child)
        aws.iam.RolePolicy(f"{name}-flow-logs-write", role=role.id, policy=json.dumps(write), opts=child)
        aws.ec2.FlowLog(
            f"{name}-flow-log",
            vpc_id=self.vpc_id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=log_group.arn,
            iam_role_arn=role.arn,
            max_aggregation_interval=60,
            opts=child,
        )
