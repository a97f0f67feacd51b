"""ECS (``aws:ecs/...``): clusters, capacity providers, task definitions, services."""

from __future__ import annotations

from typing import Any

from mockcloud.cloud import Cloud, physical_name
from mockcloud.registry import Outputs, outputs


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
