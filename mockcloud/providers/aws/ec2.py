"""EC2 (``aws:ec2/...``): VPCs, subnets, routing, NAT, Elastic IPs, security groups, endpoints and endpoint
services, launch templates; and the EC2 lookups the program invokes (VPC, prefix list, Elastic IP)."""

from __future__ import annotations

from typing import Any

from mockcloud.cloud import Cloud, hexid, physical_name
from mockcloud.registry import OutputMaker, Outputs, invoke, outputs


def _ec2_id(prefix: str, kind: str) -> OutputMaker:
    def make(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
        rid = f"{prefix}-{hexid(name)}"
        return rid, {"arn": cloud.arn("ec2", f"{kind}/{rid}"), "ownerId": cloud.account_id}

    return make


for _type, _prefix, _kind in [
    ("aws:ec2/internetGateway:InternetGateway", "igw", "internet-gateway"),
    ("aws:ec2/routeTable:RouteTable", "rtb", "route-table"),
    ("aws:ec2/natGateway:NatGateway", "nat", "natgateway"),
    ("aws:ec2/flowLog:FlowLog", "fl", "vpc-flow-log"),
    ("aws:ec2/networkInterface:NetworkInterface", "eni", "network-interface"),
]:
    outputs(_type)(_ec2_id(_prefix, _kind))


@outputs("aws:ec2/vpc:Vpc")
def _vpc(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    rid = f"vpc-{hexid(name)}"
    return rid, {
        "arn": cloud.arn("ec2", f"vpc/{rid}"),
        "defaultSecurityGroupId": f"sg-{hexid(name + 'default')}",
        "mainRouteTableId": f"rtb-{hexid(name + 'main')}",
        "defaultNetworkAclId": f"acl-{hexid(name + 'acl')}",
        "ownerId": cloud.account_id,
    }


@outputs("aws:ec2/subnet:Subnet")
def _subnet(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    rid = f"subnet-{hexid(name)}"
    az = inputs.get("availabilityZone", cloud.zones[0])
    return rid, {
        "arn": cloud.arn("ec2", f"subnet/{rid}"),
        "availabilityZoneId": f"{cloud.region[:3]}{cloud.region[-1]}-az{'abcdef'.index(az[-1]) + 1}",
    }


@outputs("aws:ec2/eip:Eip")
def _eip(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    rid = f"eipalloc-{hexid(name)}"
    # 203.0.113.0/24 is TEST-NET-3: clearly not a real address.
    octet = int(hexid(name, 2), 16) % 250 + 2
    return rid, {
        "allocationId": rid,
        "publicIp": f"203.0.113.{octet}",
        "publicDns": f"ec2-203-0-113-{octet}.{cloud.region}.compute.amazonaws.com",
        "arn": cloud.arn("ec2", f"elastic-ip/{rid}"),
    }


@outputs("aws:ec2/route:Route")
def _route(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    return f"r-{inputs.get('routeTableId', 'rtb')}{hexid(name, 8)}", {"state": "active"}


@outputs("aws:ec2/routeTableAssociation:RouteTableAssociation")
def _rta(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    return f"rtbassoc-{hexid(name)}", {}


@outputs("aws:ec2/securityGroup:SecurityGroup", "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
def _security_group(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    rid = f"sg-{hexid(name)}"
    return rid, {
        "arn": cloud.arn("ec2", f"security-group/{rid}"),
        "ownerId": cloud.account_id,
        "name": physical_name(name, inputs, max_length=255),
    }


@outputs("aws:ec2/vpcEndpoint:VpcEndpoint")
def _vpc_endpoint(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    rid = f"vpce-{hexid(name)}"
    service = str(inputs.get("serviceName", "com.amazonaws.unknown"))
    dns = f"{rid}-{hexid(name + 'dns', 8)}.{service.split('.', 3)[-1]}.{cloud.region}.vpce.amazonaws.com"
    return rid, {
        "arn": cloud.arn("ec2", f"vpc-endpoint/{rid}"),
        "dnsEntries": [{"dnsName": dns, "hostedZoneId": "Z7HUB22UULQXV"}],
        "networkInterfaceIds": [f"eni-{hexid(name + str(i))}" for i in range(len(inputs.get("subnetIds") or []))],
        "state": "available",
        "ownerId": cloud.account_id,
    }


@outputs("aws:ec2/vpcEndpointService:VpcEndpointService")
def _endpoint_service(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    rid = f"vpce-svc-{hexid(name)}"
    gateway = bool(inputs.get("gatewayLoadBalancerArns"))
    return rid, {
        "arn": cloud.arn("ec2", f"vpc-endpoint-service/{rid}"),
        "serviceName": f"com.amazonaws.vpce.{cloud.region}.{rid}",
        "serviceType": "GatewayLoadBalancer" if gateway else "Interface",
        "state": "Available",
        "availabilityZones": cloud.zones,
        "baseEndpointDnsNames": [] if gateway else [f"{rid}.{cloud.region}.vpce.amazonaws.com"],
        "managesVpcEndpoints": False,
        "privateDnsName": "",
        "supportedIpAddressTypes": ["ipv4"],
    }


@outputs("aws:ec2/launchTemplate:LaunchTemplate")
def _launch_template(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    rid = f"lt-{hexid(name)}"
    return rid, {
        "arn": cloud.arn("ec2", f"launch-template/{rid}"),
        "latestVersion": 1,
        "defaultVersion": 1,
        "name": physical_name(name, inputs, max_length=128),
    }


# --------------------------------------------------------------------------------------------------
# Invokes
# --------------------------------------------------------------------------------------------------
@invoke("aws:ec2/getVpc:getVpc")
def _get_vpc(cloud: Cloud, args: dict[str, Any]) -> dict[str, Any]:
    vpc_id = args.get("id") or "vpc-0adopted0000000001"
    return {
        "id": vpc_id,
        "cidrBlock": "10.99.0.0/16",
        "arn": cloud.arn("ec2", f"vpc/{vpc_id}"),
        "state": "available",
    }


@invoke("aws:ec2/getPrefixList:getPrefixList")
def _prefix_list(cloud: Cloud, args: dict[str, Any]) -> dict[str, Any]:
    """The AWS-managed prefix list of a gateway endpoint service (``com.amazonaws.<region>.s3``)."""
    list_name = str(args.get("name") or f"com.amazonaws.{cloud.region}.s3")
    pl_id = str(args.get("prefixListId") or f"pl-{hexid(list_name, 8)}")
    return {"id": pl_id, "name": list_name, "cidrBlocks": ["52.218.0.0/17", "3.5.64.0/21"]}


@invoke("aws:ec2/getElasticIp:getElasticIp")
def _get_elastic_ip(cloud: Cloud, args: dict[str, Any]) -> dict[str, Any]:
    allocation = str(args.get("id") or "eipalloc-0000000000000000")
    octet = int(hexid(allocation, 2), 16) % 250 + 2
    return {
        "id": allocation,
        "allocationId": allocation,
        "domain": "vpc",
        "publicIp": f"198.51.100.{octet}",  # TEST-NET-2: clearly not a real address
        "publicDns": f"ec2-198-51-100-{octet}.{cloud.region}.compute.amazonaws.com",
        "tags": {},
    }
