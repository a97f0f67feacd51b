"""NLB and GWLB: endpoint services, appliance Auto Scaling groups and launch templates, Elastic IP lookups.

The ``aws:lb/...`` makers below cover all three load balancer types (application, network, gateway)
with the ARN shapes ELB uses (``loadbalancer/net/<name>/<id>``, ``listener/gwy/...``). They are only
registered when no other module (``elb.py``, loaded first) has claimed those types, so the ALB's own
module stays in charge when it exists.
"""

from __future__ import annotations

import uuid
from typing import Any, Final

from mockcloud.aws_cloud import RESOURCE_OUTPUTS, Cloud, OutputMaker, Outputs, hexid, invoke, outputs, physical_name

_KIND: Final = {"application": "app", "network": "net", "gateway": "gwy"}
# Canonical hosted zone IDs of ELB in eu-west-1 / us-east-1 (for Route 53 alias records).
_ZONE_IDS: Final = {
    ("eu-west-1", "app"): "Z32O12XQLNTSW2",
    ("eu-west-1", "net"): "Z2IFOLAFXWLO4F",
    ("us-east-1", "app"): "Z35SXDOTRQ7X7K",
    ("us-east-1", "net"): "Z26RNL4JYFTOTI",
}


def _register_if_absent(type_: str, maker: OutputMaker) -> None:
    if type_ not in RESOURCE_OUTPUTS:
        outputs(type_)(maker)


def _lb_id(name: str) -> str:
    return hexid(name, 16)


def _load_balancer(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    kind = _KIND.get(str(inputs.get("loadBalancerType") or "application"), "app")
    lb_name = physical_name(name, inputs, max_length=32)
    suffix = f"{kind}/{lb_name}/{_lb_id(name)}"
    arn = cloud.arn("elasticloadbalancing", f"loadbalancer/{suffix}")
    internal = bool(inputs.get("internal"))
    if kind == "app":
        number = int(hexid(name, 8), 16) % 10**10
        dns = f"{'internal-' if internal else ''}{lb_name}-{number}.{cloud.region}.elb.amazonaws.com"
    elif kind == "net":
        dns = f"{lb_name}-{hexid(name, 16)}.elb.{cloud.region}.amazonaws.com"
    else:
        dns = ""  # a Gateway Load Balancer has no DNS name: traffic reaches it through endpoints
    return arn, {
        "arn": arn,
        "arnSuffix": suffix,
        "name": lb_name,
        "dnsName": dns,
        "zoneId": _ZONE_IDS.get((cloud.region, kind), f"Z{hexid(kind + cloud.region, 13).upper()}"),
        "vpcId": inputs.get("vpcId") or "",
    }


def _target_group(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    tg_name = physical_name(name, inputs, max_length=32)
    suffix = f"targetgroup/{tg_name}/{_lb_id(name)}"
    arn = cloud.arn("elasticloadbalancing", suffix)
    return arn, {"arn": arn, "arnSuffix": suffix, "name": tg_name}


def _listener(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    lb_arn = str(inputs.get("loadBalancerArn") or "")
    lb_suffix = lb_arn.split(":loadbalancer/", 1)[1] if ":loadbalancer/" in lb_arn else f"net/unknown/{_lb_id(name)}"
    arn = cloud.arn("elasticloadbalancing", f"listener/{lb_suffix}/{hexid(name, 16)}")
    return arn, {"arn": arn}


def _target_group_attachment(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    return f"{inputs.get('targetGroupArn', 'tg')}-{hexid(name, 20)}", {}


_register_if_absent("aws:lb/loadBalancer:LoadBalancer", _load_balancer)
_register_if_absent("aws:lb/targetGroup:TargetGroup", _target_group)
_register_if_absent("aws:lb/listener:Listener", _listener)
_register_if_absent("aws:lb/targetGroupAttachment:TargetGroupAttachment", _target_group_attachment)


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


@outputs("aws:autoscaling/group:Group")
def _auto_scaling_group(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    group = physical_name(name, inputs, max_length=255)
    group_uuid = uuid.UUID(hexid(name, 32))
    return group, {
        "arn": cloud.arn("autoscaling", f"autoScalingGroup:{group_uuid}:autoScalingGroupName/{group}"),
        "name": group,
        "availabilityZones": cloud.zones,
        "desiredCapacity": inputs.get("desiredCapacity") or inputs.get("minSize"),
    }


@outputs("aws:iam/instanceProfile:InstanceProfile")
def _instance_profile(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    profile = physical_name(name, inputs, max_length=128)
    return profile, {
        "arn": cloud.arn("iam", f"instance-profile{inputs.get('path') or '/'}{profile}", region=False),
        "name": profile,
        "uniqueId": f"AIPA{hexid(name, 17).upper()}",
    }


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
