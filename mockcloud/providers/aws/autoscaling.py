"""EC2 Auto Scaling (``aws:autoscaling/...``): groups (the GWLB's appliances run in one)."""

from __future__ import annotations

from typing import Any

from mockcloud.cloud import Cloud, physical_name, uuid_of
from mockcloud.registry import Outputs, outputs


@outputs("aws:autoscaling/group:Group")
def _auto_scaling_group(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    group = physical_name(name, inputs, max_length=255)
    return group, {
        "arn": cloud.arn("autoscaling", f"autoScalingGroup:{uuid_of(name)}:autoScalingGroupName/{group}"),
        "name": group,
        "availabilityZones": cloud.zones,
        "desiredCapacity": inputs.get("desiredCapacity") or inputs.get("minSize"),
    }
