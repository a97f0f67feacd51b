"""NLB and GWLB: endpoint services, appliance Auto Scaling groups and launch templates, Elastic IP lookups.

The ``aws:lb/...`` types themselves (all three kinds: application, network, gateway) are answered
by ``elb.py``.
"""

from __future__ import annotations

import uuid
from typing import Any

from mockcloud.aws_cloud import Cloud, Outputs, hexid, invoke, outputs, physical_name


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
