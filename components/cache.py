"""ElastiCache in the isolated subnets: a Valkey/Redis OSS replication group, or a Memcached cluster.

Valkey and Redis OSS get a replication group -- cluster mode disabled (one primary plus replicas) or
enabled (shards, each a primary plus replicas) -- with TLS, encryption at rest, an AUTH token kept in
Secrets Manager, Multi-AZ automatic failover whenever replicas exist, RDB snapshots, slow and engine
logs in CloudWatch, and alarms. Memcached gets a cluster of nodes spread across AZs (no replication,
no persistence, no AUTH: Memcached has none of these on ElastiCache).

The security group starts with no rules at all: each client (a Fargate service) adds the ingress rule
on this group from its own task security group, so the graph of who talks to the cache is explicit.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal, get_args

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from components.time_windows import overlaps, parse_daily, parse_weekly

CacheEngine = Literal["valkey", "redis", "memcached"]
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
DEFAULT_PORTS: Final = {"valkey": 6379, "redis": 6379, "memcached": 11211}

MAX_REPLICAS: Final = 5
"""Replicas per shard (node group) that ElastiCache allows."""
MAX_SHARDS: Final = 500
"""Shards per cluster-mode-enabled replication group (the ceiling with a quota increase; 90 by default)."""
MAX_MEMCACHED_NODES: Final = 40
MAX_SNAPSHOT_RETENTION_DAYS: Final = 35
MEMCACHED_TLS_SINCE: Final = (1, 6, 12)
"""In-transit encryption for Memcached exists from 1.6.12 on."""

AUTH_TOKEN_LENGTH: Final = 64
"""AUTH tokens may be 16-128 printable characters; 64 letters and digits is ~380 bits."""

AOF_UNSUPPORTED: Final = (
    "ElastiCache does not support AOF (append-only file) persistence on current engines "
    "(Redis OSS 2.8.22 and later, and Valkey): there is no appendonly parameter to set. "
    "For durability use Multi-AZ replicas with automatic failover (at least one replica) "
    "and RDB snapshots (snapshot retention 1-35 days, plus a final snapshot on delete)"
)

_IDENTIFIER: Final = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
_VERSION: Final = re.compile(r"^\d+\.\d+(\.\d+)?$")
_REDIS_FAMILIES: Final[dict[tuple[int, ...], str]] = {(6, 2): "redis6.x", (7, 0): "redis7", (7, 1): "redis7"}


class UnsupportedVersionError(ValueError):
    """An engine version this component cannot derive a parameter group family for."""

    def __init__(self, engine: str, version: str, allowed: str) -> None:
        self.allowed = allowed
        super().__init__(f"engine_version {version!r} is not supported for {engine}; allowed: {allowed}")


SUPPORTED_VERSIONS: Final = {
    "valkey": "7.2, 8.0, 8.1, 8.2 (major.minor; AWS applies the patch releases)",
    "redis": (
        "6.2, 7.0, 7.1 (6.2 is the first with engine-log delivery; Redis OSS stops at 7.1 on "
        "ElastiCache, newer releases are Valkey)"
    ),
    "memcached": "1.6.x with the patch level, e.g. 1.6.22 (1.6.12 or later for in-transit encryption)",
}


def parameter_group_family(engine: str, version: str) -> str:
    """The cache parameter group family for an engine version (CreateCacheParameterGroup's values).

    ``valkey 8.x`` -> ``valkey8``, ``valkey 7.2`` -> ``valkey7``, ``redis 7.x`` -> ``redis7``,
    ``redis 6.2`` -> ``redis6.x``, ``memcached 1.6.x`` -> ``memcached1.6``. Raises
    UnsupportedVersionError naming the versions that are supported.
    """
    if engine not in SUPPORTED_VERSIONS:
        raise ValueError(f"engine {engine!r} is not supported; allowed: {', '.join(ENGINES)}")
    parts = tuple(int(p) for p in version.split(".")) if _VERSION.match(version) else ()
    if engine == "valkey" and len(parts) == 2 and (parts == (7, 2) or parts[0] == 8):
        return f"valkey{parts[0]}"
    if engine == "redis" and parts in _REDIS_FAMILIES:
        return _REDIS_FAMILIES[parts]
    if engine == "memcached" and len(parts) == 3 and parts[:2] == (1, 6):
        return "memcached1.6"
    raise UnsupportedVersionError(engine, version, SUPPORTED_VERSIONS[engine])


def memcached_supports_tls(version: str) -> bool:
    """Whether a Memcached version can encrypt in transit (1.6.12 and later)."""
    parts = tuple(int(p) for p in version.split("."))
    return parts >= MEMCACHED_TLS_SINCE


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
    """EngineCPUUtilization (Valkey/Redis: the one engine thread) or CPUUtilization (Memcached)."""
    memory_percent: float = 80.0
    """DatabaseMemoryUsagePercentage: share of maxmemory (after reserved memory) in use."""
    evictions_per_period: float = 1000.0
    """Keys evicted per 5 minutes: a few are normal for a full LFU/LRU cache, a flood means it is too small."""
    replication_lag_seconds: float = 5.0
    """How far a replica may trail its primary."""


@dataclass(frozen=True, kw_only=True)
class CacheArgs:
    """Settings for the platform cache."""

    vpc_id: pulumi.Input[str]
    """VPC of the security group."""
    subnet_ids: Sequence[pulumi.Input[str]]
    """Isolated (data) subnets, one per AZ, for the subnet group."""
    availability_zones: Sequence[str]
    """AZ names of ``subnet_ids``, in the same order; nodes are spread over them round-robin."""
    identifier: str
    """Replication group / cluster ID (1-40 lowercase letters, digits, hyphens; starts with a letter).
    Explicit so member node IDs, alarm dimensions and log group names are known at preview."""
    engine: CacheEngine = "valkey"
    """``valkey`` (wire-compatible with Redis OSS 7.2, cheaper nodes), ``redis`` or ``memcached``."""
    engine_version: str = "8.1"
    """major.minor for Valkey/Redis (e.g. 8.1, 7.1), major.minor.patch for Memcached (e.g. 1.6.22)."""
    node_type: str = "cache.t4g.micro"
    """Node instance type, ``cache.*``."""
    cluster_mode: bool = False
    """Valkey/Redis: shard the keyspace over ``shards`` node groups (clients must speak cluster protocol)."""
    shards: int = 1
    """Valkey/Redis: node groups; more than one needs ``cluster_mode``."""
    replicas: int = 1
    """Valkey/Redis: replicas per shard, 0-5. Any replica turns on automatic failover and Multi-AZ."""
    memcached_nodes: int = 2
    """Memcached: nodes, 1-40; two or more are spread across AZs (cross-az)."""
    eviction_policy: EvictionPolicy = "allkeys-lfu"
    """Valkey/Redis ``maxmemory-policy``."""
    reserved_memory_percent: int = 25
    """Valkey/Redis: memory kept back from the dataset for replication buffers, snapshots and the OS."""
    snapshot_retention_days: int = 1
    """Valkey/Redis: days of daily RDB snapshots kept, 0 (off) to 35."""
    snapshot_window: str = "03:00-04:00"
    """Valkey/Redis: daily snapshot window (UTC, at least 60 minutes)."""
    maintenance_window: str = "sun:05:00-sun:06:00"
    """Weekly maintenance window (UTC, at least 60 minutes, not overlapping the snapshot window)."""
    final_snapshot: bool = False
    """Valkey/Redis: take a snapshot named ``<identifier>-final`` when the group is deleted."""
    append_only: bool = False
    """AOF persistence. Not available on ElastiCache: ``True`` fails with the reason and the alternative."""
    kms_key_arn: str | None = None
    """Customer-managed KMS key for encryption at rest and for the AUTH token secret (AWS-managed if None)."""
    log_retention_days: int = 30
    """Retention of the slow-log and engine-log groups."""
    alarm_topic_arn: str | None = None
    """SNS topic for alarm state changes and ElastiCache events (alarms are created either way)."""
    alarm_thresholds: CacheAlarmThresholds = CacheAlarmThresholds()
    """Where the alarms trip."""
    protect: bool = False
    """Pulumi ``protect`` on the replication group/cluster: ElastiCache has no deletion protection of its own."""
    apply_immediately: bool = False
    """Apply modifications now instead of in the maintenance window (fine in dev, not in prod)."""

    def __post_init__(self) -> None:
        if self.append_only:
            raise ValueError(f"append_only: True is not possible. {AOF_UNSUPPORTED}")
        if self.engine not in ENGINES:
            raise ValueError(f"engine: {self.engine!r}; allowed: {', '.join(ENGINES)}")
        parameter_group_family(self.engine, self.engine_version)
        if not (1 <= len(self.identifier) <= 40 and _IDENTIFIER.match(self.identifier)):
            raise ValueError(
                f"identifier: {self.identifier!r}; allowed: 1-40 lowercase letters, digits and single "
                "hyphens, starting with a letter"
            )
        if not self.node_type.startswith("cache."):
            raise ValueError(f"node_type: {self.node_type!r}; allowed: an ElastiCache node type (cache.*)")
        if len(self.subnet_ids) != len(self.availability_zones) or not self.subnet_ids:
            raise ValueError(
                f"subnet_ids: {len(self.subnet_ids)} given for {len(self.availability_zones)} "
                "availability_zones; one subnet per AZ is required"
            )
        if self.eviction_policy not in EVICTION_POLICIES:
            raise ValueError(f"eviction_policy: {self.eviction_policy!r}; allowed: {', '.join(EVICTION_POLICIES)}")
        if not 0 <= self.reserved_memory_percent <= 100:
            raise ValueError(f"reserved_memory_percent: {self.reserved_memory_percent}; allowed: 0 to 100")
        try:
            maintenance = parse_weekly(self.maintenance_window, minimum_minutes=60)
        except ValueError as error:
            raise ValueError(f"maintenance_window: {error}") from None
        if self.engine == "memcached":
            self._check_memcached()
            return
        if not 0 <= self.replicas <= MAX_REPLICAS:
            raise ValueError(f"replicas: {self.replicas}; allowed: 0 to {MAX_REPLICAS} per shard")
        if not 1 <= self.shards <= MAX_SHARDS:
            raise ValueError(f"shards: {self.shards}; allowed: 1 to {MAX_SHARDS}")
        if self.shards > 1 and not self.cluster_mode:
            raise ValueError(
                f"shards: {self.shards} needs cluster_mode=True; with cluster mode disabled a "
                "replication group has exactly one shard (allowed: 1)"
            )
        if not 0 <= self.snapshot_retention_days <= MAX_SNAPSHOT_RETENTION_DAYS:
            raise ValueError(
                f"snapshot_retention_days: {self.snapshot_retention_days}; allowed: 0 (off) to "
                f"{MAX_SNAPSHOT_RETENTION_DAYS}"
            )
        try:
            snapshots = parse_daily(self.snapshot_window, minimum_minutes=60)
        except ValueError as error:
            raise ValueError(f"snapshot_window: {error}") from None
        if overlaps(maintenance, snapshots):
            raise ValueError(
                f"maintenance_window: {self.maintenance_window!r} overlaps snapshot_window "
                f"{self.snapshot_window!r}; ElastiCache requires them apart"
            )

    def _check_memcached(self) -> None:
        # Settings that only exist for Valkey/Redis are refused rather than silently ignored.
        problems = [
            (self.cluster_mode, "cluster_mode: True", "False (Memcached shards on the client side)"),
            (self.shards != 1, f"shards: {self.shards}", "1 (use memcached_nodes)"),
            (self.replicas != 0, f"replicas: {self.replicas}", "0 (Memcached has no replication)"),
            (
                self.snapshot_retention_days != 0,
                f"snapshot_retention_days: {self.snapshot_retention_days}",
                "0 (Memcached keeps nothing on disk)",
            ),
            (self.final_snapshot, "final_snapshot: True", "False (Memcached has no snapshots)"),
        ]
        for bad, what, allowed in problems:
            if bad:
                raise ValueError(f"{what} is not possible with engine='memcached'; allowed: {allowed}")
        if not 1 <= self.memcached_nodes <= MAX_MEMCACHED_NODES:
            raise ValueError(f"memcached_nodes: {self.memcached_nodes}; allowed: 1 to {MAX_MEMCACHED_NODES}")

    # -- derived plain values (structure never hangs off an Output) ---------------------------------
    @property
    def is_memcached(self) -> bool:
        return self.engine == "memcached"

    @property
    def automatic_failover(self) -> bool:
        """A replica to promote exists, or cluster mode (where AWS requires failover on)."""
        return not self.is_memcached and (self.replicas > 0 or self.cluster_mode)

    @property
    def multi_az(self) -> bool:
        """Replicas placed in other AZs than their primary; needs at least one replica."""
        return not self.is_memcached and self.replicas > 0

    @property
    def has_cluster_mode_setting(self) -> bool:
        """Whether the engine version takes the ClusterMode setting (Valkey 7.2+, Redis OSS 7.0+)."""
        return self.engine == "valkey" or (self.engine == "redis" and not self.engine_version.startswith("6."))

    @property
    def tls(self) -> bool:
        return not self.is_memcached or memcached_supports_tls(self.engine_version)


class Cache(pulumi.ComponentResource):
    """An ElastiCache replication group (Valkey/Redis OSS) or cluster (Memcached) with its subnet
    group, parameter group, security group (no rules: clients add theirs), AUTH secret, log groups
    and alarms."""

    security_group_id: pulumi.Output[str]
    """Security group of the nodes. It has no rules; each client adds ingress from its own group."""
    port: int
    """Port the nodes listen on (6379 Valkey/Redis, 11211 Memcached)."""
    primary_endpoint: pulumi.Output[str]
    """Host to write to: the primary endpoint, or the configuration endpoint in cluster mode/Memcached."""
    reader_endpoint: pulumi.Output[str]
    """Host for reads spread over replicas; the same as ``primary_endpoint`` where there is none."""
    configuration_endpoint: pulumi.Output[str] | None
    """Cluster discovery host (cluster mode and Memcached); None for cluster mode disabled."""
    tls_enabled: bool
    """Whether clients must connect with TLS."""
    auth_secret_arn: pulumi.Output[str] | None
    """Secrets Manager secret whose SecretString is the AUTH token (None for Memcached: no AUTH)."""
    auth_secret_kms_key_arn: str | None
    """Customer-managed key encrypting that secret; readers need kms:Decrypt on it (None: AWS-managed)."""
    cluster_mode: bool
    """Whether clients must use the cluster protocol."""
    engine: str
    """valkey, redis or memcached."""
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
    """ARN of the replication group or cluster."""

    def __init__(self, name: str, args: CacheArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("platform:cache:Cache", name, None, opts)
        self._name = name
        self._args = args
        child = pulumi.ResourceOptions(parent=self)

        self.engine = args.engine
        self.engine_version = args.engine_version
        self.port = DEFAULT_PORTS[args.engine]
        self.cluster_mode = args.cluster_mode
        self.tls_enabled = args.tls
        self.automatic_failover = args.automatic_failover
        self.multi_az = args.multi_az
        self.parameter_group_family = parameter_group_family(args.engine, args.engine_version)

        sg = aws.ec2.SecurityGroup(
            f"{name}-sg",
            vpc_id=args.vpc_id,
            description=f"ElastiCache {args.engine} {args.identifier}: clients add their own ingress",
            tags={"Name": f"{name}-sg"},
            opts=child,
        )
        self.security_group_id = sg.id

        subnet_group = aws.elasticache.SubnetGroup(
            f"{name}-subnets",
            subnet_ids=list(args.subnet_ids),
            description=f"Isolated subnets of {args.identifier}",
            opts=child,
        )
        parameter_group = aws.elasticache.ParameterGroup(
            f"{name}-params",
            family=self.parameter_group_family,
            description=f"{args.engine} {args.engine_version} settings of {args.identifier}",
            parameters=self._parameters(),
            opts=child,
        )
        self.parameter_group_name = parameter_group.name

        if args.is_memcached:
            self._create_memcached(sg, subnet_group, parameter_group)
        else:
            self._create_replication_group(sg, subnet_group, parameter_group)
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

    def _parameters(self) -> list[aws.elasticache.ParameterGroupParameterArgs]:
        args = self._args
        if args.is_memcached:
            # Memcached evicts LRU and has no persistence; its defaults need no change here.
            return []
        return [
            aws.elasticache.ParameterGroupParameterArgs(name="maxmemory-policy", value=args.eviction_policy),
            aws.elasticache.ParameterGroupParameterArgs(
                name="reserved-memory-percent", value=str(args.reserved_memory_percent)
            ),
            # Must match the replication group's mode, or ElastiCache refuses the group.
            aws.elasticache.ParameterGroupParameterArgs(
                name="cluster-enabled", value="yes" if args.cluster_mode else "no"
            ),
        ]

    # -- Valkey / Redis OSS -------------------------------------------------------------------------
    def _create_replication_group(
        self,
        sg: aws.ec2.SecurityGroup,
        subnet_group: aws.elasticache.SubnetGroup,
        parameter_group: aws.elasticache.ParameterGroup,
    ) -> None:
        name, args = self._name, self._args
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
            name=f"{args.identifier}/cache-auth-token",
            description=f"AUTH token of ElastiCache {args.engine} {args.identifier} (SecretString is the token)",
            kms_key_id=args.kms_key_arn,
            # A fixed name cannot be reused while a deleted secret waits out its recovery window.
            recovery_window_in_days=30 if args.protect else 0,
            opts=child,
        )
        aws.secretsmanager.SecretVersion(
            f"{name}-auth-secret-value", secret_id=secret.id, secret_string=token.result, opts=child
        )
        self.auth_secret_arn = secret.arn
        self.auth_secret_kms_key_arn = args.kms_key_arn

        log_groups = {
            log_type: aws.cloudwatch.LogGroup(
                f"{name}-{log_type}",
                name=f"/aws/elasticache/{args.identifier}/{log_type}",
                retention_in_days=args.log_retention_days,
                opts=child,
            )
            for log_type in ("slow-log", "engine-log")
        }

        nodes = args.replicas + 1
        azs = list(args.availability_zones)
        mode = "cluster" if args.cluster_mode else "primary/replica"
        group = aws.elasticache.ReplicationGroup(
            f"{name}-group",
            replication_group_id=args.identifier,
            description=f"{args.engine} {args.engine_version} cache ({mode})",
            engine=args.engine,
            engine_version=args.engine_version,
            node_type=args.node_type,
            port=self.port,
            # The ClusterMode setting exists from Valkey 7.2 / Redis OSS 7.0 on; for Redis 6.2 the
            # parameter group's cluster-enabled and the shard count decide the mode on their own.
            cluster_mode=("enabled" if args.cluster_mode else "disabled") if args.has_cluster_mode_setting else None,
            # Cluster mode: shards x (primary + replicas). Disabled: one primary + replicas, the
            # primary in the first AZ and replicas round-robin over the others.
            num_node_groups=args.shards if args.cluster_mode else None,
            replicas_per_node_group=args.replicas if args.cluster_mode else None,
            num_cache_clusters=None if args.cluster_mode else nodes,
            preferred_cache_cluster_azs=None if args.cluster_mode else [azs[i % len(azs)] for i in range(nodes)],
            parameter_group_name=parameter_group.name,
            subnet_group_name=subnet_group.name,
            security_group_ids=[sg.id],
            automatic_failover_enabled=args.automatic_failover,
            multi_az_enabled=args.multi_az,
            transit_encryption_enabled=True,
            at_rest_encryption_enabled=True,
            kms_key_id=args.kms_key_arn,
            auth_token=token.result,
            # ROTATE keeps the old token valid next to a new one until tasks have restarted with it.
            auth_token_update_strategy="ROTATE",  # noqa: S106 (a strategy name, not a secret)
            snapshot_retention_limit=args.snapshot_retention_days,
            snapshot_window=args.snapshot_window,
            final_snapshot_identifier=f"{args.identifier}-final" if args.final_snapshot else None,
            maintenance_window=args.maintenance_window,
            auto_minor_version_upgrade=True,
            apply_immediately=args.apply_immediately,
            notification_topic_arn=args.alarm_topic_arn,
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
                protect=args.protect,
                # The ID is explicit (alarms and logs are keyed on it), so a replacement must delete
                # the old group first; protect keeps that from happening by accident in prod.
                delete_before_replace=True,
                depends_on=list(log_groups.values()),
            ),
        )
        self.arn = group.arn
        self.node_ids = member_cluster_ids(
            args.identifier, cluster_mode=args.cluster_mode, shards=args.shards, replicas=args.replicas
        )
        if args.cluster_mode:
            self.configuration_endpoint = group.configuration_endpoint_address
            self.primary_endpoint = group.configuration_endpoint_address
            self.reader_endpoint = group.configuration_endpoint_address
        else:
            self.configuration_endpoint = None
            self.primary_endpoint = group.primary_endpoint_address
            self.reader_endpoint = group.reader_endpoint_address

    # -- Memcached ----------------------------------------------------------------------------------
    def _create_memcached(
        self,
        sg: aws.ec2.SecurityGroup,
        subnet_group: aws.elasticache.SubnetGroup,
        parameter_group: aws.elasticache.ParameterGroup,
    ) -> None:
        name, args = self._name, self._args
        azs = list(args.availability_zones)
        nodes = args.memcached_nodes
        cluster = aws.elasticache.Cluster(
            f"{name}-cluster",
            cluster_id=args.identifier,
            engine="memcached",
            engine_version=args.engine_version,
            node_type=args.node_type,
            num_cache_nodes=nodes,
            az_mode="cross-az" if nodes > 1 else "single-az",
            preferred_availability_zones=[azs[i % len(azs)] for i in range(nodes)],
            port=self.port,
            parameter_group_name=parameter_group.name,
            subnet_group_name=subnet_group.name,
            security_group_ids=[sg.id],
            transit_encryption_enabled=args.tls,
            maintenance_window=args.maintenance_window,
            apply_immediately=args.apply_immediately,
            notification_topic_arn=args.alarm_topic_arn,
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect, delete_before_replace=True),
        )
        self.arn = cluster.arn
        # Memcached has no AUTH on ElastiCache: the security group is the only access control.
        self.auth_secret_arn = None
        self.auth_secret_kms_key_arn = None
        self.node_ids = [args.identifier]
        self.configuration_endpoint = cluster.cluster_address
        self.primary_endpoint = cluster.cluster_address
        self.reader_endpoint = cluster.cluster_address

    # -- alarms -------------------------------------------------------------------------------------
    def _create_alarms(self) -> None:
        name, args = self._name, self._args
        limits = args.alarm_thresholds
        actions = [args.alarm_topic_arn] if args.alarm_topic_arn else []

        def alarm(
            role: str,
            metric: str,
            threshold: float,
            dimensions: dict[str, str],
            *,
            statistic: str = "Average",
            description: str,
        ) -> None:
            aws.cloudwatch.MetricAlarm(
                f"{name}-{role}",
                namespace="AWS/ElastiCache",
                metric_name=metric,
                dimensions=dimensions,
                statistic=statistic,
                period=300,
                evaluation_periods=3,
                datapoints_to_alarm=3,
                comparison_operator="GreaterThanThreshold",
                threshold=threshold,
                treat_missing_data="notBreaching",
                alarm_description=description,
                alarm_actions=actions,
                ok_actions=actions,
                opts=pulumi.ResourceOptions(parent=self),
            )

        if args.is_memcached:
            for n in range(1, args.memcached_nodes + 1):
                dims = {"CacheClusterId": args.identifier, "CacheNodeId": f"{n:04d}"}
                alarm(
                    f"cpu-{n:04d}",
                    "CPUUtilization",
                    limits.cpu_percent,
                    dims,
                    description=f"Memcached {args.identifier} node {n:04d}: CPU above {limits.cpu_percent}%",
                )
                alarm(
                    f"evictions-{n:04d}",
                    "Evictions",
                    limits.evictions_per_period,
                    dims,
                    statistic="Sum",
                    description=f"Memcached {args.identifier} node {n:04d}: evicting fast; too small",
                )
            return

        for node in self.node_ids:
            dims = {"CacheClusterId": node}
            suffix = node.removeprefix(f"{args.identifier}-")
            alarm(
                f"engine-cpu-{suffix}",
                "EngineCPUUtilization",
                limits.cpu_percent,
                dims,
                description=f"{node}: engine thread above {limits.cpu_percent}% CPU",
            )
            alarm(
                f"memory-{suffix}",
                "DatabaseMemoryUsagePercentage",
                limits.memory_percent,
                dims,
                description=f"{node}: above {limits.memory_percent}% of maxmemory",
            )
            alarm(
                f"evictions-{suffix}",
                "Evictions",
                limits.evictions_per_period,
                dims,
                statistic="Sum",
                description=f"{node}: evicting fast ({args.eviction_policy}); the cache is too small",
            )
            if args.replicas > 0:
                # Only replicas publish ReplicationLag; on the current primary it is simply missing.
                alarm(
                    f"replication-lag-{suffix}",
                    "ReplicationLag",
                    limits.replication_lag_seconds,
                    dims,
                    statistic="Maximum",
                    description=f"{node}: replica more than {limits.replication_lag_seconds}s behind",
                )
