"""Account-level lookups (``aws:index/...``): availability zones, caller identity, region, partition."""

from __future__ import annotations

from typing import Any

from mockcloud.cloud import PARTITION, Cloud
from mockcloud.registry import invoke


@invoke("aws:index/getAvailabilityZones:getAvailabilityZones")
def _azs(cloud: Cloud, args: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": cloud.region,
        "names": cloud.zones,
        "zoneIds": [f"{cloud.region[:3]}{cloud.region[-1]}-az{i + 1}" for i in range(len(cloud.zones))],
        "groupNames": [cloud.region] * len(cloud.zones),
    }


@invoke("aws:index/getCallerIdentity:getCallerIdentity")
def _caller(cloud: Cloud, args: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": cloud.account_id,
        "accountId": cloud.account_id,
        "arn": f"arn:{PARTITION}:sts::{cloud.account_id}:assumed-role/platform-deployer/session",
        "userId": "AROAEXAMPLEDEPLOYER:session",
    }


@invoke("aws:index/getRegion:getRegion")
def _region(cloud: Cloud, args: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": cloud.region,
        "region": cloud.region,
        "name": cloud.region,
        "description": f"Mock region {cloud.region}",
        "endpoint": f"ec2.{cloud.region}.amazonaws.com",
    }


@invoke("aws:index/getPartition:getPartition")
def _partition(cloud: Cloud, args: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": PARTITION,
        "partition": PARTITION,
        "dnsSuffix": "amazonaws.com",
        "reverseDnsPrefix": "com.amazonaws",
    }
