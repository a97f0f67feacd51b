"""Application Auto Scaling (``aws:appautoscaling/...``): scalable targets and target-tracking policies."""

from __future__ import annotations

from typing import Any

from mockcloud.cloud import Cloud, hexid, physical_name, uuid_of
from mockcloud.registry import Outputs, outputs


@outputs("aws:appautoscaling/target:Target")
def _scaling_target(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    resource_id = str(inputs.get("resourceId") or name)
    arn = cloud.arn("application-autoscaling", f"scalable-target/{hexid(name, 30)}")
    return resource_id, {"arn": arn, "roleArn": cloud.arn(
        "iam",
        "role/aws-service-role/ecs.application-autoscaling.amazonaws.com/"
        "AWSServiceRoleForApplicationAutoScaling_ECSService",
        region=False,
    )}  # fmt: skip


@outputs("aws:appautoscaling/policy:Policy")
def _scaling_policy(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    policy = physical_name(name, inputs)
    resource = str(inputs.get("resourceId") or "service/unknown/unknown")
    namespace = str(inputs.get("serviceNamespace") or "ecs")
    arn = cloud.arn("autoscaling", f"scalingPolicy:{uuid_of(name)}:resource/{namespace}/{resource}:policyName/{policy}")
    alarms = [cloud.arn("cloudwatch", f"alarm:TargetTracking-{resource}-Alarm{s}-{uuid_of(name + s)}")
              for s in ("High", "Low")]  # fmt: skip
    return policy, {"arn": arn, "name": policy, "alarmArns": alarms}
