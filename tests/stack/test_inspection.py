"""Inspection (GWLB) in the whole program: off in the committed stacks, on through config overrides.

Enabling it for a stack is a config change only (see docs/nlb-gwlb.md), e.g.
``make plan STACK=prod ARGS="-c gwlbEnabled=true -c gwlbApplianceAmiId=ami-..."``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mockcloud import plan
from mockcloud.runner import StackRun
from stack import exports
from stack.settings import ConfigError
from tests.support import cached_run

AMI = "ami-0123456789abcdef0"
GWLB = "platform:gwlb:GatewayLoadBalancer"


def _prod_inspected(preview: bool = False) -> StackRun:
    return cached_run("prod", preview=preview, gwlbEnabled=True, gwlbApplianceAmiId=AMI)


def symmetric_paths(run: StackRun, network_name: str) -> dict[str, tuple[str, str]]:
    """Per AZ of the named network: (endpoint the IGW sends the public subnet's traffic to,
    endpoint the public subnet's default route uses), each checked to be in that same AZ."""
    by_urn = {r.urn: r for r in run.resources}
    network = run.one("platform:network:Network", network_name)

    def inside(r: Any) -> bool:
        parent = by_urn.get(r.parent)
        return parent is not None and (parent.urn == network.urn or inside(parent))

    subnets = {s.id: s.inputs for s in run.of_type("aws:ec2/subnet:Subnet")}
    endpoints = {
        e.id: subnets[e.inputs["subnetIds"][0]]["availabilityZone"]
        for e in run.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")
        if e.inputs["vpcEndpointType"] == "GatewayLoadBalancer"
    }
    igw = next(r for r in run.of_type("aws:ec2/internetGateway:InternetGateway") if inside(r))
    associations = run.of_type("aws:ec2/routeTableAssociation:RouteTableAssociation")
    edge_table = next(a.inputs["routeTableId"] for a in associations if a.inputs.get("gatewayId") == igw.id)
    table_of = {a.inputs["subnetId"]: a.inputs["routeTableId"] for a in associations if "subnetId" in a.inputs}
    routes = [r.inputs for r in run.of_type("aws:ec2/route:Route")]

    paths: dict[str, tuple[str, str]] = {}
    for sid, subnet in subnets.items():
        if subnet["tags"]["Tier"] != "public" or subnet["vpcId"] != igw.inputs["vpcId"]:
            continue
        az = subnet["availabilityZone"]
        [inbound] = [
            r for r in routes if r["routeTableId"] == edge_table and r["destinationCidrBlock"] == subnet["cidrBlock"]
        ]
        [outbound] = [r for r in routes if r["routeTableId"] == table_of[sid]]
        assert outbound["destinationCidrBlock"] == "0.0.0.0/0"
        assert endpoints[inbound["vpcEndpointId"]] == az
        assert endpoints[outbound["vpcEndpointId"]] == az
        paths[az] = (inbound["vpcEndpointId"], outbound["vpcEndpointId"])
    return paths


def test_committed_stacks_do_not_inspect(stack_run: StackRun) -> None:
    assert stack_run.of_type(GWLB) == []
    assert stack_run.of_type("aws:ec2/vpcEndpointService:VpcEndpointService") == []
    assert stack_run.outputs[exports.INSPECTION_ENDPOINT_SERVICE_NAME] is None
    assert stack_run.outputs[exports.INSPECTION_ENDPOINT_IDS] is None
    # the public subnets keep their shared table with the default route to the IGW
    public_defaults = [r for r in stack_run.of_type("aws:ec2/route:Route") if r.name.endswith("-public-default")]
    assert len(public_defaults) == 1


def test_prod_with_inspection_routes_each_az_through_its_own_endpoint() -> None:
    run = _prod_inspected()
    paths = symmetric_paths(run, "prod")
    assert sorted(paths) == run.outputs[exports.AVAILABILITY_ZONES]
    for az, (inbound, outbound) in paths.items():
        assert inbound == outbound, f"{az}: traffic in and out must cross the same endpoint"
    assert {az: ep for az, (ep, _) in paths.items()} == run.outputs[exports.INSPECTION_ENDPOINT_IDS]
    service = run.one("aws:ec2/vpcEndpointService:VpcEndpointService")
    assert run.outputs[exports.INSPECTION_ENDPOINT_SERVICE_NAME] == service.outputs["serviceName"]


def test_prod_with_inspection_builds_the_inspection_vpc_and_fleet() -> None:
    run = _prod_inspected()
    inspection_vpc = run.one("aws:ec2/vpc:Vpc", "prod-inspection-vpc")
    assert inspection_vpc.inputs["cidrBlock"] == "10.255.0.0/22"
    gwlb = run.one("aws:lb/loadBalancer:LoadBalancer", "prod-gwlb-gwlb")
    assert gwlb.inputs["loadBalancerType"] == "gateway"
    assert gwlb.inputs["enableCrossZoneLoadBalancing"] is True
    assert gwlb.inputs["enableDeletionProtection"] is True  # prod's deletionProtection
    appliance_subnets = {
        s.id for s in run.of_type("aws:ec2/subnet:Subnet") if s.name.startswith("prod-inspection-private-")
    }
    assert set(gwlb.inputs["subnets"]) == appliance_subnets
    tg = run.one("aws:lb/targetGroup:TargetGroup", "prod-gwlb-appliances").inputs
    assert (tg["protocol"], tg["port"]) == ("GENEVE", 6081)
    assert tg["healthCheck"]["protocol"] == "TCP"
    assert tg["healthCheck"]["port"] == "80"
    assert run.one("aws:ec2/launchTemplate:LaunchTemplate").inputs["imageId"] == AMI
    assert run.one("aws:ec2/vpcEndpointService:VpcEndpointService").inputs["acceptanceRequired"] is True
    # prod's flow logs cover the inspection VPC too
    assert len(run.of_type("aws:ec2/flowLog:FlowLog")) == 2


def test_preview_shows_the_inspection_layer_with_unknown_ids() -> None:
    run = _prod_inspected(preview=True)
    assert len(run.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")) >= 3
    assert len([r for r in run.of_type("aws:ec2/route:Route") if r.name.startswith("prod-gwlb-")]) == 6
    assert exports.INSPECTION_ENDPOINT_SERVICE_NAME in run.unknown_outputs


def test_offline_plan_shows_the_inspection_layer(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["dev", "-c", "gwlbEnabled=true", "-c", 'gwlbApplianceIps=["10.255.0.10","10.255.0.40"]']
    assert plan.main([*args, "--out", str(tmp_path)]) == plan.EXIT_OK
    out = capsys.readouterr().out
    assert "platform:gwlb:GatewayLoadBalancer" in out
    assert "aws:ec2:VpcEndpointService" in out
    assert 'inspectionEndpointServiceName: "com.amazonaws.vpce.' in out
    document = json.loads((tmp_path / "plan-dev.json").read_text())
    assert document["counts"]["aws:lb/targetGroupAttachment:TargetGroupAttachment"] == 2
    assert document["counts"]["aws:ec2/vpcEndpointService:VpcEndpointService"] == 1
    assert "GatewayLoadBalancer" in (tmp_path / "architecture-dev.mmd").read_text()


@pytest.mark.parametrize(
    ("overrides", "key", "allowed"),
    [
        ({"gwlbEnabled": True}, "gwlbApplianceAmiId", "exactly one of gwlbApplianceAmiId"),
        (
            {"gwlbEnabled": True, "gwlbApplianceAmiId": AMI, "gwlbApplianceIps": ["10.255.0.10"]},
            "gwlbApplianceAmiId",
            "exactly one of",
        ),
        ({"gwlbEnabled": True, "gwlbApplianceAmiId": "ubuntu-22"}, "gwlbApplianceAmiId", "an AMI ID (ami-...)"),
        (
            {"gwlbEnabled": True, "gwlbApplianceIps": ["10.0.0.10"]},
            "gwlbApplianceIps",
            "addresses inside the inspection VPC",
        ),
        (
            {"gwlbEnabled": True, "gwlbApplianceAmiId": AMI, "gwlbApplianceMinSize": 5, "gwlbApplianceMaxSize": 3},
            "gwlbApplianceMaxSize",
            "from gwlbApplianceMinSize (5) to 100",
        ),
        ({"gwlbHealthCheckPath": "/health"}, "gwlbHealthCheckPath", "only HTTP and HTTPS"),
        ({"gwlbTargetFailover": "drain"}, "gwlbTargetFailover", "one of rebalance, no_rebalance"),
        ({"gwlbAllowedPrincipals": ["*"]}, "gwlbAllowedPrincipals", "every AWS account"),
        ({"gwlbInspectionVpcCidr": "10.0.0.0/22"}, "gwlbInspectionVpcCidr", "apart from vpcCidr"),
        ({"gwlbInspectionVpcCidr": "100.64.0.0/22"}, "gwlbInspectionVpcCidr", "private"),
        (
            {
                "gwlbEnabled": True,
                "gwlbApplianceAmiId": AMI,
                "existingVpcId": "vpc-0123456789abcdef0",
                "existingPublicSubnetIds": ["subnet-01", "subnet-02"],
                "existingPrivateSubnetIds": ["subnet-03", "subnet-04"],
                "existingIsolatedSubnetIds": ["subnet-05", "subnet-06"],
            },
            "gwlbEnabled",
            "false with existingVpcId",
        ),
        ({"nlbEnabled": True, "nlbIngressCidrs": []}, "nlbIngressCidrs", "at least one CIDR"),
        ({"nlbIngressCidrs": ["2001:db8::/32"]}, "nlbIngressCidrs", "an IPv4 CIDR"),
    ],
)
def test_bad_config_names_the_key(overrides: dict[str, Any], key: str, allowed: str) -> None:
    with pytest.raises(ConfigError) as caught:
        cached_run("dev", **overrides)
    assert caught.value.key == f"container-platform:{key}"
    assert allowed in caught.value.allowed


def test_appliance_instances_carry_the_stack_default_tags() -> None:
    # Auto Scaling does not apply provider default tags to the instances it launches.
    run = cached_run("prod", gwlbEnabled=True, gwlbApplianceAmiId="ami-0123456789abcdef0")
    template = run.one("aws:ec2/launchTemplate:LaunchTemplate")
    for spec in template.inputs["tagSpecifications"]:
        assert spec["tags"]["CostCenter"] == "engineering"
        assert spec["tags"]["Environment"] == "prod"
        assert spec["tags"]["Role"] == "inspection-appliance"
