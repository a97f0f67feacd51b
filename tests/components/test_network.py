"""The network component alone: subnets per AZ, routes, NAT count, endpoints, flow logs, adoption."""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import re
from typing import Any

import pulumi
import pytest

from components.aws_context import AwsContext
from components.errors import InputError
from components.network import (
    INTERFACE_ENDPOINT_SERVICES,
    AdoptedVpc,
    Network,
    NetworkArgs,
    NetworkSpec,
    endpoint_subnet_cidrs,
    subnet_cidrs,
)
from stack.settings import NETWORK
from tests.support import ComponentRunner, config_defaults

AZS3 = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
CONTEXT = AwsContext(account_id="123456789012", region="eu-west-1")


SPEC_FIELDS = {f.name for f in dataclasses.fields(NetworkSpec)}


def _args(**kwargs: Any) -> NetworkArgs:
    """Args at Pulumi.yaml's defaults; ``availability_zones`` also sets the spec's AZ count."""
    zones = kwargs.get("availability_zones", AZS3[:2])
    spec = {**config_defaults(NETWORK, NetworkSpec), "az_count": len(zones)}
    spec |= {k: v for k, v in kwargs.items() if k in SPEC_FIELDS}
    wiring = {k: v for k, v in kwargs.items() if k not in SPEC_FIELDS}
    return NetworkArgs(context=CONTEXT, **{"availability_zones": zones, **wiring}, spec=NetworkSpec(**spec))


def _network(run_component: ComponentRunner, **kwargs: Any):  # type: ignore[no-untyped-def]
    args = _args(**kwargs)
    return run_component(lambda: Network("net", args))


def test_three_tiers_one_subnet_per_az_without_overlap(run_component: ComponentRunner) -> None:
    run = _network(run_component, availability_zones=AZS3, cidr_block="10.20.0.0/16")
    subnets = run.of_type("aws:ec2/subnet:Subnet")
    assert len(subnets) == 9
    by_tier: dict[str, list[str]] = {}
    for s in subnets:
        by_tier.setdefault(s.inputs["tags"]["Tier"], []).append(s.inputs["availabilityZone"])
        assert s.inputs["mapPublicIpOnLaunch"] is False
    assert {tier: sorted(azs) for tier, azs in by_tier.items()} == dict.fromkeys(
        ("public", "private", "isolated"), AZS3
    )
    networks = [ipaddress.IPv4Network(s.inputs["cidrBlock"]) for s in subnets]
    vpc = ipaddress.IPv4Network("10.20.0.0/16")
    assert all(n.subnet_of(vpc) for n in networks)
    assert not any(a.overlaps(b) for i, a in enumerate(networks) for b in networks[i + 1 :])


@pytest.mark.parametrize(
    ("mode", "nats", "private_default_routes"), [("none", 0, 0), ("single", 1, 3), ("per-az", 3, 3)]
)
def test_nat_gateways_per_mode(
    run_component: ComponentRunner, mode: str, nats: int, private_default_routes: int
) -> None:
    run = _network(run_component, availability_zones=AZS3, nat_gateways=mode)
    assert len(run.of_type("aws:ec2/natGateway:NatGateway")) == nats
    assert len(run.of_type("aws:ec2/eip:Eip")) == nats
    routes = run.of_type("aws:ec2/route:Route")
    nat_routes = [r for r in routes if r.inputs.get("natGatewayId")]
    assert len(nat_routes) == private_default_routes
    if mode == "per-az":
        # each private route table uses the NAT gateway in its own AZ
        assert len({r.inputs["natGatewayId"] for r in nat_routes}) == 3
    # NAT gateways sit in public subnets
    public_ids = {s.id for s in run.of_type("aws:ec2/subnet:Subnet") if s.inputs["tags"]["Tier"] == "public"}
    assert all(n.inputs["subnetId"] in public_ids for n in run.of_type("aws:ec2/natGateway:NatGateway"))


def test_routes_public_to_igw_isolated_nowhere(run_component: ComponentRunner) -> None:
    run = _network(run_component, availability_zones=AZS3[:2])
    igw = run.one("aws:ec2/internetGateway:InternetGateway")
    tables = {t.id: t for t in run.of_type("aws:ec2/routeTable:RouteTable")}
    routes_by_table: dict[str, list[dict[str, object]]] = {}
    for r in run.of_type("aws:ec2/route:Route"):
        routes_by_table.setdefault(r.inputs["routeTableId"], []).append(r.inputs)
    subnets = {s.id: s.inputs["tags"]["Tier"] for s in run.of_type("aws:ec2/subnet:Subnet")}
    for assoc in run.of_type("aws:ec2/routeTableAssociation:RouteTableAssociation"):
        tier = subnets[assoc.inputs["subnetId"]]
        routes = routes_by_table.get(assoc.inputs["routeTableId"], [])
        assert assoc.inputs["routeTableId"] in tables
        if tier == "public":
            assert routes == [{**routes[0], "gatewayId": igw.id, "destinationCidrBlock": "0.0.0.0/0"}]
        elif tier == "private":
            assert [r["destinationCidrBlock"] for r in routes] == ["0.0.0.0/0"]
            assert "natGatewayId" in routes[0]
        else:
            assert routes == [], "isolated subnets must have no route out"
    assert len(run.of_type("aws:ec2/routeTableAssociation:RouteTableAssociation")) == 6


def test_endpoints_cover_ecr_logs_secrets_in_private_subnets(run_component: ComponentRunner) -> None:
    run = _network(run_component, availability_zones=AZS3[:2])
    endpoints = run.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")
    services = {e.inputs["serviceName"]: e.inputs for e in endpoints}
    for service in INTERFACE_ENDPOINT_SERVICES:
        ep = services[f"com.amazonaws.eu-west-1.{service}"]
        assert ep["vpcEndpointType"] == "Interface"
        assert ep["privateDnsEnabled"] is True
        private = {s.id for s in run.of_type("aws:ec2/subnet:Subnet") if s.inputs["tags"]["Tier"] == "private"}
        assert set(ep["subnetIds"]) == private
    s3 = services["com.amazonaws.eu-west-1.s3"]
    assert s3["vpcEndpointType"] == "Gateway"
    assert len(s3["routeTableIds"]) == 2
    rule = run.one("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    assert (rule.inputs["fromPort"], rule.inputs["toPort"], rule.inputs["cidrIpv4"]) == (
        443,
        443,
        "10.0.0.0/16",
    )


def test_endpoints_and_flow_logs_are_optional(run_component: ComponentRunner) -> None:
    run = _network(run_component, availability_zones=AZS3[:2], vpc_endpoints=False)
    assert run.of_type("aws:ec2/vpcEndpoint:VpcEndpoint") == []
    assert run.of_type("aws:ec2/flowLog:FlowLog") == []


def test_flow_logs_to_cloudwatch_with_retention_and_scoped_role(run_component: ComponentRunner) -> None:
    run = _network(run_component, availability_zones=AZS3[:2], flow_logs=True, log_retention_days=365)
    flow = run.one("aws:ec2/flowLog:FlowLog")
    group = run.one("aws:cloudwatch/logGroup:LogGroup")
    assert flow.inputs["trafficType"] == "ALL"
    assert flow.inputs["logDestination"] == group.outputs["arn"]
    assert group.inputs["retentionInDays"] == 365
    policy = json.loads(run.one("aws:iam/rolePolicy:RolePolicy").inputs["policy"])
    for statement in policy["Statement"]:
        assert "*" not in json.dumps(statement["Action"])
        assert statement["Resource"] != "*"
    trust = json.loads(run.one("aws:iam/role:Role").inputs["assumeRolePolicy"])
    assert trust["Statement"][0]["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}
    assert trust["Statement"][0]["Condition"]["StringEquals"]["aws:SourceAccount"] == "123456789012"


def test_adopted_vpc_creates_no_network_resources(run_component: ComponentRunner) -> None:
    adopt = AdoptedVpc(
        vpc_id="vpc-0123",
        public_subnet_ids=["subnet-a1", "subnet-a2"],
        private_subnet_ids=["subnet-b1", "subnet-b2"],
        isolated_subnet_ids=["subnet-c1", "subnet-c2"],
    )
    run = _network(run_component, availability_zones=AZS3[:2], adopt=adopt)
    created = {r.type for r in run.resources if r.custom}
    assert not created & {
        "aws:ec2/vpc:Vpc",
        "aws:ec2/subnet:Subnet",
        "aws:ec2/natGateway:NatGateway",
        "aws:ec2/route:Route",
    }
    endpoint = next(
        e for e in run.of_type("aws:ec2/vpcEndpoint:VpcEndpoint") if e.inputs["vpcEndpointType"] == "Interface"
    )
    assert endpoint.inputs["vpcId"] == "vpc-0123"
    assert endpoint.inputs["subnetIds"] == ["subnet-b1", "subnet-b2"]
    # the adopted VPC's CIDR is looked up, not assumed
    rule = run.one("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    assert rule.inputs["cidrIpv4"] == "10.99.0.0/16"


def test_every_child_is_parented_to_the_component(run_component: ComponentRunner) -> None:
    run = _network(run_component, availability_zones=AZS3, nat_gateways="per-az", flow_logs=True)
    component = run.one("platform:network:Network")
    assert all(r.parent == component.urn for r in run.resources if r.custom)
    assert all(r.name.startswith("net-") for r in run.resources if r.custom)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"availability_zones": ["a"]}, r"'az_count' = 1 is not valid; allowed: a whole number from 2 to 6"),
        ({"availability_zones": ["a", "a"]}, "distinct AZ names"),
        ({"availability_zones": AZS3, "az_count": 2}, r"exactly spec.az_count \(2\) names"),
        ({"availability_zones": AZS3, "cidr_block": "10.0.0.0/24"}, "prefix length from /16 to /22"),
        ({"availability_zones": AZS3, "cidr_block": "8.8.0.0/16"}, "a private"),
        ({"availability_zones": AZS3, "nat_gateways": "two"}, "allowed: one of none, single, per-az"),
        ({"availability_zones": AZS3, "log_retention_days": 2}, "'log_retention_days' = 2 is not valid"),
    ],
)
def test_args_reject_bad_values(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError, match=message):
        _args(**kwargs)


def test_subnet_plan_is_deterministic_and_sized() -> None:
    assert subnet_cidrs("10.0.0.0/16", "private", 3) == ["10.0.0.0/21", "10.0.8.0/21", "10.0.16.0/21"]
    assert subnet_cidrs("10.0.0.0/16", "isolated", 2) == ["10.0.64.0/21", "10.0.72.0/21"]
    assert subnet_cidrs("10.0.0.0/22", "public", 6)[-1] == "10.0.2.160/27"


# -- inspection (Gateway Load Balancer) layout ---------------------------------------------------------
def test_inspection_gives_each_public_subnet_its_own_table_without_a_default_route(
    run_component: ComponentRunner,
) -> None:
    run = _network(run_component, availability_zones=AZS3, inspection=True)
    subnets = {s.id: s.inputs for s in run.of_type("aws:ec2/subnet:Subnet")}
    routes: dict[str, list[dict[str, Any]]] = {}
    for r in run.of_type("aws:ec2/route:Route"):
        routes.setdefault(r.inputs["routeTableId"], []).append(r.inputs)
    associations = [a.inputs for a in run.of_type("aws:ec2/routeTableAssociation:RouteTableAssociation")]
    public_tables = {
        a["routeTableId"]
        for a in associations
        if subnets.get(a.get("subnetId", ""), {}).get("tags", {}).get("Tier") == "public"
    }
    assert len(public_tables) == 3, "one table per AZ keeps each AZ's traffic on its own endpoint"
    # the inspection component adds the default routes (through its endpoints)
    assert all(t not in routes for t in public_tables)
    # the names are those of the shared-table layout: turning inspection on re-points, never replaces
    names = {a.name for a in run.of_type("aws:ec2/routeTableAssociation:RouteTableAssociation")}
    assert {"net-public-rta-1", "net-public-rta-2", "net-public-rta-3"} <= names


def test_inspection_endpoint_subnets_route_to_the_igw_and_the_edge_table_is_on_the_igw(
    run_component: ComponentRunner,
) -> None:
    run = _network(run_component, availability_zones=AZS3, cidr_block="10.20.0.0/16", inspection=True)
    igw = run.one("aws:ec2/internetGateway:InternetGateway")
    endpoint_subnets = [
        s for s in run.of_type("aws:ec2/subnet:Subnet") if s.inputs["tags"]["Tier"] == "inspection-endpoint"
    ]
    assert sorted(s.inputs["availabilityZone"] for s in endpoint_subnets) == AZS3
    assert sorted(s.inputs["cidrBlock"] for s in endpoint_subnets) == endpoint_subnet_cidrs("10.20.0.0/16", 3)
    endpoint_table = run.one("aws:ec2/routeTable:RouteTable", "net-gwlbe-rt")
    [route] = [r.inputs for r in run.of_type("aws:ec2/route:Route") if r.inputs["routeTableId"] == endpoint_table.id]
    assert (route["destinationCidrBlock"], route["gatewayId"]) == ("0.0.0.0/0", igw.id)
    edge = run.one("aws:ec2/routeTableAssociation:RouteTableAssociation", "net-edge-rta")
    assert edge.inputs == {
        **edge.inputs,
        "gatewayId": igw.id,
        "routeTableId": run.one("aws:ec2/routeTable:RouteTable", "net-edge-rt").id,
    }
    assert "subnetId" not in edge.inputs


def test_inspection_structure_is_plain_per_az(run_component: ComponentRunner) -> None:
    holder: list[Network] = []
    run_component(lambda: holder.append(Network("net", _args(availability_zones=AZS3[:2], inspection=True))))
    [network] = holder
    assert network.public_route_table_id is None
    assert network.inspection is not None
    assert [z.availability_zone for z in network.inspection.zones] == AZS3[:2]
    assert [z.public_subnet_cidr for z in network.inspection.zones] == subnet_cidrs("10.0.0.0/16", "public", 2)
    assert [z.endpoint_subnet_cidr for z in network.inspection.zones] == ["10.0.192.0/28", "10.0.192.16/28"]


@pytest.mark.parametrize("cidr", ["10.0.0.0/16", "10.0.0.0/22"])
def test_endpoint_subnets_are_small_and_overlap_nothing(cidr: str) -> None:
    endpoint = [ipaddress.IPv4Network(c) for c in endpoint_subnet_cidrs(cidr, 6)]
    tiers = [ipaddress.IPv4Network(c) for t in ("public", "private", "isolated") for c in subnet_cidrs(cidr, t, 6)]
    assert all(e.prefixlen == 28 and e.subnet_of(ipaddress.IPv4Network(cidr)) for e in endpoint)
    assert not any(e.overlaps(t) for e in endpoint for t in tiers)
    assert len(set(endpoint)) == 6


def test_inspection_needs_a_vpc_this_program_owns() -> None:
    adopt = AdoptedVpc(
        vpc_id="vpc-0123",
        public_subnet_ids=["subnet-a1", "subnet-a2"],
        private_subnet_ids=["subnet-b1", "subnet-b2"],
        isolated_subnet_ids=["subnet-c1", "subnet-c2"],
    )
    with pytest.raises(InputError, match="inspection needs route tables this program owns"):
        _args(availability_zones=AZS3[:2], adopt=adopt, inspection=True)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"vpc_id": "my-vpc"}, "'vpc_id' = 'my-vpc' is not valid; allowed: a VPC ID"),
        ({"public_subnet_ids": ["a1", "subnet-a2"]}, "(bad: a1)"),
    ],
)
def test_an_adopted_vpc_is_named_by_its_ids(overrides: dict[str, Any], message: str) -> None:
    ids: dict[str, Any] = {
        "vpc_id": "vpc-0123",
        "public_subnet_ids": ["subnet-a1", "subnet-a2"],
        "private_subnet_ids": ["subnet-b1", "subnet-b2"],
        "isolated_subnet_ids": ["subnet-c1", "subnet-c2"],
    }
    with pytest.raises(InputError, match=re.escape(message)):
        AdoptedVpc(**{**ids, **overrides})
    with pytest.raises(InputError, match=re.escape("exactly az_count (3) subnet IDs")):
        _args(availability_zones=AZS3, adopt=AdoptedVpc(**ids))


def test_flow_log_group_takes_the_stacks_logs_key(run_component: ComponentRunner) -> None:
    key = "arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-0000-0000-00000000000a"
    run = _network(run_component, availability_zones=AZS3[:2], flow_logs=True, log_kms_key_arn=key)
    assert run.one("aws:cloudwatch/logGroup:LogGroup").inputs["kmsKeyId"] == key
    plain = _network(run_component, availability_zones=AZS3[:2], flow_logs=True)
    assert "kmsKeyId" not in plain.one("aws:cloudwatch/logGroup:LogGroup").inputs

    def program() -> None:
        with_logs = Network("with", _args(availability_zones=AZS3[:2], flow_logs=True))
        without = Network("without", _args(availability_zones=AZS3[:2], flow_logs=False))
        pulumi.export("names", [with_logs.flow_log_group_name, without.flow_log_group_name])

    assert run_component(program).outputs["names"] == ["/vpc/with/flow-logs", None]
