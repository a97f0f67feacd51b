"""ElastiCache for Valkey or Redis OSS in the isolated subnets: one replication group.

Cluster mode disabled (one primary plus replicas) or enabled (shards, each a primary plus
replicas), with TLS, encryption at rest, Multi-AZ automatic failover whenever replicas exist, RDB
snapshots, slow and engine logs in CloudWatch, and alarms.

Clients authenticate without a long-lived secret where the engine allows it: IAM authentication
(Valkey 7.2+, Redis OSS 7.0+; ElastiCache User Guide, "Authenticating with IAM"). The group gets a
user group of two users: the application's IAM user (user ID = user name, as IAM auth requires) and
the ``default`` user every user group must contain, switched off, so a connection that has not
authenticated can do nothing. Clients sign a 15-minute token with their role, which
``client_policy_statements`` allow ``elasticache:Connect`` on exactly this group and this user.
Where IAM auth is not possible (Redis OSS 6.2, or ``iam_auth`` off) the group keeps an AUTH token in
Secrets Manager, rotated on a schedule by the function in ``components/lambdas/
cache_auth_token_rotation.py`` (ROTATE keeps the previous token valid until the next rotation), and
clients read the current token from the secret instead of having it injected at start.
Memcached is a different kind of engine (no replication, persistence or AUTH) and has its own
component, ``components/memcached.py``, as terraform-aws-elasticache splits cluster from
replication group.

The security group starts with no rules at all: each client (a Fargate service) adds the ingress rule
on this group from its own task security group, so the graph of who talks to the cache is explicit.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal, get_args

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from components.arns import check_kms_key_arn, check_sns_topic_arn
from components.aws_context import AwsContext, service_trust_policy
from components.elasticache_parts import (
    check_identifier,
    check_node_type,
    check_placement,
    create_alarm,
    create_placement,
)
from components.errors import InputError, in_range, one_of, require
from components.kms_keys import KeyArns, secret_decrypt_statements
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
AuthMode = Literal["iam", "token"]
MAX_ROTATION_DAYS: Final = 1000
"""RotateSecret RotationRules.AutomaticallyAfterDays: 1-1000 (botocore's secretsmanager model)."""
APP_ACCESS_STRING: Final = "on ~* +@all -@dangerous +info"
"""The application user's rights: every key and command but Redis's ``@dangerous`` category (FLUSHALL,
CONFIG, DEBUG, KEYS, CLIENT KILL, MONITOR, ...), with INFO back (the ops endpoints read it)."""
DEFAULT_USER_ACCESS_STRING: Final = "off -@all"
"""The ``default`` user every user group must contain, disabled: an unauthenticated connection is refused."""
LOG_TYPES: Final = ("slow-log", "engine-log")
"""What a replication group delivers to CloudWatch Logs."""
ROTATION_HANDLER: Final = Path(__file__).parent / "lambdas" / "cache_auth_token_rotation.py"
ROTATION_RUNTIME: Final = "python3.13"
ROTATION_TIMEOUT_SECONDS: Final = 900
"""Lambda's maximum: the set and test steps wait for the group to apply the token."""

AOF_UNSUPPORTED: Final = (
    "ElastiCache does not support AOF (append-only file) persistence on current engines "
    "(Redis OSS 2.8.22 and later, and Valkey): there is no appendonly parameter to set. "
    "For durability use Multi-AZ replicas with automatic failover (at least one replica) "
    "and RDB snapshots (snapshot retention 1-35 days, plus a final snapshot on delete)"
)

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
    iam_auth: bool
    """IAM authentication where the engine supports it (Valkey, Redis OSS 7.0+); otherwise a rotated AUTH token."""
    auth_rotation_days: int
    """How often the AUTH token (where one is used) is rotated, 1-1000 days."""
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
        check_node_type("node_type", self.node_type)
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
        in_range("auth_rotation_days", self.auth_rotation_days, 1, MAX_ROTATION_DAYS, "days")

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

    @property
    def supports_iam_auth(self) -> bool:
        """IAM authentication exists for Valkey (7.2 and later) and Redis OSS 7.0 and later."""
        return self.engine == "valkey" or not self.engine_version.startswith("6.")

    @property
    def auth_mode(self) -> AuthMode:
        """``iam`` (a user group with an IAM user) or ``token`` (an AUTH token, rotated)."""
        return "iam" if self.iam_auth and self.supports_iam_auth else "token"

    @property
    def app_user_id(self) -> str:
        """The application's ElastiCache user: ID and name are the same (IAM auth requires it)."""
        return f"{self.identifier}-app"


@dataclass(frozen=True, kw_only=True)
class CacheArgs:
    """Where the replication group lives, and what it is (``spec``)."""

    context: AwsContext
    """Account, region and partition (the ARNs clients and the rotation function are granted)."""
    vpc_id: pulumi.Input[str]
    """VPC of the security group."""
    subnet_ids: Sequence[pulumi.Input[str]]
    """Isolated (data) subnets, one per AZ, for the subnet group."""
    availability_zones: Sequence[str]
    """AZ names of ``subnet_ids``, in the same order; nodes are spread over them round-robin."""
    spec: CacheSpec
    keys: KeyArns | None = None
    """The stack's customer-managed keys: at rest the data key, the AUTH token secret the secrets key,
    the log groups the logs key. None: ``spec.kms_key_arn`` (or AWS keys)."""

    def __post_init__(self) -> None:
        check_placement(self.subnet_ids, self.availability_zones)
        require(
            self.keys is None or self.spec.kms_key_arn is None,
            "keys",
            "the stack's keys",
            f"None when spec.kms_key_arn is set ({self.spec.kms_key_arn}): one key decides the data at rest",
            refers=("spec.kms_key_arn",),
        )


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
    auth_mode: AuthMode
    """``iam``: clients authenticate as ``iam_user_id`` with IAM tokens; ``token``: with the AUTH token
    in ``auth_secret_arn`` (rotated; clients read the current one from the secret)."""
    iam_user_id: str | None
    """The application's ElastiCache user (ID and name), in IAM mode."""
    user_group_id: str | None
    """The group's user group, in IAM mode."""
    replication_group_id: str
    """The ID clients sign IAM tokens for (plain)."""
    auth_secret_arn: pulumi.Output[str] | None
    """Secrets Manager secret whose SecretString is the AUTH token (token mode; None with IAM auth)."""
    auth_secret_kms_key_arn: str | None
    """Customer-managed key (or its alias ARN) encrypting that secret, plain: readers are granted
    kms:Decrypt on it (None: AWS-managed, or no secret)."""
    client_policy_statements: list[dict[str, Any]]
    """What a client's role needs to authenticate: ``elasticache:Connect`` on exactly this replication
    group and the application user (IAM), or reading the AUTH token secret (token)."""
    log_group_names: list[str]
    """The slow-log, engine-log and (token mode) rotation function log groups (plain)."""
    iam_roles: tuple[aws.iam.Role, ...]
    """The rotation function's role (token mode), for ``depends_on`` of a key policy naming it."""
    rotation_role_arn: str | None
    """That role's ARN (plain, composed from its explicit name)."""
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
        self.auth_mode = spec.auth_mode
        self.replication_group_id = spec.identifier
        self.iam_user_id = None
        self.user_group_id = None
        self.auth_secret_arn = None
        self.auth_secret_kms_key_arn = None
        self.client_policy_statements = []
        self.log_group_names = []
        self.iam_roles = ()
        self.rotation_role_arn = None

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
                "authMode": self.auth_mode,
                "iamUserId": self.iam_user_id,
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

        keys = args.keys
        self.log_group_names = [f"/aws/elasticache/{spec.identifier}/{log_type}" for log_type in LOG_TYPES]
        log_groups = {
            log_type: aws.cloudwatch.LogGroup(
                f"{name}-{log_type}",
                name=group_name,
                retention_in_days=spec.log_retention_days,
                kms_key_id=keys.logs if keys else None,
                opts=child,
            )
            for log_type, group_name in zip(LOG_TYPES, self.log_group_names, strict=True)
        }

        token: random.RandomPassword | None = None
        secret: aws.secretsmanager.Secret | None = None
        user_group: aws.elasticache.UserGroup | None = None
        if spec.auth_mode == "iam":
            user_group = self._create_users()
        else:
            token, secret = self._create_auth_secret()
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
            kms_key_id=keys.data if keys else spec.kms_key_arn,
            # IAM mode: the user group and no token. DELETE is what moves an existing group from a token
            # to RBAC (in the same modification as adding the user group; ElastiCache User Guide,
            # "Migrating from AUTH to RBAC"); it is not used when a group is created.
            # Token mode: ROTATE keeps the old token valid next to a new one (the rotation function's too).
            auth_token=token.result if token is not None else None,
            auth_token_update_strategy="ROTATE" if token is not None else "DELETE",
            user_group_ids=[user_group.user_group_id] if user_group is not None else None,
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
        if secret is not None:
            self._create_rotation(group, secret)
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

    # -- authentication ----------------------------------------------------------------------------
    def _create_users(self) -> aws.elasticache.UserGroup:
        """The application's IAM user and a disabled ``default`` user in the group's user group.

        Every user group must contain a user named ``default`` (ElastiCache User Guide, "Authenticating
        users with Role-Based Access Control"); ElastiCache's own ``default`` user may run everything
        without a password, so the group gets one of its own (user ID ``<id>-default``) that is off."""
        name, args, spec = self._name, self._args, self._args.spec
        child = pulumi.ResourceOptions(parent=self)
        ctx = args.context
        app = aws.elasticache.User(
            f"{name}-app-user",
            user_id=spec.app_user_id,
            user_name=spec.app_user_id,
            engine=spec.engine,
            access_string=APP_ACCESS_STRING,
            authentication_mode=aws.elasticache.UserAuthenticationModeArgs(type="iam"),
            opts=child,
        )
        default = aws.elasticache.User(
            f"{name}-default-user",
            user_id=f"{spec.identifier}-default",
            user_name="default",
            engine=spec.engine,
            access_string=DEFAULT_USER_ACCESS_STRING,
            authentication_mode=aws.elasticache.UserAuthenticationModeArgs(type="no-password-required"),
            opts=child,
        )
        group = aws.elasticache.UserGroup(
            f"{name}-users",
            user_group_id=f"{spec.identifier}-users",
            engine=spec.engine,
            user_ids=[default.user_id, app.user_id],
            opts=child,
        )
        self.iam_user_id = spec.app_user_id
        self.user_group_id = f"{spec.identifier}-users"
        self.client_policy_statements = [
            {
                "Sid": "ConnectAsTheAppUser",
                "Effect": "Allow",
                "Action": "elasticache:Connect",
                "Resource": [
                    ctx.arn("elasticache", f"replicationgroup:{spec.identifier}"),
                    ctx.arn("elasticache", f"user:{spec.app_user_id}"),
                ],
            }
        ]
        return group

    def _create_auth_secret(self) -> tuple[random.RandomPassword, aws.secretsmanager.Secret]:
        name, args, spec = self._name, self._args, self._args.spec
        child = pulumi.ResourceOptions(parent=self)
        keys = args.keys
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
            kms_key_id=keys.secrets if keys else spec.kms_key_arn,
            # A fixed name cannot be reused while a deleted secret waits out its recovery window.
            recovery_window_in_days=30 if spec.protect else 0,
            opts=child,
        )
        # The first value; the rotation function writes the later ones. The provider reads this version
        # back by its ID and version_stages is not set here, so rotations moving its labels are no change
        # (terraform-provider-aws internal/service/secretsmanager/secret_version.go).
        aws.secretsmanager.SecretVersion(
            f"{name}-auth-secret-value", secret_id=secret.id, secret_string=token.result, opts=child
        )
        self.auth_secret_arn = secret.arn
        self.auth_secret_kms_key_arn = keys.secrets_alias_arn if keys else spec.kms_key_arn
        self.client_policy_statements = [
            {
                "Sid": "ReadTheCurrentAuthToken",
                "Effect": "Allow",
                "Action": "secretsmanager:GetSecretValue",
                "Resource": secret.arn,
            },
            *secret_decrypt_statements(
                args.context, [self.auth_secret_kms_key_arn] if self.auth_secret_kms_key_arn else []
            ),
        ]
        return token, secret

    def _create_rotation(self, group: aws.elasticache.ReplicationGroup, secret: aws.secretsmanager.Secret) -> None:
        """A Secrets Manager rotation of the AUTH token every ``auth_rotation_days``, by a function of
        this group's own: its role may rotate this one secret and modify this one group."""
        name, args, spec = self._name, self._args, self._args.spec
        ctx, keys = args.context, args.keys
        child = pulumi.ResourceOptions(parent=self)
        function_name = rotation_function_name(spec.identifier)
        role_name = rotation_role_name(spec.identifier, ctx.region)
        log_group_name = f"/aws/lambda/{function_name}"
        self.log_group_names.append(log_group_name)
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-rotation-logs",
            name=log_group_name,
            retention_in_days=spec.log_retention_days,
            kms_key_id=keys.logs if keys else None,
            opts=child,
        )
        role = aws.iam.Role(
            f"{name}-rotation-role",
            name=role_name,
            description=f"Rotates the AUTH token of ElastiCache {spec.identifier}",
            assume_role_policy=json.dumps(rotation_trust_policy(ctx, function_name)),
            opts=child,
        )
        self.iam_roles = (role,)
        self.rotation_role_arn = ctx.arn("iam", f"role/{role_name}", regional=False)
        policy = aws.iam.RolePolicy(
            f"{name}-rotation-policy",
            role=role.id,
            policy=pulumi.Output.json_dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": rotation_statements(
                        ctx,
                        secret_arn=secret.arn,
                        replication_group_id=spec.identifier,
                        log_group_name=log_group_name,
                        secret_key_arn=self.auth_secret_kms_key_arn,
                    ),
                }
            ),
            opts=child,
        )
        function = aws.lambda_.Function(
            f"{name}-rotation",
            name=function_name,
            description=f"Secrets Manager rotation of the AUTH token of ElastiCache {spec.identifier}",
            runtime=ROTATION_RUNTIME,
            handler=f"{ROTATION_HANDLER.stem}.lambda_handler",
            code=pulumi.AssetArchive({ROTATION_HANDLER.name: pulumi.FileAsset(str(ROTATION_HANDLER))}),
            role=self.rotation_role_arn,
            timeout=ROTATION_TIMEOUT_SECONDS,
            memory_size=128,
            environment=aws.lambda_.FunctionEnvironmentArgs(
                variables={"SECRET_ARN": secret.arn, "REPLICATION_GROUP_ID": spec.identifier}
            ),
            logging_config=aws.lambda_.FunctionLoggingConfigArgs(log_format="Text", log_group=log_group_name),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[role, policy, log_group]),
        )
        # Only Secrets Manager, for this one secret of this account, may invoke it.
        permission = aws.lambda_.Permission(
            f"{name}-rotation-invoke",
            action="lambda:InvokeFunction",
            function=function.name,
            principal="secretsmanager.amazonaws.com",
            source_account=ctx.account_id,
            source_arn=secret.arn,
            opts=child,
        )
        aws.secretsmanager.SecretRotation(
            f"{name}-auth-rotation",
            secret_id=secret.id,
            rotation_lambda_arn=function.arn,
            rotation_rules=aws.secretsmanager.SecretRotationRotationRulesArgs(
                automatically_after_days=spec.auth_rotation_days
            ),
            # Rotating at once replaces the token Pulumi generated (it is in the state) by one only the
            # secret holds; ROTATE keeps the first one valid until the next rotation. The function
            # modifies the group, so the group must exist first.
            rotate_immediately=True,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[group, permission]),
        )

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


def rotation_function_name(identifier: str) -> str:
    """``<identifier>-auth-rotation`` (at most 54 characters: identifiers are 40 at most, Lambda takes 64)."""
    return f"{identifier}-auth-rotation"


def rotation_role_name(identifier: str, region: str) -> str:
    """``<identifier>-rotation-<region>``: IAM role names are account-wide, so the region is part of it."""
    return f"{identifier}-rotation-{region}"[:64]


def rotation_trust_policy(ctx: AwsContext, function_name: str) -> dict[str, Any]:
    """Lambda may assume the role for this account's rotation function only (confused-deputy guard)."""
    return service_trust_policy(ctx, "lambda.amazonaws.com", ctx.arn("lambda", f"function:{function_name}"))


def rotation_statements(
    ctx: AwsContext,
    *,
    secret_arn: pulumi.Input[str],
    replication_group_id: str,
    log_group_name: str,
    secret_key_arn: str | None,
) -> list[dict[str, Any]]:
    """What the rotation function calls, on exactly what it touches (the four steps' API calls)."""
    group_arn = ctx.arn("logs", f"log-group:{log_group_name}")
    statements: list[dict[str, Any]] = [
        {
            "Sid": "RotateThisSecret",
            "Effect": "Allow",
            "Action": [
                "secretsmanager:DescribeSecret",
                "secretsmanager:GetSecretValue",
                "secretsmanager:ListSecretVersionIds",
                "secretsmanager:PutSecretValue",
                "secretsmanager:UpdateSecretVersionStage",
            ],
            "Resource": secret_arn,
        },
        {
            # No resource-level permission exists for GetRandomPassword.
            "Sid": "GenerateTokens",
            "Effect": "Allow",
            "Action": "secretsmanager:GetRandomPassword",
            "Resource": "*",
        },
        {
            "Sid": "SetTheTokenOnThisGroup",
            "Effect": "Allow",
            "Action": "elasticache:ModifyReplicationGroup",
            "Resource": ctx.arn("elasticache", f"replicationgroup:{replication_group_id}"),
        },
        {
            # A List-level action without resource-level permissions (Service Authorization Reference).
            "Sid": "WatchTheGroupApplyIt",
            "Effect": "Allow",
            "Action": "elasticache:DescribeReplicationGroups",
            "Resource": "*",
        },
        {
            "Sid": "WriteOwnLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": f"{group_arn}:log-stream:*",
        },
    ]
    if secret_key_arn:
        # Reading a version decrypts it; writing one needs a data key (Secrets Manager User Guide,
        # "Secret encryption and decryption in AWS Secrets Manager").
        via = {"kms:ViaService": f"secretsmanager.{ctx.region}.{ctx.dns_suffix}"}
        alias = ":alias/" in secret_key_arn
        statements.append(
            {
                "Sid": "UseTheSecretsKey",
                "Effect": "Allow",
                "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                "Resource": ctx.arn("kms", "key/*") if alias else secret_key_arn,
                "Condition": {
                    "StringEquals": via,
                    **(
                        {"ForAnyValue:StringEquals": {"kms:ResourceAliases": secret_key_arn.split(":", 5)[5]}}
                        if alias
                        else {}
                    ),
                },
            }
        )
    return statements
