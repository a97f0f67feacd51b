"""Stack settings: the one place that reads Pulumi config.

Every project key is declared (type, default, description) in the ``config:`` block of
``Pulumi.yaml``, the one home of defaults; the Pulumi CLI applies them, and so does the offline
plan. This module parses the raw values by their declared type and builds the components' own spec
objects from them, *before any resource is registered*. The rules live in the components: each spec
validates itself and raises ``InputError`` naming its field; a table per section says which config
key feeds which field, so the error reaches the user as a ``ConfigError`` naming the key they wrote,
the value and what is allowed. What stays here is what no component can know: rules that span keys
or sections (keys that only apply to one engine, an inspection VPC apart from the app VPC) and the
tiers (what ``environment=prod`` requires).
"""

from __future__ import annotations

import dataclasses
import difflib
import ipaddress
import json
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Final, Literal, TypeVar, get_args

import pulumi
import yaml

from components.aws_context import AwsContext
from components.cache import CacheSpec
from components.certificate import KEY_ALGORITHMS, CertificateArgs
from components.database import DatabaseSpec
from components.ecs_cluster import EcsClusterSpec, FargateCapacity
from components.edge_alarms import AlarmThresholds
from components.errors import InputError, one_of
from components.fargate_service import AutoScaling, TaskSize
from components.gateway_load_balancer import (
    ApplianceFleet,
    GeneveHealthCheck,
    InspectionSpec,
    RegisteredAppliances,
    TargetFailover,
    check_allowed_principals,
)
from components.hosted_zone import HostedZone, check_domain_name, check_host_label
from components.image import ImageBuild
from components.load_balancer import LoadBalancerSpec, check_cidrs
from components.memcached import MemcachedSpec
from components.network import AdoptedVpc, NetworkSpec
from components.network_load_balancer import check_ingress_cidrs
from components.registry import (
    RegistryArgs,
    RegistryWideSettings,
    ReplicationDestination,
    RetentionPolicy,
    parse_replica_key,
)
from components.web_acl import RuleOverride, WafSpec
from stack.placeholders import Placeholder, find_placeholders, running_under_mocks

PROJECT_DIR: Final = Path(__file__).resolve().parent.parent
PROJECT_FILE: Final = PROJECT_DIR / "Pulumi.yaml"
APP_DIR: Final = PROJECT_DIR / "app"
"""Build context of the app image (``app/Dockerfile``)."""

Environment = Literal["dev", "staging", "prod"]
CacheEngineName = Literal["valkey", "redis", "memcached"]
"""``cacheEngine``: Valkey/Redis OSS get a replication group, Memcached a cluster."""
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
"""``logLevel``: what the app accepts as LOG_LEVEL (Python logging levels)."""

SpecT = TypeVar("SpecT")


class ConfigError(InputError):
    """An input error whose setting is a fully qualified config key (``container-platform:azCount``)."""

    kind = "config"

    @property
    def key(self) -> str:
        return self.setting


@cache
def declared_config() -> dict[str, dict[str, Any]]:
    """The ``config:`` block of Pulumi.yaml: key -> declaration (type, default, description)."""
    project = yaml.safe_load(PROJECT_FILE.read_text(encoding="utf-8"))
    return dict(project.get("config") or {})


def project_name() -> str:
    return str(yaml.safe_load(PROJECT_FILE.read_text(encoding="utf-8"))["name"])


# --------------------------------------------------------------------------------------------------
# Reading: values parsed by their declared type
# --------------------------------------------------------------------------------------------------
class ConfigReader:
    """Project config values parsed by the type Pulumi.yaml declares for them.

    Defaults come from Pulumi.yaml (the CLI injects them too); a key the file does not declare
    cannot be read, which keeps the documentation and the code in step. ``values`` (bare keys to raw
    strings) replaces ``pulumi.Config`` where no Pulumi runtime exists (tests of specs from defaults).
    """

    def __init__(self, config: pulumi.Config | None = None, *, values: Mapping[str, str] | None = None) -> None:
        self._config = config if values is None else None
        self._values = values
        self._declared = declared_config()
        self._namespace = project_name() if values is not None else (config or pulumi.Config()).name

    def qualified(self, key: str) -> str:
        return f"{self._namespace}:{key}"

    def error(self, key: str, value: object, allowed: str) -> ConfigError:
        return ConfigError(self.qualified(key), value, allowed)

    def _raw(self, key: str) -> Any:
        if key not in self._declared:
            raise KeyError(f"'{key}' is not declared in the config: block of Pulumi.yaml")
        if self._values is not None:
            value: Any = self._values.get(key)
        else:
            value = (self._config or pulumi.Config()).get(key)
        return self._declared[key].get("default") if value is None else value

    def value(self, key: str) -> Any:
        """The value as its declared type: str, int, bool or a tuple of strings (arrays)."""
        kind = self._declared[key].get("type") if key in self._declared else None
        raw = self._raw(key)
        if kind == "integer":
            return self._integer(key, raw)
        if kind == "boolean":
            return self._boolean(key, raw)
        if kind == "array":
            return self._strings(key, raw)
        if raw is None:
            raise self.error(key, None, "a value (the key has no default)")
        return str(raw)

    def optional(self, key: str) -> str | None:
        """A string key where empty means "not set"."""
        text = self.value(key)
        return text if text != "" else None

    def _integer(self, key: str, raw: Any) -> int:
        if isinstance(raw, bool):
            raise self.error(key, raw, "a whole number")
        if isinstance(raw, int):
            return raw
        if isinstance(raw, float) and raw.is_integer():
            return int(raw)
        try:
            return int(str(raw), 10)
        except ValueError:
            raise self.error(key, raw, "a whole number") from None

    def _boolean(self, key: str, raw: Any) -> bool:
        if isinstance(raw, bool):
            return raw
        if str(raw).lower() in ("true", "false"):
            return str(raw).lower() == "true"
        raise self.error(key, raw, "true or false")

    def _strings(self, key: str, raw: Any) -> tuple[str, ...]:
        value = raw
        if isinstance(value, str):
            try:
                value = json.loads(value) if value else []
            except json.JSONDecodeError:
                raise self.error(key, raw, 'a list of strings, e.g. ["a", "b"]') from None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.error(key, raw, 'a list of strings, e.g. ["a", "b"]')
        return tuple(value)


@dataclass(frozen=True)
class KeyTable:
    """Which config key feeds each field of a component spec (``"adopt.vpc_id"`` for nested ones).

    ``build`` reads the keys, constructs the spec (which validates itself) and turns its
    ``InputError`` into a ``ConfigError`` under the key that fed the field, with the other fields
    the message mentions renamed to their keys too.
    """

    keys: Mapping[str, str]
    derived: frozenset[str] = frozenset()
    """Fields the section derives from their keys (parsing a list of ``<a>=<b>`` entries into a
    mapping, composing host names from a domain) and passes in: named for errors, never read as is."""

    def key_for(self, setting: str) -> str | None:
        """The key of a field path: the path itself, or its longest listed parent."""
        path = setting
        while path:
            if path in self.keys:
                return self.keys[path]
            path = re.sub(r"(\.[^.\[]*|\[[^\]]*\])$", "", path) if re.search(r"[.\[]", path) else ""
        return None

    def config_error(self, read: ConfigReader, error: InputError) -> InputError:
        """The error under the config keys' names; unchanged when its field has no key (derived values)."""
        key = self.key_for(error.setting)
        if key is None:
            return error

        def name_of(setting: str) -> str:
            return read.qualified(key) if setting == error.setting else self.key_for(setting) or setting

        renamed = error.renamed(name_of, ConfigError)
        # Show a list as the user wrote it in the stack file, not as the tuple the spec holds.
        value = list(error.value) if isinstance(error.value, tuple) else error.value
        return ConfigError(renamed.setting, value, renamed.allowed)

    def values(self, spec: Callable[..., Any], read: ConfigReader, given: Collection[str] = ()) -> dict[str, Any]:
        """The listed top-level fields of ``spec`` read from config (except those ``given``)."""
        fields = _fields(spec)
        # Nested paths, given values and error-only entries (a rule of the spec that names a
        # setting of its own) are not read here.
        return {
            name: read.optional(key) if fields[name] else read.value(key)
            for name, key in self.keys.items()
            if name in fields and name not in given and name not in self.derived
        }

    def build(self, spec: Callable[..., SpecT], read: ConfigReader, **given: Any) -> SpecT:
        """``spec(**values)`` from config and ``given``, its InputError renamed to config keys."""
        values = self.values(spec, read, given)
        try:
            return spec(**values, **given)
        except InputError as error:
            raise self.config_error(read, error) from None

    def check(self, read: ConfigReader, rule: Callable[[], Any]) -> None:
        """Run a component's rule, naming keys instead of fields if it fails."""
        try:
            rule()
        except InputError as error:
            raise self.config_error(read, error) from None


def _fields(spec: Callable[..., Any]) -> dict[str, bool]:
    """A spec dataclass's fields, each with whether it is optional (typed ``... | None``): an empty
    config string means None for those."""
    assert dataclasses.is_dataclass(spec), f"{spec} is not a spec dataclass"
    return {f.name: "None" in str(f.type) for f in dataclasses.fields(spec)}


def reject_undeclared_keys(config: pulumi.Config | None = None) -> None:
    """Fail on project keys that Pulumi.yaml does not declare (a typo would otherwise be ignored)."""
    config = config or pulumi.Config()
    prefix = config.full_key("")
    declared = declared_config()
    set_keys = [k[len(prefix) :] for k in _all_config_keys() if k.startswith(prefix)]
    for key in sorted(set_keys):
        if key not in declared:
            close = difflib.get_close_matches(key, declared, n=1)
            hint = f"did you mean '{prefix}{close[0]}'? " if close else ""
            raise ConfigError(prefix + key, config.get(key), hint + "keys are declared in Pulumi.yaml")


def _all_config_keys() -> list[str]:
    # The SDK offers no public way to list config keys; the language host fills this mapping from
    # the engine's RunRequest (and the mock runner from the stack file), so it is complete in both.
    from pulumi.runtime.config import CONFIG

    return list(CONFIG.get().keys())


# --------------------------------------------------------------------------------------------------
# The tables: config key per component field, one per section
# --------------------------------------------------------------------------------------------------
ADOPTED_VPC: Final = KeyTable(
    {
        "vpc_id": "existingVpcId",
        "public_subnet_ids": "existingPublicSubnetIds",
        "private_subnet_ids": "existingPrivateSubnetIds",
        "isolated_subnet_ids": "existingIsolatedSubnetIds",
    }
)
NETWORK: Final = KeyTable(
    {
        "cidr_block": "vpcCidr",
        "az_count": "azCount",
        "nat_gateways": "natGateways",
        "vpc_endpoints": "vpcEndpoints",
        "flow_logs": "flowLogs",
        "log_retention_days": "logRetentionDays",
        **{f"adopt.{name}": key for name, key in ADOPTED_VPC.keys.items()},
    }
)
CACHE: Final = KeyTable(
    {
        "engine": "cacheEngine",
        "engine_version": "cacheEngineVersion",
        "node_type": "cacheNodeType",
        "cluster_mode": "cacheClusterMode",
        "shards": "cacheShards",
        "replicas": "cacheReplicas",
        "eviction_policy": "cacheEvictionPolicy",
        "reserved_memory_percent": "cacheReservedMemoryPercent",
        "snapshot_retention_days": "cacheSnapshotRetentionDays",
        "snapshot_window": "cacheSnapshotWindow",
        "maintenance_window": "cacheMaintenanceWindow",
        "append_only": "cacheAof",
        "kms_key_arn": "cacheKmsKeyArn",
        "log_retention_days": "logRetentionDays",
        "alarm_topic_arn": "alarmTopicArn",
        "iam_auth": "cacheIamAuth",
        "auth_rotation_days": "cacheAuthRotationDays",
    }
)
MEMCACHED: Final = KeyTable(
    {
        "engine_version": "cacheEngineVersion",
        "node_type": "cacheNodeType",
        "nodes": "cacheMemcachedNodes",
        "maintenance_window": "cacheMaintenanceWindow",
        "alarm_topic_arn": "alarmTopicArn",
    }
)
DATABASE: Final = KeyTable(
    {
        "engine_version": "dbEngineVersion",
        "instance_class": "dbInstanceClass",
        "allocated_storage_gb": "dbAllocatedStorage",
        "max_allocated_storage_gb": "dbMaxAllocatedStorage",
        "multi_az": "dbMultiAz",
        "database_name": "dbName",
        "username": "dbUsername",
        "backup_retention_days": "dbBackupRetentionDays",
        "backup_window": "dbBackupWindow",
        "maintenance_window": "dbMaintenanceWindow",
        "deletion_protection": "deletionProtection",
        "performance_insights": "dbPerformanceInsights",
        "kms_key_arn": "dbKmsKeyArn",
        "log_min_duration_ms": "dbLogMinDurationMs",
        "log_retention_days": "logRetentionDays",
        "alarm_topic_arn": "alarmTopicArn",
        "iam_auth": "dbIamAuth",
        "app_username": "dbAppUsername",
        "monitoring_interval_seconds": "dbMonitoringIntervalSeconds",
    }
)
RETENTION: Final = KeyTable(
    {
        "untagged_days": "ecrUntaggedExpiryDays",
        "release_prefixes": "ecrReleaseTagPrefixes",
        "keep_release": "ecrKeepReleaseImages",
        "keep_any": "ecrKeepImages",
    }
)
REGISTRY_WIDE: Final = KeyTable(
    {
        "scanning": "ecrScanning",
        "scan_filters": "ecrScanFilters",
        "replication_destinations": "ecrReplicationDestinations",
        "replication_filters": "ecrReplicationFilters",
    }
)
REGISTRY: Final = KeyTable(
    {
        "kms_key": "ecrKmsKey",
        "pull_principals": "ecrPullPrincipals",
        "build_cache_tag": "ecrBuildCacheTag",
        # RegistryArgs checks the registry-wide settings against this stack's repositories and region.
        "scan_filters": "ecrScanFilters",
        "replication_destinations": "ecrReplicationDestinations",
        **{f"registry_settings.{name}": key for name, key in REGISTRY_WIDE.keys.items()},
        # Replicated repositories get the source's settings (issue 16).
        "replica_settings": "ecrReplicaSettings",
        "replica_kms_key_arns": "ecrReplicaKmsKeys",
    },
    derived=frozenset({"replica_kms_key_arns"}),
)
IMAGE: Final = KeyTable({"platform": "imagePlatform", "tag": "imageTag", "cache_tag": "ecrBuildCacheTag"})
LOAD_BALANCER: Final = KeyTable(
    {
        "ingress_cidrs": "albIngressCidrs",
        "ssl_policy": "albSslPolicy",
        "deletion_protection": "deletionProtection",
        "access_logs": "albAccessLogs",
        "access_log_expiration_days": "logRetentionDays",
    }
)
CAPACITY: Final = KeyTable(
    {"base_tasks": "fargateBaseTasks", "on_demand_weight": "fargateWeight", "spot_weight": "fargateSpotWeight"}
)
ECS_CLUSTER: Final = KeyTable(
    {
        "container_insights": "containerInsights",
        "log_retention_days": "logRetentionDays",
    }
)


def task_size_keys(role: str) -> KeyTable:
    """``apiCpu``/``apiMemory`` for the api service, ``opsCpu``/``opsMemory`` for ops."""
    return KeyTable({"cpu": f"{role}Cpu", "memory": f"{role}Memory"})


def autoscaling_keys(role: str) -> KeyTable:
    return KeyTable(
        {
            "min_capacity": f"{role}MinTasks",
            "max_capacity": f"{role}MaxTasks",
            "cpu_target_percent": "scalingCpuTargetPercent",
            "memory_target_percent": "scalingMemoryTargetPercent",
            "requests_per_target": "scalingRequestsPerTarget",
        }
    )


STATIC_IPS: Final = KeyTable({"ingress_cidrs": "nlbIngressCidrs"})
GENEVE_HEALTH_CHECK: Final = KeyTable(
    {"protocol": "gwlbHealthCheckProtocol", "port": "gwlbHealthCheckPort", "path": "gwlbHealthCheckPath"}
)
TARGET_FAILOVER: Final = KeyTable({"on_deregistration": "gwlbTargetFailover", "on_unhealthy": "gwlbTargetFailover"})
APPLIANCE_FLEET: Final = KeyTable(
    {
        "ami_id": "gwlbApplianceAmiId",
        "instance_type": "gwlbApplianceInstanceType",
        "min_size": "gwlbApplianceMinSize",
        "max_size": "gwlbApplianceMaxSize",
        "root_device_name": "gwlbApplianceRootDevice",
    }
)
REGISTERED_APPLIANCES: Final = KeyTable({"ip_addresses": "gwlbApplianceIps"})
INSPECTION_VPC: Final = KeyTable(
    {
        "cidr_block": "gwlbInspectionVpcCidr",
        "az_count": "azCount",
        "nat_gateways": "natGateways",
        "flow_logs": "flowLogs",
        "log_retention_days": "logRetentionDays",
    }
)
INSPECTION: Final = KeyTable(
    {
        "allowed_principals": "gwlbAllowedPrincipals",
        "deletion_protection": "deletionProtection",
        "appliances.ip_addresses": "gwlbApplianceIps",
        **{f"vpc.{name}": key for name, key in INSPECTION_VPC.keys.items()},
    }
)

# -- the edge (issue 16): certificate and DNS, WAF, alarms and rollback, dashboard ------------------
EDGE: Final = KeyTable(
    {
        "domain_name": "domainName",
        "nlb_host_name": "nlbHostName",
        "ops_allowed_cidrs": "opsAllowedCidrs",
        "key_algorithm": "certificateKeyAlgorithm",
    }
)
CERTIFICATE: Final = KeyTable(
    {
        "existing_arn": "certificateArn",
        "key_algorithm": "certificateKeyAlgorithm",
        "domain_names": "domainName",
        # "zone": the key the zone was given by (hostedZoneId or hostedZoneName), added per stack.
    },
    derived=frozenset({"domain_names", "zone"}),
)
WAF: Final = KeyTable(
    {
        "mode": "wafMode",
        "rate_limit": "wafRateLimit",
        "rate_window_seconds": "wafRateWindowSeconds",
        "overrides": "wafRuleOverrides",
        "log_filter": "wafLogFilter",
        "log_retention_days": "logRetentionDays",
    },
    derived=frozenset({"overrides"}),
)
ALARMS: Final = KeyTable(
    {
        "target_5xx_percent": "alarmTarget5xxPercent",
        "elb_5xx_percent": "alarmElb5xxPercent",
        "min_requests": "alarmMinRequestsPerMinute",
        "p99_latency_ms": "alarmP99LatencyMs",
        "unhealthy_hosts": "alarmUnhealthyHosts",
        "evaluation_minutes": "alarmEvaluationMinutes",
        "task_shortfall_minutes": "alarmTaskShortfallMinutes",
    }
)


# --------------------------------------------------------------------------------------------------
# The settings of a stack
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class ServiceSettings:
    """One Fargate service's size and scaling, as its component takes them."""

    size: TaskSize
    autoscaling: AutoScaling


@dataclass(frozen=True, kw_only=True)
class EdgeSettings:
    """The edge: names, certificate, web ACL and alarms (issue 16)."""

    domain_name: str | None
    """The services answer on ``<role>.<domain>``; None routes by path only."""
    zone: HostedZone | None
    """The public zone the stack writes validation and alias records to; None writes no DNS."""
    certificate: CertificateArgs | None
    """The HTTPS listener's certificate (requested in ``zone``, or an existing ARN); None: HTTP only."""
    hosts: Mapping[str, str]
    """Host name by key: each service role (``api``, ``ops``) to the ALB, and ``STATIC_IP_HOST`` to the
    static-IP NLB when there is one; empty without a domain."""
    waf: WafSpec | None
    """The web ACL in front of the ALB; None when ``wafEnabled`` is false."""
    alarms: AlarmThresholds
    alarm_topic_arn: str | None
    deployment_alarms: bool
    """Whether each service's deployment rolls back on its alarms (beside the circuit breaker)."""
    dashboard: bool


STATIC_IP_HOST: Final = "static-ip"
"""``EdgeSettings.hosts`` key of the name that resolves to the static-IP NLB."""


@dataclass(frozen=True, kw_only=True)
class StackSettings:
    """Everything the program needs to know about this stack: the components' validated specs."""

    project: str
    stack: str
    environment: Environment
    deletion_protection: bool
    log_retention_days: int
    network: NetworkSpec
    cache: CacheSpec | MemcachedSpec
    database: DatabaseSpec
    registry: RegistryArgs
    image: ImageBuild
    load_balancer: LoadBalancerSpec
    edge: EdgeSettings
    ops_allowed_cidrs: tuple[str, ...]
    cluster: EcsClusterSpec
    services: Mapping[str, ServiceSettings]
    """``api`` and ``ops``."""
    ecs_exec: bool
    log_level: LogLevel
    static_ip_ingress_cidrs: tuple[str, ...] | None
    """Client ranges of the static-IP NLB in front of the ALB; None when ``nlbEnabled`` is false."""
    inspection: InspectionSpec | None
    """GWLB inspection of the app VPC's internet traffic; None when ``gwlbEnabled`` is false."""
    customer_managed_keys: bool
    """``customerManagedKeys``: the stack creates its DataKeys and encrypts every log group, data store
    and secret with them."""
    default_tags: Mapping[str, str] = field(default_factory=dict)
    """``aws:defaultTags`` from the stack file: the provider applies them to every taggable resource;
    the program passes them on only where AWS does not (instances launched by Auto Scaling)."""

    @property
    def is_prod(self) -> bool:
        return self.environment == "prod"


def physical_id(project: str, stack: str, max_length: int) -> str:
    """``<project>-<stack>`` as AWS identifiers want it: lowercase letters, digits, single hyphens."""
    text = re.sub(r"[^a-z0-9]+", "-", f"{project}-{stack}".lower()).strip("-")
    return text[:max_length].rstrip("-")


@dataclass(frozen=True)
class _Stack:
    """What every section reads: who this stack is and its tier."""

    project: str
    stack: str
    environment: Environment
    deletion_protection: bool
    log_retention_days: int
    context: AwsContext

    @property
    def prod(self) -> bool:
        return self.environment == "prod"

    def physical_id(self, max_length: int) -> str:
        return physical_id(self.project, self.stack, max_length)


def _network(read: ConfigReader) -> NetworkSpec:
    vpc_id = read.optional("existingVpcId")
    subnets = {key: read.value(key) for key in list(ADOPTED_VPC.keys.values())[1:]}
    adopt = None
    if vpc_id is None:
        for key, ids in subnets.items():
            if ids:
                raise read.error(key, list(ids), "empty unless existingVpcId is set")
    else:
        adopt = ADOPTED_VPC.build(AdoptedVpc, read, vpc_id=vpc_id)
    return NETWORK.build(NetworkSpec, read, adopt=adopt)


def _cache(read: ConfigReader, tier: _Stack) -> CacheSpec | MemcachedSpec:
    engine = read.value("cacheEngine")
    one_of_key(read, "cacheEngine", engine, get_args(CacheEngineName))
    identifier = tier.physical_id(40)
    if engine == "memcached":
        # Keys that only mean something for Valkey/Redis: refused when set to an explicit intent,
        # otherwise ignored (replicas and snapshot retention keep their Valkey/Redis defaults).
        for key, neutral, allowed in (
            ("cacheClusterMode", False, "false with cacheEngine=memcached (Memcached shards on the client)"),
            ("cacheShards", 1, "1 with cacheEngine=memcached (use cacheMemcachedNodes)"),
            ("cacheAof", False, "false with cacheEngine=memcached (Memcached keeps nothing on disk)"),
        ):
            if read.value(key) != neutral:
                raise read.error(key, read.value(key), allowed)
        nodes = read.value("cacheMemcachedNodes")
        if tier.prod and nodes < 2:
            raise read.error("cacheMemcachedNodes", nodes, "at least 2 with environment=prod (nodes spread across AZs)")
        return MEMCACHED.build(
            MemcachedSpec,
            read,
            identifier=identifier,
            protect=tier.deletion_protection,
            apply_immediately=not tier.prod,
        )
    spec = CACHE.build(
        CacheSpec,
        read,
        identifier=identifier,
        final_snapshot=tier.deletion_protection,
        protect=tier.deletion_protection,
        apply_immediately=not tier.prod,
    )
    if tier.prod and spec.replicas < 1:
        raise read.error(
            "cacheReplicas",
            spec.replicas,
            "at least 1 with environment=prod (Multi-AZ automatic failover needs a replica to promote)",
        )
    if tier.prod and spec.snapshot_retention_days < 1:
        raise read.error("cacheSnapshotRetentionDays", spec.snapshot_retention_days, "1 to 35 with environment=prod")
    return spec


def _database(read: ConfigReader, tier: _Stack) -> DatabaseSpec:
    spec = DATABASE.build(DatabaseSpec, read, identifier=tier.physical_id(63), apply_immediately=not tier.prod)
    if tier.prod:
        for key, ok, allowed in (
            ("dbMultiAz", spec.multi_az, "true with environment=prod (a standby in another AZ)"),
            ("dbBackupRetentionDays", spec.backup_retention_days >= 7, "7 to 35 with environment=prod"),
            ("dbPerformanceInsights", spec.performance_insights, "true with environment=prod"),
        ):
            if not ok:
                raise read.error(key, read.value(key), allowed)
    return spec


def _registry(read: ConfigReader, tier: _Stack) -> RegistryArgs:
    owner = read.value("ecrRegistrySettingsOwner")
    destinations = tuple(
        _parsed(read, "ecrReplicationDestinations", ReplicationDestination.parse, value)
        for value in read.value("ecrReplicationDestinations")
    )
    # Built (so validated) whether or not this stack owns them: a typo is an error either way.
    wide = REGISTRY_WIDE.build(
        RegistryWideSettings,
        read,
        # Default: the whole project namespace, so the stacks that do not own the settings are covered.
        scan_filters=read.value("ecrScanFilters") or (f"{tier.project}/*",),
        replication_destinations=destinations,
        replication_filters=read.value("ecrReplicationFilters") or ((f"{tier.project}/",) if destinations else ()),
    )
    if not owner and destinations:
        raise read.error(
            "ecrReplicationDestinations",
            list(read.value("ecrReplicationDestinations")),
            "empty unless ecrRegistrySettingsOwner is true (one replication configuration per registry)",
        )
    retention = RETENTION.build(RetentionPolicy, read)
    replica_keys = dict(
        _parsed(read, "ecrReplicaKmsKeys", parse_replica_key, value) for value in read.value("ecrReplicaKmsKeys")
    )
    return REGISTRY.build(
        RegistryArgs,
        read,
        context=tier.context,
        namespace=tier.project,
        stack=tier.stack,
        repositories=("app",),
        lifecycle_rules=retention.rules,
        force_delete=not tier.deletion_protection,
        registry_settings=wide if owner else None,
        replica_kms_key_arns=replica_keys,
    )


def _parsed(read: ConfigReader, key: str, parse: Callable[[str], SpecT], value: str) -> SpecT:
    try:
        return parse(value)
    except InputError as error:
        raise read.error(key, value, error.allowed) from None


def one_of_key(read: ConfigReader, key: str, value: object, options: tuple[object, ...]) -> None:
    """A config key whose allowed values no component owns (it picks between components)."""
    try:
        one_of(key, value, options)
    except InputError as error:
        raise read.error(key, value, error.allowed) from None


def _edge(read: ConfigReader, tier: _Stack, roles: Collection[str]) -> tuple[EdgeSettings, tuple[str, ...]]:
    """Names, certificate, web ACL and alarms; and the ops routes' client ranges."""
    domain = read.optional("domainName")
    if domain is not None:
        EDGE.check(read, lambda: check_domain_name("domain_name", domain))
    zone = _zone(read)
    if zone is not None:
        if domain is None:
            raise read.error(
                "domainName",
                "",
                f"a domain in the hosted zone {zone.name}: the service hosts (api.<domain>, ops.<domain>) get "
                "their certificate and alias records there",
            )
        EDGE.check(read, lambda: zone.require_contains("domain_name", domain))

    hosts = {role: f"{role}.{domain}" for role in roles} if domain else {}
    label = read.optional("nlbHostName")
    if label is not None:
        EDGE.check(read, lambda: check_host_label("nlb_host_name", label))
        if label in roles:
            raise read.error("nlbHostName", label, f"a label other than the services' own ({', '.join(roles)})")
    if domain and label and read.value("nlbEnabled"):
        hosts[STATIC_IP_HOST] = f"{label}.{domain}"

    existing = read.optional("certificateArn")
    certificate = None
    if zone is not None or existing is not None:
        zone_key = "hostedZoneId" if read.optional("hostedZoneId") else "hostedZoneName"
        table = KeyTable({**CERTIFICATE.keys, "zone": zone_key}, derived=CERTIFICATE.derived)
        certificate = table.build(
            CertificateArgs,
            read,
            context=tier.context,
            zone=zone,
            # With an existing certificate its names are fixed; the stack requests one for its hosts.
            domain_names=tuple(hosts.values()) if zone is not None else (),
        )
    if certificate is None:
        # Checked though unused (HTTP only): a typo is an error either way. CertificateArgs checks it
        # when there is a certificate.
        algorithm = read.value("certificateKeyAlgorithm")
        EDGE.check(read, lambda: one_of("key_algorithm", algorithm, KEY_ALGORITHMS))
    if certificate is None and tier.prod:
        raise read.error(
            "hostedZoneName",
            "",
            "a public hosted zone holding domainName (the stack requests and DNS-validates the certificate), "
            "or hostedZoneId, or an existing certificateArn: prod serves HTTPS only (HTTP redirects)",
        )

    ops_cidrs = read.value("opsAllowedCidrs")
    EDGE.check(read, lambda: check_cidrs("ops_allowed_cidrs", ops_cidrs, at_least_one=False))

    overrides = tuple(
        _parsed(read, "wafRuleOverrides", RuleOverride.parse, value) for value in read.value("wafRuleOverrides")
    )
    # Validated whether or not it is on: a typo is an error either way.
    waf = WAF.build(WafSpec, read, overrides=overrides)
    enabled = read.value("wafEnabled")
    if tier.prod and not enabled:
        raise read.error(
            "wafEnabled", False, "true with environment=prod (the alb-waf-association guardrail is mandatory there)"
        )
    edge = EdgeSettings(
        domain_name=domain,
        zone=zone,
        certificate=certificate,
        hosts=hosts,
        waf=waf if enabled else None,
        alarms=ALARMS.build(AlarmThresholds, read),
        alarm_topic_arn=read.optional("alarmTopicArn"),
        deployment_alarms=read.value("deploymentAlarms"),
        dashboard=read.value("dashboard"),
    )
    return edge, ops_cidrs


def _zone(read: ConfigReader) -> HostedZone | None:
    """The public hosted zone ``hostedZoneId`` or ``hostedZoneName`` names, asked of Route 53 now (a
    synchronous invoke: which records exist is decided from its plain ID and name)."""
    zone_id, name = read.optional("hostedZoneId"), read.optional("hostedZoneName")
    if zone_id is None and name is None:
        return None
    key, value = ("hostedZoneId", zone_id) if zone_id is not None else ("hostedZoneName", name)
    table = KeyTable({"zone": key, "zone.zone_id": "hostedZoneId", "zone.name": "hostedZoneName"})
    try:
        return HostedZone.lookup(zone_id=zone_id, name=name)
    except InputError as error:
        raise table.config_error(read, error) from None
    except Exception as error:
        raise read.error(key, value, f"a public hosted zone of this account (Route 53: {error})") from None


def _services(read: ConfigReader) -> dict[str, ServiceSettings]:
    return {
        role: ServiceSettings(
            size=task_size_keys(role).build(TaskSize, read),
            autoscaling=autoscaling_keys(role).build(AutoScaling, read),
        )
        for role in ("api", "ops")
    }


def _static_ips(read: ConfigReader) -> tuple[str, ...] | None:
    cidrs = read.value("nlbIngressCidrs")
    if not read.value("nlbEnabled"):
        if cidrs:
            STATIC_IPS.check(read, lambda: check_ingress_cidrs("ingress_cidrs", cidrs))
        return None
    STATIC_IPS.check(read, lambda: check_ingress_cidrs("ingress_cidrs", cidrs))
    return tuple(cidrs)


def _inspection(read: ConfigReader, tier: _Stack, app_vpc: NetworkSpec) -> InspectionSpec | None:
    enabled = read.value("gwlbEnabled")
    # The parts that do not need appliances are validated even when inspection is off.
    vpc = INSPECTION_VPC.build(
        NetworkSpec,
        read,
        az_count=app_vpc.az_count,  # a GWLB node in every AZ the app uses
        nat_gateways=app_vpc.nat_gateways,  # appliances fetch signatures and licences
        vpc_endpoints=False,
        flow_logs=app_vpc.flow_logs,
        log_retention_days=app_vpc.log_retention_days,
    )
    if _overlaps(vpc.cidr_block, app_vpc.cidr_block):
        raise read.error("gwlbInspectionVpcCidr", vpc.cidr_block, f"a range apart from vpcCidr ({app_vpc.cidr_block})")
    health_check = GENEVE_HEALTH_CHECK.build(GeneveHealthCheck, read)
    failover = TARGET_FAILOVER.build(TargetFailover, read)
    principals = read.value("gwlbAllowedPrincipals")
    INSPECTION.check(read, lambda: check_allowed_principals("allowed_principals", principals))
    if not enabled:
        return None
    if app_vpc.adopt is not None:
        raise read.error(
            "gwlbEnabled",
            True,
            "false with existingVpcId: inspection re-routes the public subnets, whose routes an adopted VPC keeps",
        )
    ami, ips = read.optional("gwlbApplianceAmiId"), read.value("gwlbApplianceIps")
    if (ami is None) == (not ips):
        raise read.error(
            "gwlbApplianceAmiId",
            ami or "",
            "exactly one of gwlbApplianceAmiId (an Auto Scaling group of appliances) and gwlbApplianceIps "
            "(appliances registered by IP) when gwlbEnabled is true",
        )
    appliances: ApplianceFleet | RegisteredAppliances = (
        APPLIANCE_FLEET.build(ApplianceFleet, read)
        if ami is not None
        else REGISTERED_APPLIANCES.build(RegisteredAppliances, read)
    )
    return INSPECTION.build(
        InspectionSpec,
        read,
        vpc=vpc,
        appliances=appliances,
        health_check=health_check,
        target_failover=failover,
    )


# --------------------------------------------------------------------------------------------------
# Data protection: the stack's own keys (docs/keys.md)
# --------------------------------------------------------------------------------------------------
def _customer_managed_keys(read: ConfigReader, tier: _Stack) -> bool:
    """Whether the stack creates its keys. Rules across sections: the keys decide the data stores'
    encryption, so a key ARN given by hand would contradict them; prod always has them, because
    turning them on later replaces the database and the cache."""
    enabled: bool = read.value("customerManagedKeys")
    if enabled:
        for key, store in (("cacheKmsKeyArn", "cache"), ("dbKmsKeyArn", "database")):
            if read.optional(key) is not None:
                raise read.error(
                    key,
                    read.value(key),
                    f"empty when customerManagedKeys is true (the stack's data key encrypts the {store})",
                )
    elif tier.prod:
        raise read.error(
            "customerManagedKeys",
            False,
            "true with environment=prod (set before the first deployment: changing it later replaces the "
            "database and the cache)",
        )
    return enabled


def _overlaps(a: str, b: str) -> bool:
    return ipaddress.IPv4Network(a).overlaps(ipaddress.IPv4Network(b))


def stack_placeholders(read: ConfigReader) -> list[Placeholder]:
    """The project keys whose values are examples only (documentation domains, ranges, account)."""
    declared = declared_config()
    return find_placeholders(
        (key, read.value(key)) for key, decl in declared.items() if decl.get("type") in ("string", "array")
    )


def refuse_placeholders(read: ConfigReader) -> None:
    """Against a real engine (``pulumi preview`` and ``pulumi up``), refuse example-only values, naming
    the key, the value and why; under the mock runtime (the offline plan, tests) they are allowed, and
    the offline plan lists them. See stack/placeholders.py for how the two are told apart."""
    if running_under_mocks():
        return
    found = stack_placeholders(read)
    if not found:
        return
    first, others = found[0], found[1:]
    also = sorted({p.key for p in others} - {first.key})
    allowed = [
        f"a value of your own ({first.why})",
        "replace the stack file's example values before the first `pulumi up`",
    ]
    if also:
        allowed[-1] += f" (examples also in: {', '.join(also)})"
    raise read.error(first.key, first.value, "; ".join(allowed))


def load_settings(context: AwsContext, config: pulumi.Config | None = None) -> StackSettings:
    """Read every project key into the components' specs; raises ConfigError before anything is registered."""
    config = config or pulumi.Config()
    reject_undeclared_keys(config)
    read = ConfigReader(config)
    refuse_placeholders(read)
    environment = read.value("environment")
    one_of_key(read, "environment", environment, get_args(Environment))
    deletion_protection = read.value("deletionProtection")
    tier = _Stack(
        project=pulumi.get_project(),
        stack=pulumi.get_stack(),
        environment=environment,
        deletion_protection=deletion_protection,
        log_retention_days=read.value("logRetentionDays"),
        context=context,
    )
    network = _network(read)
    cache_spec = _cache(read, tier)
    database = _database(read, tier)
    registry = _registry(read, tier)
    image = IMAGE.build(
        ImageBuild,
        read,
        context=APP_DIR,
        tag=read.optional("imageTag"),
        cache_tag=registry.build_cache_tag,
    )
    load_balancer = LOAD_BALANCER.build(LoadBalancerSpec, read)
    cluster = ECS_CLUSTER.build(
        EcsClusterSpec,
        read,
        cluster_name=tier.physical_id(255),
        namespace_name=f"{tier.physical_id(60)}.internal",
        capacity_provider_strategy=CAPACITY.build(FargateCapacity, read).strategy,
    )
    services = _services(read)
    edge, ops_cidrs = _edge(read, tier, list(services))
    log_level = read.value("logLevel")
    one_of_key(read, "logLevel", log_level, get_args(LogLevel))
    static_ips = _static_ips(read)
    inspection = _inspection(read, tier, network)
    customer_managed_keys = _customer_managed_keys(read, tier)
    return StackSettings(
        project=tier.project,
        stack=tier.stack,
        environment=environment,
        deletion_protection=deletion_protection,
        log_retention_days=tier.log_retention_days,
        network=network,
        cache=cache_spec,
        database=database,
        registry=registry,
        image=image,
        load_balancer=load_balancer,
        edge=edge,
        ops_allowed_cidrs=ops_cidrs,
        cluster=cluster,
        services=services,
        ecs_exec=read.value("ecsExec"),
        log_level=log_level,
        static_ip_ingress_cidrs=static_ips,
        inspection=inspection,
        customer_managed_keys=customer_managed_keys,
        default_tags=_read_default_tags(),
    )


def _read_default_tags() -> dict[str, str]:
    value = pulumi.Config("aws").get_object("defaultTags") or {}
    tags = value.get("tags", {}) if isinstance(value, dict) else {}
    if not isinstance(tags, dict) or not all(isinstance(v, str) for v in tags.values()):
        raise ConfigError("aws:defaultTags", value, 'an object {"tags": {"Key": "value", ...}}')
    return {str(k): v for k, v in tags.items()}
