"""The GWLB alone (with the two VPCs it joins): GENEVE, health checks, endpoints per AZ, symmetric routes."""

from __future__ import annotations

import ipaddress
import json
from typing import Any

import pulumi
import pytest

from components.aws_context import AwsContext
from components.errors import InputError
from components.gateway_load_balancer import (
    GENEVE_PORT,
    ApplianceFleet,
    GatewayLoadBalancer,
    GatewayLoadBalancerArgs,
    GeneveHealthCheck,
    InspectionSpec,
    RegisteredAppliances,
    TargetFailover,
)
from components.network import InspectionRouting, InspectionZone, Network, NetworkArgs, NetworkSpec
from mockcloud.runner import StackConfig, StackRun, run_program
from stack.settings import APPLIANCE_FLEET, GENEVE_HEALTH_CHECK, NETWORK, TARGET_FAILOVER
from tests.support import config_defaults

AZS3 = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
CONTEXT = AwsContext(account_id="123456789012", region="eu-west-1")
INSPECTION_CIDR = "10.250.0.0/22"


def _health(**overrides: Any) -> GeneveHealthCheck:
    return GeneveHealthCheck(**{**config_defaults(GENEVE_HEALTH_CHECK, GeneveHealthCheck), **overrides})


def _fleet(**overrides: Any) -> ApplianceFleet:
    return ApplianceFleet(**{**config_defaults(APPLIANCE_FLEET, ApplianceFleet), **overrides})


def _failover(**overrides: Any) -> TargetFailover:
    return TargetFailover(**{**config_defaults(TARGET_FAILOVER, TargetFailover), **overrides})


def _vpc(cidr: str, **overrides: Any) -> NetworkSpec:
    spec = {**config_defaults(NETWORK, NetworkSpec), "cidr_block": cidr, "vpc_endpoints": False, "az_count": 3}
    return NetworkSpec(**{**spec, **overrides})


def _inspection(appliances: ApplianceFleet | RegisteredAppliances, **overrides: Any) -> InspectionSpec:
    spec: dict[str, Any] = {
        "vpc": _vpc(INSPECTION_CIDR),
        "appliances": appliances,
        "health_check": _health(),
        "target_failover": _failover(),
        "allowed_principals": (),
        "deletion_protection": False,
        **overrides,
    }
    return InspectionSpec(**spec)


FLEET = _fleet(ami_id="ami-0123456789abcdef0", instance_type="c6in.large", min_size=3, max_size=6)
ROUTE = "aws:ec2/route:Route"
SUBNET = "aws:ec2/subnet:Subnet"
ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
RTA = "aws:ec2/routeTableAssociation:RouteTableAssociation"


def _program(appliances: ApplianceFleet | RegisteredAppliances, **overrides: Any) -> None:
    app = Network(
        "app", NetworkArgs(context=CONTEXT, availability_zones=AZS3, inspection=True, spec=_vpc("10.0.0.0/16"))
    )
    spec = _inspection(appliances, **overrides)
    security = Network("sec", NetworkArgs(context=CONTEXT, availability_zones=AZS3, spec=spec.vpc))
    assert app.inspection is not None
    gwlb = GatewayLoadBalancer(
        "insp",
        GatewayLoadBalancerArgs(
            context=CONTEXT,
            appliance_vpc_id=security.vpc_id,
            appliance_subnet_ids=security.private_subnet_ids,
            appliance_availability_zones=security.availability_zones,
            app_vpc_id=app.vpc_id,
            app_routing=app.inspection,
            spec=spec,
        ),
    )
    pulumi.export("endpointServiceName", gwlb.endpoint_service_name)
    pulumi.export("endpointIds", gwlb.endpoint_ids)


def _run(appliances: ApplianceFleet | RegisteredAppliances, **overrides: Any) -> StackRun:
    return run_program(
        lambda: _program(appliances, **overrides),
        project="container-platform",
        stack="test",
        config=StackConfig(values={"aws:region": "eu-west-1"}, secret_keys=frozenset()),
    )


@pytest.fixture(scope="module")
def fleet_run() -> StackRun:
    return _run(
        FLEET,
        health_check=_health(protocol="HTTP", port=8443, path="/health"),
        allowed_principals=["arn:aws:iam::210987654321:root"],
        deletion_protection=True,
    )


def test_gwlb_spans_the_appliance_subnets_with_cross_zone_on(fleet_run: StackRun) -> None:
    gwlb = fleet_run.one("aws:lb/loadBalancer:LoadBalancer")
    security_private = sorted(
        s.id for s in fleet_run.of_type(SUBNET) if s.name.startswith("sec-private-") and s.inputs["tags"]["Tier"]
    )
    assert gwlb.inputs["loadBalancerType"] == "gateway"
    assert sorted(gwlb.inputs["subnets"]) == security_private
    assert gwlb.inputs["enableCrossZoneLoadBalancing"] is True
    assert gwlb.inputs["enableDeletionProtection"] is True
    listener = fleet_run.one("aws:lb/listener:Listener")
    tg = fleet_run.one("aws:lb/targetGroup:TargetGroup")
    assert listener.inputs["loadBalancerArn"] == gwlb.outputs["arn"]
    assert "port" not in listener.inputs
    assert "protocol" not in listener.inputs
    assert listener.inputs["defaultActions"] == [{"type": "forward", "targetGroupArn": tg.id}]


def test_geneve_target_group_on_6081_with_health_checks_on_the_appliance_port(fleet_run: StackRun) -> None:
    tg = fleet_run.one("aws:lb/targetGroup:TargetGroup").inputs
    assert (tg["protocol"], tg["port"], tg["targetType"]) == ("GENEVE", GENEVE_PORT, "instance")
    assert tg["vpcId"] == fleet_run.one("aws:ec2/vpc:Vpc", "sec-vpc").id
    assert tg["healthCheck"] == {
        "enabled": True,
        "protocol": "HTTP",
        "port": "8443",
        "path": "/health",
        "matcher": "200-399",
        "interval": 10,
        "timeout": 5,
        "healthyThreshold": 3,
        "unhealthyThreshold": 2,
    }
    assert tg["targetFailovers"] == [{"onDeregistration": "rebalance", "onUnhealthy": "rebalance"}]
    assert int(tg["deregistrationDelay"]) == 300  # the provider types it as a string


def test_appliance_fleet_is_imdsv2_only_with_encrypted_ebs(fleet_run: StackRun) -> None:
    lt = fleet_run.one("aws:ec2/launchTemplate:LaunchTemplate").inputs
    assert lt["imageId"] == FLEET.ami_id
    assert lt["instanceType"] == "c6in.large"
    assert lt["metadataOptions"]["httpTokens"] == "required"
    assert lt["metadataOptions"]["httpPutResponseHopLimit"] == 1
    [root] = lt["blockDeviceMappings"]
    assert root["deviceName"] == "/dev/xvda"
    assert root["ebs"]["encrypted"] == "true"
    assert "volumeSize" not in root["ebs"]  # keeps the AMI's size
    asg = fleet_run.one("aws:autoscaling/group:Group").inputs
    tg = fleet_run.one("aws:lb/targetGroup:TargetGroup")
    assert (asg["minSize"], asg["maxSize"], asg["desiredCapacity"]) == (3, 6, 3)
    assert asg["targetGroupArns"] == [tg.id]
    assert asg["healthCheckType"] == "ELB"
    assert asg["launchTemplate"]["version"] == "1"
    private = {s.id for s in fleet_run.of_type(SUBNET) if s.name.startswith("sec-private-")}
    assert set(asg["vpcZoneIdentifiers"]) == private
    policy = fleet_run.one("aws:iam/rolePolicyAttachment:RolePolicyAttachment").inputs
    assert policy["policyArn"] == "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
    trust = json.loads(fleet_run.one("aws:iam/role:Role", "insp-appliance-role").inputs["assumeRolePolicy"])
    assert trust["Statement"][0]["Principal"] == {"Service": "ec2.amazonaws.com"}


def test_appliance_security_group_admits_geneve_and_health_checks_from_the_inspection_vpc(
    fleet_run: StackRun,
) -> None:
    sg = fleet_run.one("aws:ec2/securityGroup:SecurityGroup", "insp-appliance-sg")
    ingress = [
        r.inputs
        for r in fleet_run.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
        if r.inputs["securityGroupId"] == sg.id
    ]
    assert sorted((r["ipProtocol"], r["fromPort"], r["cidrIpv4"]) for r in ingress) == [
        ("tcp", 8443, INSPECTION_CIDR),
        ("udp", 6081, INSPECTION_CIDR),
    ]
    assert all(r["description"] for r in ingress)


def test_endpoint_service_requires_acceptance_and_names_its_principals(fleet_run: StackRun) -> None:
    service = fleet_run.one("aws:ec2/vpcEndpointService:VpcEndpointService")
    gwlb = fleet_run.one("aws:lb/loadBalancer:LoadBalancer")
    assert service.inputs["acceptanceRequired"] is True
    assert service.inputs["gatewayLoadBalancerArns"] == [gwlb.outputs["arn"]]
    assert service.inputs["allowedPrincipals"] == [
        "arn:aws:iam::123456789012:root",
        "arn:aws:iam::210987654321:root",
    ]
    assert fleet_run.outputs["endpointServiceName"] == service.outputs["serviceName"]


def test_one_endpoint_per_az_in_the_dedicated_endpoint_subnet(fleet_run: StackRun) -> None:
    service = fleet_run.one("aws:ec2/vpcEndpointService:VpcEndpointService")
    listener = fleet_run.one("aws:lb/listener:Listener")
    endpoint_subnets = {s.id: s.inputs for s in fleet_run.of_type(SUBNET) if s.name.startswith("app-gwlbe-")}
    endpoints = fleet_run.of_type(ENDPOINT)
    assert len(endpoints) == 3
    by_az = {}
    for endpoint in endpoints:
        assert endpoint.inputs["vpcEndpointType"] == "GatewayLoadBalancer"
        assert endpoint.inputs["serviceName"] == service.outputs["serviceName"]
        assert endpoint.inputs["vpcId"] == fleet_run.one("aws:ec2/vpc:Vpc", "app-vpc").id
        assert endpoint.inputs["autoAccept"] is True
        assert listener.urn in endpoint.dependencies
        [subnet] = endpoint.inputs["subnetIds"]
        by_az[endpoint_subnets[subnet]["availabilityZone"]] = endpoint.id
        assert ipaddress.IPv4Network(endpoint_subnets[subnet]["cidrBlock"]).prefixlen == 28
    assert sorted(by_az) == AZS3
    assert fleet_run.outputs["endpointIds"] == by_az


def test_routes_keep_each_az_symmetric(fleet_run: StackRun) -> None:
    """Per AZ: IGW -> public subnet CIDR -> endpoint X, and public subnet 0.0.0.0/0 -> the same X."""
    run = fleet_run
    endpoints = {e.id: e for e in run.of_type(ENDPOINT)}
    subnets = {s.id: s.inputs for s in run.of_type(SUBNET)}
    endpoint_az = {eid: subnets[e.inputs["subnetIds"][0]]["availabilityZone"] for eid, e in endpoints.items()}
    routes: dict[str, list[dict[str, Any]]] = {}
    for r in run.of_type(ROUTE):
        routes.setdefault(r.inputs["routeTableId"], []).append(r.inputs)
    igw = run.one("aws:ec2/internetGateway:InternetGateway", "app-igw")
    [edge_assoc] = [a.inputs for a in run.of_type(RTA) if a.inputs.get("gatewayId") == igw.id]
    edge_routes = {r["destinationCidrBlock"]: r for r in routes[edge_assoc["routeTableId"]]}
    table_of_subnet = {
        a.inputs["subnetId"]: a.inputs["routeTableId"] for a in run.of_type(RTA) if "subnetId" in a.inputs
    }

    public = [
        (sid, s) for sid, s in subnets.items() if s["tags"]["Tier"] == "public" and s["vpcId"] == igw.inputs["vpcId"]
    ]
    assert len(public) == 3
    for subnet_id, subnet in public:
        az, cidr = subnet["availabilityZone"], subnet["cidrBlock"]
        # inbound: the edge route for exactly this subnet's CIDR goes to this AZ's endpoint
        inbound = edge_routes[cidr]["vpcEndpointId"]
        assert endpoint_az[inbound] == az
        # outbound: the subnet's own table sends everything to that same endpoint, and nothing else
        [default] = routes[table_of_subnet[subnet_id]]
        assert default["destinationCidrBlock"] == "0.0.0.0/0"
        assert default["vpcEndpointId"] == inbound
        assert "gatewayId" not in default
    # the edge table has nothing but the three ingress routes
    assert len(edge_routes) == 3
    # inspected traffic leaves the endpoint subnets to the internet gateway
    for endpoint in endpoints.values():
        [out] = routes[table_of_subnet[endpoint.inputs["subnetIds"][0]]]
        assert (out["destinationCidrBlock"], out["gatewayId"]) == ("0.0.0.0/0", igw.id)


def test_private_subnets_still_leave_through_nat_in_a_public_subnet(fleet_run: StackRun) -> None:
    # NAT gateways sit in public subnets, so their traffic is inspected by the same per-AZ routes.
    nat = fleet_run.one("aws:ec2/natGateway:NatGateway", "app-nat-1")
    public = {s.id for s in fleet_run.of_type(SUBNET) if s.name.startswith("app-public-")}
    assert nat.inputs["subnetId"] in public


def test_children_are_parented_and_prefixed(fleet_run: StackRun) -> None:
    component = fleet_run.one("platform:gwlb:GatewayLoadBalancer")
    children = fleet_run.children(component.urn)
    assert children
    assert all(c.name.startswith("insp-") for c in children)


def test_registered_ip_appliances() -> None:
    run = _run(RegisteredAppliances(ip_addresses=["10.250.0.10", "10.250.0.74"]))
    tg = run.one("aws:lb/targetGroup:TargetGroup")
    assert tg.inputs["targetType"] == "ip"
    assert tg.inputs["healthCheck"]["protocol"] == "TCP"
    assert "matcher" not in tg.inputs["healthCheck"]
    attachments = run.of_type("aws:lb/targetGroupAttachment:TargetGroupAttachment")
    assert sorted((a.inputs["targetId"], a.inputs["port"]) for a in attachments) == [
        ("10.250.0.10", 6081),
        ("10.250.0.74", 6081),
    ]
    assert run.of_type("aws:autoscaling/group:Group") == []
    assert run.of_type("aws:ec2/launchTemplate:LaunchTemplate") == []


def test_preview_knows_endpoints_and_routes_per_az() -> None:
    run = run_program(
        lambda: _program(FLEET),
        project="container-platform",
        stack="test",
        config=StackConfig(values={"aws:region": "eu-west-1"}, secret_keys=frozenset()),
        preview=True,
    )
    assert len(run.of_type(ENDPOINT)) == 3
    assert len([r for r in run.of_type(ROUTE) if r.name.startswith("insp-")]) == 6
    assert "endpointServiceName" in run.unknown_outputs


# -- rejected specs ----------------------------------------------------------------------------------
def _routing(azs: list[str]) -> InspectionRouting:
    return InspectionRouting(
        edge_route_table_id=pulumi.Output.from_input("rtb-edge"),
        zones=[
            InspectionZone(
                availability_zone=az,
                public_subnet_cidr=f"10.0.{128 + i * 8}.0/21",
                public_route_table_id=pulumi.Output.from_input(f"rtb-{i}"),
                endpoint_subnet_id=pulumi.Output.from_input(f"subnet-e{i}"),
                endpoint_subnet_cidr=f"10.0.192.{i * 16}/28",
            )
            for i, az in enumerate(azs)
        ],
    )


def _args(**overrides: Any) -> GatewayLoadBalancerArgs:
    spec_overrides = {k: overrides.pop(k) for k in list(overrides) if k in InspectionSpec.__dataclass_fields__}
    fields: dict[str, Any] = {
        "context": CONTEXT,
        "appliance_vpc_id": "vpc-0sec",
        "appliance_subnet_ids": ["subnet-s1", "subnet-s2"],
        "appliance_availability_zones": AZS3[:2],
        "app_vpc_id": "vpc-0app",
        "app_routing": _routing(AZS3[:2]),
    }
    fields.update(overrides)
    return GatewayLoadBalancerArgs(
        **fields, spec=_inspection(spec_overrides.pop("appliances", FLEET), **spec_overrides)
    )


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (
            lambda: _failover(on_deregistration="rebalance", on_unhealthy="no_rebalance"),
            r"'on_unhealthy' = 'no_rebalance' is not valid; allowed: equal to on_deregistration",
        ),
        (lambda: _failover(on_deregistration="drain", on_unhealthy="drain"), "allowed: one of rebalance, no_rebalance"),
        (lambda: _health(protocol="GENEVE"), "allowed: one of TCP, HTTP, HTTPS"),
        (lambda: _health(port=0), "'port' = 0 is not valid"),
        (lambda: _health(path="/health"), "only HTTP and HTTPS"),
        (lambda: _health(interval_seconds=301), "a whole number from 5 to 300"),
        (lambda: _health(timeout_seconds=10), "less than interval_seconds"),
        (lambda: _health(unhealthy_threshold=1), "a whole number from 2 to 10"),
        (
            lambda: _fleet(ami_id="ubuntu", instance_type="c6in.large"),
            "'ami_id' = 'ubuntu' is not valid; allowed: an AMI ID",
        ),
        (lambda: _fleet(ami_id=FLEET.ami_id, instance_type="large"), "allowed: an instance type"),
        (lambda: _fleet(ami_id=FLEET.ami_id, instance_type="c6in.large", min_size=3, max_size=2), "'max_size' = 2"),
        (
            lambda: _fleet(ami_id=FLEET.ami_id, instance_type="c6in.large", root_device_name="xvda"),
            "'root_device_name' = 'xvda'",
        ),
        (lambda: RegisteredAppliances(ip_addresses=[]), "at least one IPv4 address"),
        (lambda: RegisteredAppliances(ip_addresses=["10.250.0.300"]), "('10.250.0.300' is not one)"),
        (
            lambda: _args(appliances=RegisteredAppliances(ip_addresses=["10.0.0.5"])),
            r"addresses inside the inspection VPC \(10.250.0.0/22\).*\(outside: 10.0.0.5\)",
        ),
        (lambda: _args(app_routing=_routing(AZS3)), r"every AZ of the app VPC needs .*\(missing: eu-west-1c\)"),
        (lambda: _args(app_routing=_routing([])), "'app_routing.zones' = \\[\\] is not valid"),
        (lambda: _args(appliance_subnet_ids=["subnet-s1"]), "one subnet per AZ"),
        (lambda: _args(allowed_principals=["*"]), "every AWS account"),
        (lambda: _args(deregistration_delay_seconds=4000), "a whole number from 0 to 3600"),
        (lambda: _vpc("10.250.0.0/33"), "an IPv4 CIDR"),
    ],
)
def test_bad_specs_fail_before_anything_is_created(build: Any, message: str) -> None:
    with pytest.raises(InputError, match=message):
        build()
