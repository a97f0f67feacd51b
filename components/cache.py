"""ElastiCache for Valkey or Redis OSS in the isolated subnets: one replication group.

Cluster mode disabled (one primary plus replicas) or enabled (shards, each a primary plus
replicas), with TLS, encryption at rest, an AUTH token kept in Secrets Manager, Multi-AZ automatic
failover whenever replicas exist, RDB snapshots, slow and engine logs in CloudWatch, and alarms.
Memcached is a different kind of engine (no replication, persistence or AUTH) and has its own
component, ``components/memcached.py``, as terraform-aws-elasticache splits cluster from
replication group.

The security group starts with no rules at all: each client (a Fargate service) adds the ingress rule
on this group from its own task security group, so the graph of who talks to the cache is explicit.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final, Literal, get_args

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from components.arns import check_kms_key_arn, check_sns_topic_arn
from components.elasticache_parts import check_placement, create_alarm, create_placement
from components.errors import InputError, in_range, one_of, require
from components.log_groups import check_retention
from components.time_windows import check_windows

CacheEngine = Literal["valkey", "redis"]
"""Engines of a replication group: Valkey (Redis OSS 7.2 wire-compatible, cheaper nodes) or Redis OSS."""
EvictionPolicy = Literal[
    "allkeys-lfu",
    "allkeys-lru",
    "allkeys-random",
    "volatile-lfu",
    "volatile-lru",
    "volatile-random",
    "volatile-ttl",
    "noeviction",
]
"""Redis/Valkey ``maxmemory-policy`` values. ElastiCache's default is ``volatile-lru``, which evicts
only keys with a TTL: once memory is full of keys without one, every write fails with OOM. A cache
wants ``allkeys-lfu`` (keep what is read often) or ``allkeys-lru`` (keep what was read recently)."""

ENGINES: Final = get_args(CacheEngine)
EVICTION_POLICIES: Final = get_args(EvictionPolicy)
PORT: Final = 6379

MAX_REPLICAS: Final = 5
"""Replicas per shard (node group) that ElastiCache allows."""
MAX_SHARDS: Final = 500
"""Shards per cluster-mode-enabled replication group (the ceiling with a quota increase; 90 by default)."""
MAX_SNAPSHOT_RETENTION_DAYS: Final = 35

AUTH_TOKEN_LENGTH: Final = 64
"""AUTH tokens may be 16-128 printable characters; 64 letters and digits is ~380 bits."""

AOF_UNSUPPORTED: Final = (
    "ElastiCache does not support AOF (append-only file) persistence on current engines "
    "(Redis OSS 2.8.22 and later, and Valkey): there is no appendonly parameter to set. "
    "For durability use Multi-AZ replicas with automatic failover (at least one replica) "
    "and RDB snapshots (snapshot retention 1-35 days, plus a final snapshot on delete)"
)

IDENTIFIER: Final = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
"""ElastiCache cluster / replication group IDs: lowercase letters, digits, single hyphens."""
MAX_IDENTIFIER_LENGTH: Final = 40
_VERSION: Final = re.compile(r"^\d+\.\d+$")
_REDIS_FAMILIES: Final[dict[tuple[int, ...], str]] = {(6, 2): "redis6.x", (7, 0): "redis7", (7, 1): "redis7"}

SUPPORTED_VERSIONS: Final = {
    "valkey": "7.2, 8.0, 8.1, 8.2 (major.minor; AWS applies the patch releases)",
    "redis": (
        "6.2, 7.0, 7.1 (6.2 is the first with engine-log delivery; Redis OSS stops at 7.1 on "
        "ElastiCache, newer releases are Valkey)"
    ),
}


def parameter_group_family(engine: str, version: str) -> str:
    """The cache parameter group family for an engine version (CreateCacheParameterGroup's values).

    ``valkey 8.x`` -> ``valkey8``, ``valkey 7.2`` -> ``valkey7``, ``redis 7.x`` -> ``redis7``,
    ``redis 6.2`` -> ``redis6.x``. Raises InputError on ``engine_version`` naming the supported ones.
    """
    one_of("engine", engine, ENGINES)
    parts = tuple(int(p) for p in version.split(".")) if _VERSION.match(version) else ()
    if engine == "valkey" and (parts == (7, 2) or (len(parts) == 2 and parts[0] == 8)):
        return f"valkey{parts[0]}"
    if engine == "redis" and parts in _REDIS_FAMILIES:
        return _REDIS_FAMILIES[parts]
    raise InputError("engine_version", version, f"for {engine}: {SUPPORTED_VERSIONS[engine]}", refers=("engine",))


def check_identifier(setting: str, identifier: str) -> None:
    """An explicit cluster / replication group ID, as ElastiCache accepts it."""
    require(
        1 <= len(identifier) <= MAX_IDENTIFIER_LENGTH and IDENTIFIER.match(identifier) is not None,
        setting,
        identifier,
        f"1-{MAX_IDENTIFIER_LENGTH} lowercase letters, digits and single hyphens, starting with a letter",
    )


def member_cluster_ids(identifier: str, *, cluster_mode: bool, shards: int, replicas: int) -> list[str]:
    """The node (cache cluster) IDs ElastiCache gives a replication group's members.

    Cluster mode disabled: ``<id>-001``, ``<id>-002``...; enabled: ``<id>-0001-001`` (shard, node).
    Known from plain values, so per-node alarms exist at preview and their count never hangs off an
    Output.
    """
    if not cluster_mode:
        return [f"{identifier}-{n:03d}" for n in range(1, replicas + 2)]
    return [f"{identifier}-{s:04d}-{n:03d}" for s in range(1, shards + 1) for n in range(1, replicas + 2)]


@dataclass(frozen=True, kw_only=True)
class CacheAlarmThresholds:
    """Where the CloudWatch alarms trip (each must hold for three 5-minute periods)."""

    cpu_percent: float = 80.0
    """EngineCPUUtilization: the one engine thread."""
    memory_percent: float = 80.0
    """DatabaseMemoryUsagePercentage: share of maxmemory (after reserved memory) in use."""
    evictions_per_period: float = 1000.0
    """Keys evicted per 5 minutes: a few are normal for a full LFU/LRU cache, a flood means it is too small."""
    replication_lag_seconds: float = 5.0
    """How far a replica may trail its primary."""


@dataclass(frozen=True, kw_only=True)
class CacheSpec:
    """What the replication group is: engine, shape, eviction, persistence, windows, keys, logs.

    Plain values only, validated here (the stack settings build this straight from config)."""

    identifier: str
    """Replication group ID (1-40 lowercase letters, digits, hyphens; starts with a letter).
    Explicit so member node IDs, alarm dimensions and log group names are known at preview."""
    engine: CacheEngine
    """``valkey`` (wire-compatible with Redis OSS 7.2, cheaper nodes) or ``redis``."""
    engine_version: str
    """major.minor, e.g. 8.1 (Valkey) or 7.1 (Redis OSS); decides the parameter group family."""
    node_type: str
    """Node instance type, ``cache.*``."""
    cluster_mode: bool
    """Shard the keyspace over ``shards`` node groups (clients must speak the cluster protocol)."""
    shards: int
    """Node groups; more than one needs ``cluster_mode``."""
    replicas: int
    """Replicas per shard, 0-5. Any replica turns on automatic failover and Multi-AZ."""
    eviction_policy: EvictionPolicy
    """``maxmemory-policy``."""
    reserved_memory_percent: int
    """Memory kept back from the dataset for replication buffers, snapshots and the OS."""
    snapshot_retention_days: int
    """Days of daily RDB snapshots kept, 0 (off) to 35."""
    snapshot_window: str
    """Daily snapshot window (UTC, at least 60 minutes)."""
    maintenance_window: str
    """Weekly maintenance window (UTC, at least 60 minutes, not overlapping the snapshot window)."""
    append_only: bool
    """AOF persistence. Not available on ElastiCache: ``True`` fails with the reason and the alternative."""
    kms_key_arn: str | None
    """Customer-managed KMS key for encryption at rest and for the AUTH token secret (AWS-managed if None)."""
    log_retention_days: int
    """Retention of the slow-log and engine-log groups."""
    alarm_topic_arn: str | None
    """SNS topic for alarm state changes and ElastiCache events (alarms are created either way)."""
    final_snapshot: bool
    """Take a snapshot named ``<identifier>-final`` when the group is deleted."""
    protect: bool
    """Pulumi ``protect`` on the replication group: ElastiCache has no deletion protection of its own."""
    apply_immediately: bool
    """Apply modifications now instead of in the maintenance window (fine in dev, not in prod)."""
    alarm_thresholds: CacheAlarmThresholds = field(default_factory=CacheAlarmThresholds)
    """Where the alarms trip."""

    def __post_init__(self) -> None:
        require(not self.append_only, "append_only", self.append_only, f"false. {AOF_UNSUPPORTED}")
        parameter_group_family(self.engine, self.engine_version)
        check_identifier("identifier", self.identifier)
        require(self.node_type.startswith("cache."), "node_type", self.node_type, "an ElastiCache node type (cache.*)")
        one_of("eviction_policy", self.eviction_policy, EVICTION_POLICIES)
        in_range("reserved_memory_percent", self.reserved_memory_percent, 0, 100)
        in_range("replicas", self.replicas, 0, MAX_REPLICAS)
        in_range("shards", self.shards, 1, MAX_SHARDS)
        require(
            self.shards == 1 or self.cluster_mode,
            "shards",
            self.shards,
            "1 unless cluster_mode is true (with cluster mode disabled a replication group has one shard)",
            refers=("cluster_mode",),
        )
        in_range("snapshot_retention_days", self.snapshot_retention_days, 0, MAX_SNAPSHOT_RETENTION_DAYS)
        check_windows(
            maintenance_setting="maintenance_window",
            maintenance=self.maintenance_window,
            backup_setting="snapshot_window",
            backup=self.snapshot_window,
            minimum_minutes=60,
            service="ElastiCache",
        )
        check_kms_key_arn("kms_key_arn", self.kms_key_arn)
        check_retention("log_retention_days", self.log_retention_days)
        check_sns_topic_arn("alarm_topic_arn", self.alarm_topic_arn)

    # -- derived plain values (structure never hangs off an Output) ---------------------------------
    @property
    def automatic_failover(self) -> bool:
        """A replica to promote exists, or cluster mode (where AWS requires failover on)."""
        return self.replicas > 0 or self.cluster_mode

    @property
    def multi_az(self) -> bool:
        """Replicas placed in other AZs than their primary; needs at least one replica."""
        return self.replicas > 0

    @property
    def has_cluster_mode_setting(self) -> bool:
        """Whether the engine version takes the ClusterMode setting (Valkey 7.2+, Redis OSS 7.0+)."""
        return self.engine == "valkey" or not self.engine_version.startswith("6.")

    @property
    def parameter_group_family(self) -> str:
        return parameter_group_family(self.engine, self.engine_version)


@dataclass(frozen=True, kw_only=True)
class CacheArgs:
    """Where the replication group lives, and what it is (``spec``)."""

    vpc_id: pulumi.Input[str]
    """VPC of the security group."""
    subnet_ids: Sequence[pulumi.Input[str]]
    """Isolated (data) subnets, one per AZ, for the subnet group."""
    availability_zones: Sequence[str]
    """AZ names of ``subnet_ids``, in the same order; nodes are spread over them round-robin."""
    spec: CacheSpec

    def __post_init__(self) -> None:
        check_placement(self.subnet_ids, self.availability_zones)


class Cache(pulumi.ComponentResource):
    """An ElastiCache replication group (Valkey or Redis OSS) with its subnet group, parameter group,
    security group (no rules: clients add theirs), AUTH secret, log groups and alarms."""

    security_group_id: pulumi.Output[str]
    """Security group of the nodes. It has no rules; each client adds ingress from its own group."""
    port: int
    """Port the nodes listen on (6379)."""
    primary_endpoint: pulumi.Output[str]
    """Host to write to: the primary endpoint, or the configuration endpoint in cluster mode."""
    reader_endpoint: pulumi.Output[str]
    """Host for reads spread over replicas; the same as ``primary_endpoint`` where there is none."""
    configuration_endpoint: pulumi.Output[str] | None
    """Cluster discovery host (cluster mode); None for cluster mode disabled."""
    tls_enabled: bool
    """Whether clients must connect with TLS (always)."""
    auth_secret_arn: pulumi.Output[str]
    """Secrets Manager secret whose SecretString is the AUTH token."""
    auth_secret_kms_key_arn: str | None
    """Customer-managed key encrypting that secret; readers need kms:Decrypt on it (None: AWS-managed)."""
    cluster_mode: bool
    """Whether clients must use the cluster protocol."""
    engine: str
    """valkey or redis."""
    engine_version: str
    """Requested engine version."""
    parameter_group_name: pulumi.Output[str]
    """Name of the custom parameter group."""
    parameter_group_family: str
    """Its family, derived from engine and version (e.g. valkey8)."""
    automatic_failover: bool
    """Whether a replica is promoted automatically when a primary fails."""
    multi_az: bool
    """Whether replicas sit in other AZs than their primaries."""
    node_ids: list[str]
    """Cache cluster (node) IDs, as used in CloudWatch dimensions."""
    arn: pulumi.Output[str]
    """ARN of the replication group."""

    def __init__(self, name: str, args: CacheArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("platform:cache:Cache", name, None, opts)
        self._name = name
        self._args = args
        spec = args.spec
        child = pulumi.ResourceOptions(parent=self)

        self.engine = spec.engine
        self.engine_version = spec.engine_version
        self.port = PORT
        self.cluster_mode = spec.cluster_mode
        self.tls_enabled = True
        self.automatic_failover = spec.automatic_failover
        self.multi_az = spec.multi_az
        self.parameter_group_family = spec.parameter_group_family

        placement = create_placement(
            name,
            vpc_id=args.vpc_id,
            subnet_ids=args.subnet_ids,
            description=f"ElastiCache {spec.engine} {spec.identifier}",
            identifier=spec.identifier,
            parent=self,
        )
        self.security_group_id = placement.security_group.id
        parameter_group = aws.elasticache.ParameterGroup(
            f"{name}-params",
            family=self.parameter_group_family,
            description=f"{spec.engine} {spec.engine_version} settings of {spec.identifier}",
            parameters=[
                aws.elasticache.ParameterGroupParameterArgs(name="maxmemory-policy", value=spec.eviction_policy),
                aws.elasticache.ParameterGroupParameterArgs(
                    name="reserved-memory-percent", value=str(spec.reserved_memory_percent)
                ),
                # Must match the replication group's mode, or ElastiCache refuses the group.
                aws.elasticache.ParameterGroupParameterArgs(
                    name="cluster-enabled", value="yes" if spec.cluster_mode else "no"
                ),
            ],
            opts=child,
        )
        self.parameter_group_name = parameter_group.name

        self._create_replication_group(placement.security_group, placement.subnet_group, parameter_group)
        self._create_alarms()

        self.register_outputs(
            {
                "securityGroupId": self.security_group_id,
                "port": self.port,
                "primaryEndpoint": self.primary_endpoint,
                "readerEndpoint": self.reader_endpoint,
                "configurationEndpoint": self.configuration_endpoint,
                "tlsEnabled": self.tls_enabled,
                "authSecretArn": self.auth_secret_arn,
                "clusterMode": self.cluster_mode,
                "engine": self.engine,
                "parameterGroupName": self.parameter_group_name,
            }
        )

    def _create_replication_group(
        self,
        sg: aws.ec2.SecurityGroup,
        subnet_group: aws.elasticache.SubnetGroup,
        parameter_group: aws.elasticache.ParameterGroup,
    ) -> None:
        name, args, spec = self._name, self._args, self._args.spec
        child = pulumi.ResourceOptions(parent=self)

        # Letters and digits only: the token also travels inside redis:// URLs and shell commands,
        # where ElastiCache's allowed specials (! & # $ ^ < >) need escaping.
        token = random.RandomPassword(
            f"{name}-auth-token",
            length=AUTH_TOKEN_LENGTH,
            special=False,
            min_upper=1,
            min_lower=1,
            min_numeric=1,
            opts=child,
        )
        secret = aws.secretsmanager.Secret(
            f"{name}-auth-secret",
            name=f"{spec.identifier}/cache-auth-token",
            description=f"AUTH token of ElastiCache {spec.engine} {spec.identifier} (SecretString is the token)",
            kms_key_id=spec.kms_key_arn,
            # A fixed name cannot be reused while a deleted secret waits out its recovery window.
            recovery_window_in_days=30 if spec.protect else 0,
            opts=child,
        )
        aws.secretsmanager.SecretVersion(
            f"{name}-auth-secret-value", secret_id=secret.id, secret_string=token.result, opts=child
        )
        self.auth_secret_arn = secret.arn
        self.auth_secret_kms_key_arn = spec.kms_key_arn

        log_groups = {
            log_type: aws.cloudwatch.LogGroup(
                f"{name}-{log_type}",
                name=f"/aws/elasticache/{spec.identifier}/{log_type}",
                retention_in_days=spec.log_retention_days,
                opts=child,
            )
            for log_type in ("slow-log", "engine-log")
        }

        nodes = spec.replicas + 1
        azs = list(args.availability_zones)
        mode = "cluster" if spec.cluster_mode else "primary/replica"
        group = aws.elasticache.ReplicationGroup(
            f"{name}-group",
            replication_group_id=spec.identifier,
            description=f"{spec.engine} {spec.engine_version} cache ({mode})",
            engine=spec.engine,
            engine_version=spec.engine_version,
            node_type=spec.node_type,
            port=self.port,
            # The ClusterMode setting exists from Valkey 7.2 / Redis OSS 7.0 on; for Redis 6.2 the
            # parameter group's cluster-enabled and the shard count decide the mode on their own.
            cluster_mode=("enabled" if spec.cluster_mode else "disabled") if spec.has_cluster_mode_setting else None,
            # Cluster mode: shards x (primary + replicas). Disabled: one primary + replicas, the
            # primary in the first AZ and replicas round-robin over the others.
            num_node_groups=spec.shards if spec.cluster_mode else None,
            replicas_per_node_group=spec.replicas if spec.cluster_mode else None,
            num_cache_clusters=None if spec.cluster_mode else nodes,
            preferred_cache_cluster_azs=None if spec.cluster_mode else [azs[i % len(azs)] for i in range(nodes)],
            parameter_group_name=parameter_group.name,
            subnet_group_name=subnet_group.name,
            security_group_ids=[sg.id],
            automatic_failover_enabled=spec.automatic_failover,
            multi_az_enabled=spec.multi_az,
            transit_encryption_enabled=True,
            at_rest_encryption_enabled=True,
            kms_key_id=spec.kms_key_arn,
            auth_token=token.result,
            # ROTATE keeps the old token valid next to a new one until tasks have restarted with it.
            auth_token_update_strategy="ROTATE",  # noqa: S106 (a strategy name, not a secret)
            snapshot_retention_limit=spec.snapshot_retention_days,
            snapshot_window=spec.snapshot_window,
            final_snapshot_identifier=f"{spec.identifier}-final" if spec.final_snapshot else None,
            maintenance_window=spec.maintenance_window,
            auto_minor_version_upgrade=True,
            apply_immediately=spec.apply_immediately,
            notification_topic_arn=spec.alarm_topic_arn,
            log_delivery_configurations=[
                aws.elasticache.ReplicationGroupLogDeliveryConfigurationArgs(
                    destination=log_group.name,
                    destination_type="cloudwatch-logs",
                    log_format="json",
                    log_type=log_type,
                )
                for log_type, log_group in log_groups.items()
            ],
            opts=pulumi.ResourceOptions(
                parent=self,
                protect=spec.protect,
                # The ID is explicit (alarms and logs are keyed on it), so a replacement must delete
                # the old group first; protect keeps that from happening by accident in prod.
                delete_before_replace=True,
                depends_on=list(log_groups.values()),
            ),
        )
        self.arn = group.arn
        self.node_ids = member_cluster_ids(
            spec.identifier, cluster_mode=spec.cluster_mode, shards=spec.shards, replicas=spec.replicas
        )
        if spec.cluster_mode:
            self.configuration_endpoint = group.configuration_endpoint_address
            self.primary_endpoint = group.configuration_endpoint_address
            self.reader_endpoint = group.configuration_endpoint_address
        else:
            self.configuration_endpoint = None
            self.primary_endpoint = group.primary_endpoint_address
            self.reader_endpoint = group.reader_endpoint_address

    def _create_alarms(self) -> None:
        name, spec = self._name, self._args.spec
        limits = spec.alarm_thresholds

        def alarm(
            role: str, metric: str, threshold: float, node: str, *, description: str, statistic: str = "Average"
        ) -> None:
            create_alarm(
                f"{name}-{role}",
                metric=metric,
                threshold=threshold,
                dimensions={"CacheClusterId": node},
                statistic=statistic,
                description=description,
                alarm_topic_arn=spec.alarm_topic_arn,
                parent=self,
            )

        for node in self.node_ids:
            suffix = node.removeprefix(f"{spec.identifier}-")
            alarm(
                f"engine-cpu-{suffix}",
                "EngineCPUUtilization",
                limits.cpu_percent,
                node,
                description=f"{node}: engine thread above {limits.cpu_percent}% CPU",
            )
            alarm(
                f"memory-{suffix}",
                "DatabaseMemoryUsagePercentage",
                limits.memory_percent,
                node,
                description=f"{node}: above {limits.memory_percent}% of maxmemory",
            )
            alarm(
                f"evictions-{suffix}",
                "Evictions",
                limits.evictions_per_period,
                node,
                statistic="Sum",
                description=f"{node}: evicting fast ({spec.eviction_policy}); the cache is too small",
            )
            if spec.replicas > 0:
                # Only replicas publish ReplicationLag; on the current primary it is simply missing.
                alarm(
                    f"replication-lag-{suffix}",
                    "ReplicationLag",
                    limits.replication_lag_seconds,
                    node,
                    statistic="Maximum",
                    description=f"{node}: replica more than {limits.replication_lag_seconds}s behind",
                )
