"""ElastiCache for Memcached in the isolated subnets: one cluster of nodes spread across AZs.

Memcached is a different kind of engine from Valkey/Redis, and ElastiCache gives it none of what
makes a replication group durable: no replication (a lost node loses its share of the keys), no
persistence or snapshots, no AUTH (the security group is the only access control). Clients shard
the keyspace over the nodes themselves, finding them through the configuration endpoint (auto
discovery). It is cheap, multi-threaded and simple; see docs/caching.md for when that fits.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

import pulumi
import pulumi_aws as aws

from components.arns import check_sns_topic_arn
from components.elasticache_parts import (
    check_identifier,
    check_node_type,
    check_placement,
    create_alarm,
    create_placement,
)
from components.errors import InputError, in_range, require
from components.time_windows import parse_weekly

PORT: Final = 11211
MAX_NODES: Final = 40
"""Nodes per Memcached cluster (the default quota per cluster)."""
TLS_SINCE: Final = (1, 6, 12)
"""In-transit encryption for Memcached exists from 1.6.12 on."""
_VERSION: Final = re.compile(r"^1\.6\.\d+$")
SUPPORTED_VERSIONS: Final = "1.6.x with the patch level, e.g. 1.6.22 (1.6.12 or later for in-transit encryption)"
PARAMETER_GROUP_FAMILY: Final = "memcached1.6"


def supports_tls(version: str) -> bool:
    """Whether a Memcached version can encrypt in transit (1.6.12 and later)."""
    return tuple(int(p) for p in version.split(".")) >= TLS_SINCE


@dataclass(frozen=True, kw_only=True)
class MemcachedAlarmThresholds:
    """Where the CloudWatch alarms trip (each must hold for three 5-minute periods)."""

    cpu_percent: float = 80.0
    """CPUUtilization of a node (Memcached is multi-threaded: the whole host)."""
    evictions_per_period: float = 1000.0
    """Items evicted per 5 minutes on a node: a flood means the cluster is too small."""


@dataclass(frozen=True, kw_only=True)
class MemcachedSpec:
    """What the cluster is: version, node type and count, maintenance window. Plain values, validated."""

    identifier: str
    """Cluster ID (1-40 lowercase letters, digits, hyphens; starts with a letter)."""
    engine_version: str
    """major.minor.patch, e.g. 1.6.22."""
    node_type: str
    """Node instance type, ``cache.*``."""
    nodes: int
    """Nodes, 1-40; two or more are spread across AZs (cross-az)."""
    maintenance_window: str
    """Weekly maintenance window (UTC, at least 60 minutes)."""
    alarm_topic_arn: str | None
    """SNS topic for alarm state changes and ElastiCache events (alarms are created either way)."""
    protect: bool
    """Pulumi ``protect`` on the cluster: ElastiCache has no deletion protection of its own."""
    apply_immediately: bool
    """Apply modifications now instead of in the maintenance window."""
    alarm_thresholds: MemcachedAlarmThresholds = field(default_factory=MemcachedAlarmThresholds)

    def __post_init__(self) -> None:
        require(
            _VERSION.match(self.engine_version) is not None,
            "engine_version",
            self.engine_version,
            f"for memcached: {SUPPORTED_VERSIONS}",
        )
        check_identifier("identifier", self.identifier)
        check_node_type("node_type", self.node_type)
        in_range("nodes", self.nodes, 1, MAX_NODES)
        try:
            parse_weekly(self.maintenance_window, minimum_minutes=60)
        except ValueError as error:
            raise InputError("maintenance_window", self.maintenance_window, str(error)) from None
        check_sns_topic_arn("alarm_topic_arn", self.alarm_topic_arn)

    @property
    def tls(self) -> bool:
        return supports_tls(self.engine_version)


@dataclass(frozen=True, kw_only=True)
class MemcachedArgs:
    """Where the cluster lives, and what it is (``spec``)."""

    vpc_id: pulumi.Input[str]
    subnet_ids: Sequence[pulumi.Input[str]]
    """Isolated (data) subnets, one per AZ."""
    availability_zones: Sequence[str]
    """AZ names of ``subnet_ids``, in the same order; nodes are spread over them round-robin."""
    spec: MemcachedSpec

    def __post_init__(self) -> None:
        check_placement(self.subnet_ids, self.availability_zones)


class MemcachedCluster(pulumi.ComponentResource):
    """An ElastiCache Memcached cluster with its subnet group, parameter group, security group (no
    rules: clients add theirs) and per-node alarms."""

    security_group_id: pulumi.Output[str]
    """Security group of the nodes. It has no rules; each client adds ingress from its own group."""
    port: int
    """Port the nodes listen on (11211)."""
    configuration_endpoint: pulumi.Output[str]
    """Auto-discovery host: ``config get cluster`` on it lists the nodes (clients shard over them)."""
    tls_enabled: bool
    """Whether clients must connect with TLS (1.6.12 and later)."""
    engine: str
    """memcached."""
    engine_version: str
    parameter_group_name: pulumi.Output[str]
    parameter_group_family: str
    node_ids: list[str]
    """CloudWatch CacheNodeId values of the nodes (0001, 0002, ...)."""
    arn: pulumi.Output[str]

    def __init__(self, name: str, args: MemcachedArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        # A Cache (engine memcached) before Memcached got its own component: same children, same names.
        alias = pulumi.ResourceOptions(aliases=[pulumi.Alias(type_="platform:cache:Cache")])
        super().__init__("platform:cache:MemcachedCluster", name, None, pulumi.ResourceOptions.merge(alias, opts))
        spec = args.spec
        child = pulumi.ResourceOptions(parent=self)
        self.engine = "memcached"
        self.engine_version = spec.engine_version
        self.port = PORT
        self.tls_enabled = spec.tls
        self.parameter_group_family = PARAMETER_GROUP_FAMILY
        self.node_ids = [f"{n:04d}" for n in range(1, spec.nodes + 1)]

        placement = create_placement(
            name,
            vpc_id=args.vpc_id,
            subnet_ids=args.subnet_ids,
            description=f"ElastiCache memcached {spec.identifier}",
            identifier=spec.identifier,
            parent=self,
        )
        self.security_group_id = placement.security_group.id
        # Memcached evicts LRU and has no persistence; its defaults need no change here.
        parameter_group = aws.elasticache.ParameterGroup(
            f"{name}-params",
            family=PARAMETER_GROUP_FAMILY,
            description=f"memcached {spec.engine_version} settings of {spec.identifier}",
            parameters=[],
            opts=child,
        )
        self.parameter_group_name = parameter_group.name

        azs = list(args.availability_zones)
        cluster = aws.elasticache.Cluster(
            f"{name}-cluster",
            cluster_id=spec.identifier,
            engine="memcached",
            engine_version=spec.engine_version,
            node_type=spec.node_type,
            num_cache_nodes=spec.nodes,
            az_mode="cross-az" if spec.nodes > 1 else "single-az",
            preferred_availability_zones=[azs[i % len(azs)] for i in range(spec.nodes)],
            port=PORT,
            parameter_group_name=parameter_group.name,
            subnet_group_name=placement.subnet_group.name,
            security_group_ids=[placement.security_group.id],
            transit_encryption_enabled=spec.tls,
            maintenance_window=spec.maintenance_window,
            apply_immediately=spec.apply_immediately,
            notification_topic_arn=spec.alarm_topic_arn,
            opts=pulumi.ResourceOptions(parent=self, protect=spec.protect, delete_before_replace=True),
        )
        self.arn = cluster.arn
        self.configuration_endpoint = cluster.cluster_address

        limits = spec.alarm_thresholds
        for node in self.node_ids:
            dims = {"CacheClusterId": spec.identifier, "CacheNodeId": node}
            create_alarm(
                f"{name}-cpu-{node}",
                metric="CPUUtilization",
                threshold=limits.cpu_percent,
                dimensions=dims,
                description=f"Memcached {spec.identifier} node {node}: CPU above {limits.cpu_percent}%",
                alarm_topic_arn=spec.alarm_topic_arn,
                parent=self,
            )
            create_alarm(
                f"{name}-evictions-{node}",
                metric="Evictions",
                threshold=limits.evictions_per_period,
                dimensions=dims,
                statistic="Sum",
                description=f"Memcached {spec.identifier} node {node}: evicting fast; too small",
                alarm_topic_arn=spec.alarm_topic_arn,
                parent=self,
            )

        self.register_outputs(
            {
                "securityGroupId": self.security_group_id,
                "port": self.port,
                "configurationEndpoint": self.configuration_endpoint,
                "tlsEnabled": self.tls_enabled,
                "engine": self.engine,
                "parameterGroupName": self.parameter_group_name,
            }
        )
