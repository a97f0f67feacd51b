"""ElastiCache (``aws:elasticache/...``): replication groups, Memcached clusters, parameter and subnet
groups, as AWS names them.

Endpoints follow the real shapes: ``master.<id>.<hash>.<region-code>.cache.amazonaws.com`` and
``replica.…`` for cluster mode disabled with TLS, ``clustercfg.…`` for cluster mode enabled, and
``<id>.<hash>.cfg.<region-code>.cache.amazonaws.com`` for Memcached.
"""

from __future__ import annotations

from typing import Any

from mockcloud.cloud import Cloud, hexid, physical_name
from mockcloud.registry import Outputs, outputs


def region_code(region: str) -> str:
    """``eu-west-1`` -> ``euw1``, ``us-east-1`` -> ``use1`` (the code in ElastiCache host names)."""
    area, direction, number = region.split("-")
    return f"{area}{direction[0]}{number}"


def _full_version(engine: str, version: str) -> str:
    # AWS reports the patch release it runs (engineVersionActual).
    patch = {"valkey": {"7.2": "7.2.6"}, "redis": {"6.2": "6.2.6", "7.0": "7.0.7", "7.1": "7.1.0"}}
    return patch.get(engine, {}).get(version, version if version.count(".") == 2 else f"{version}.0")


@outputs("aws:elasticache/replicationGroup:ReplicationGroup")
def _replication_group(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    rid = physical_name(name, inputs, key="replicationGroupId", max_length=40).lower()
    host = f"{rid}.{hexid(name, 6)}.{region_code(cloud.region)}.cache.amazonaws.com"
    engine = str(inputs.get("engine") or "redis")
    cluster = inputs.get("clusterMode") == "enabled" or bool(inputs.get("numNodeGroups"))
    out: Outputs = {
        "arn": cloud.arn("elasticache", f"replicationgroup:{rid}"),
        "replicationGroupId": rid,
        "engineVersionActual": _full_version(engine, str(inputs.get("engineVersion") or "7.1")),
        "clusterEnabled": cluster,
        "port": inputs.get("port") or 6379,
    }
    if cluster:
        shards = int(inputs.get("numNodeGroups") or 1)
        replicas = int(inputs.get("replicasPerNodeGroup") or 0)
        out["memberClusters"] = [f"{rid}-{s:04d}-{n:03d}" for s in range(1, shards + 1) for n in range(1, replicas + 2)]
        out["configurationEndpointAddress"] = f"clustercfg.{host}"
        out["primaryEndpointAddress"] = ""
        out["readerEndpointAddress"] = ""
    else:
        nodes = int(inputs.get("numCacheClusters") or 1)
        out["memberClusters"] = [f"{rid}-{n:03d}" for n in range(1, nodes + 1)]
        # With in-transit encryption the endpoints carry master./replica. prefixes.
        tls = bool(inputs.get("transitEncryptionEnabled"))
        out["primaryEndpointAddress"] = f"master.{host}" if tls else f"{rid}.{host}"
        out["readerEndpointAddress"] = f"replica.{host}" if tls else f"{rid}-ro.{host}"
    return rid, out


@outputs("aws:elasticache/cluster:Cluster")
def _cluster(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    cid = physical_name(name, inputs, key="clusterId", max_length=50).lower()
    suffix = f"{hexid(name, 6)}.{region_code(cloud.region)}.cache.amazonaws.com"
    port = int(inputs.get("port") or 11211)
    zones = list(inputs.get("preferredAvailabilityZones") or cloud.zones)
    nodes = int(inputs.get("numCacheNodes") or 1)
    address = f"{cid}.{hexid(name, 6)}.cfg.{region_code(cloud.region)}.cache.amazonaws.com"
    return cid, {
        "arn": cloud.arn("elasticache", f"cluster:{cid}"),
        "clusterAddress": address,
        "configurationEndpoint": f"{address}:{port}",
        "engineVersionActual": str(inputs.get("engineVersion") or "1.6.22"),
        "cacheNodes": [
            {
                "id": f"{n:04d}",
                "address": f"{cid}.{n:04d}.{suffix}",
                "port": port,
                "availabilityZone": zones[(n - 1) % len(zones)],
                "outpostArn": "",
            }
            for n in range(1, nodes + 1)
        ],
    }


@outputs("aws:elasticache/parameterGroup:ParameterGroup")
def _parameter_group(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    group = physical_name(name, inputs, max_length=255).lower()
    return group, {"name": group, "arn": cloud.arn("elasticache", f"parametergroup:{group}")}


@outputs("aws:elasticache/subnetGroup:SubnetGroup")
def _subnet_group(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    group = physical_name(name, inputs, max_length=255).lower()
    return group, {
        "name": group,
        "arn": cloud.arn("elasticache", f"subnetgroup:{group}"),
        "vpcId": f"vpc-{hexid(name + 'vpc')}",
    }


@outputs("aws:elasticache/user:User")
def _user(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    # ElastiCache stores user and user group IDs in lowercase.
    user_id = str(inputs.get("userId")).lower()
    return user_id, {"arn": cloud.arn("elasticache", f"user:{user_id}"), "userId": user_id}


@outputs("aws:elasticache/userGroup:UserGroup")
def _user_group(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    group_id = str(inputs.get("userGroupId")).lower()
    return group_id, {"arn": cloud.arn("elasticache", f"usergroup:{group_id}"), "userGroupId": group_id}
