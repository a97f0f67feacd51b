"""ECS (clusters, capacity providers, task definitions, services), Application Auto Scaling and Cloud Map."""

from __future__ import annotations

import uuid
from typing import Any

from mockcloud.aws_cloud import Cloud, Outputs, hexid, invoke, outputs, physical_name


def _uuid(name: str) -> str:
    return str(uuid.UUID(hexid(name, 32)))


# --------------------------------------------------------------------------------------------------
# ECS
# --------------------------------------------------------------------------------------------------
@outputs("aws:ecs/cluster:Cluster")
def _cluster(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    cluster = physical_name(name, inputs, max_length=255)
    arn = cloud.arn("ecs", f"cluster/{cluster}")
    return arn, {"arn": arn, "name": cluster}


@outputs("aws:ecs/clusterCapacityProviders:ClusterCapacityProviders")
def _capacity_providers(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    return str(inputs.get("clusterName") or name), {}


@outputs("aws:ecs/taskDefinition:TaskDefinition")
def _task_definition(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    family = str(inputs.get("family") or name)
    base = cloud.arn("ecs", f"task-definition/{family}")
    return family, {"arn": f"{base}:1", "arnWithoutRevision": base, "revision": 1}


@outputs("aws:ecs/service:Service")
def _service(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    service = physical_name(name, inputs, max_length=255)
    cluster = str(inputs.get("cluster") or "default").rsplit("/", 1)[-1]
    arn = cloud.arn("ecs", f"service/{cluster}/{service}")
    return arn, {"arn": arn, "name": service}


# --------------------------------------------------------------------------------------------------
# Application Auto Scaling
# --------------------------------------------------------------------------------------------------
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
    arn = cloud.arn("autoscaling", f"scalingPolicy:{_uuid(name)}:resource/{namespace}/{resource}:policyName/{policy}")
    alarms = [cloud.arn("cloudwatch", f"alarm:TargetTracking-{resource}-Alarm{s}-{_uuid(name + s)}")
              for s in ("High", "Low")]  # fmt: skip
    return policy, {"arn": arn, "name": policy, "alarmArns": alarms}


# --------------------------------------------------------------------------------------------------
# Cloud Map
# --------------------------------------------------------------------------------------------------
@outputs("aws:servicediscovery/privateDnsNamespace:PrivateDnsNamespace")
def _namespace(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    ns_id = f"ns-{hexid(name, 16)}"
    return ns_id, {
        "arn": cloud.arn("servicediscovery", f"namespace/{ns_id}"),
        "hostedZone": f"Z{hexid(name + 'zone', 20).upper()}",
        "name": inputs.get("name") or name,
    }


@outputs("aws:servicediscovery/service:Service")
def _discovery_service(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    srv_id = f"srv-{hexid(name, 16)}"
    return srv_id, {"arn": cloud.arn("servicediscovery", f"service/{srv_id}"), "name": inputs.get("name") or name}


# --------------------------------------------------------------------------------------------------
# Invokes
# --------------------------------------------------------------------------------------------------
@invoke("aws:ec2/getPrefixList:getPrefixList")
def _prefix_list(cloud: Cloud, args: dict[str, Any]) -> dict[str, Any]:
    """The AWS-managed prefix list of a gateway endpoint service (``com.amazonaws.<region>.s3``)."""
    list_name = str(args.get("name") or f"com.amazonaws.{cloud.region}.s3")
    pl_id = str(args.get("prefixListId") or f"pl-{hexid(list_name, 8)}")
    return {"id": pl_id, "name": list_name, "cidrBlocks": ["52.218.0.0/17", "3.5.64.0/21"]}
