"""Stack settings: the one place that reads Pulumi config.

Every project key is declared (type, default, description) in the ``config:`` block of
``Pulumi.yaml``; the Pulumi CLI applies those defaults, and so does the offline plan. This module
turns the raw values into frozen, validated objects *before any resource is registered*, so a typo
or an out-of-range number stops the run with a message that names the key, the value and what is
allowed, and nothing is created or changed.
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Final, Literal, cast, get_args

import pulumi
import yaml

from components.cache import (
    AOF_UNSUPPORTED,
    EVICTION_POLICIES,
    MAX_MEMCACHED_NODES,
    MAX_REPLICAS,
    MAX_SHARDS,
    MAX_SNAPSHOT_RETENTION_DAYS,
    CacheEngine,
    EvictionPolicy,
    UnsupportedVersionError,
    parameter_group_family,
)
from components.cache import ENGINES as CACHE_ENGINES
from components.database import MAX_BACKUP_RETENTION_DAYS, POSTGRES_MAJOR_VERSIONS, RESERVED_USERNAMES, SQL_NAME
from components.fargate_service import FARGATE_MEMORY_BY_CPU, fargate_memory_options
from components.gateway_load_balancer import (
    ApplianceFleet,
    FailoverMode,
    GeneveHealthCheck,
    GwlbSpecError,
    HealthCheckProtocol,
    RegisteredAppliances,
    TargetFailover,
    validate_appliance_ips,
    validate_principals,
)
from components.image import CPU_ARCHITECTURE, Platform
from components.load_balancer import TLS13_POLICIES
from components.registry import (
    SCAN_MODES,
    LifecycleRule,
    RegistrySettingError,
    RegistryWideSettings,
    ReplicationDestination,
    ScanMode,
    check_kms_key,
    check_replication_filter,
    check_scan_filter,
    check_tag,
    default_lifecycle_rules,
    lifecycle_policy_document,
    pull_principal_arn,
    scan_filter_matches,
)
from components.time_windows import overlaps, parse_daily, parse_weekly

PROJECT_FILE: Final = Path(__file__).resolve().parent.parent / "Pulumi.yaml"

Environment = Literal["dev", "staging", "prod"]
NatGatewayMode = Literal["none", "single", "per-az"]

# The retention values CloudWatch Logs accepts (PutRetentionPolicy); anything else is rejected by AWS.
LOG_RETENTION_DAYS: Final = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
    1096, 1827, 2192, 2557, 2922, 3288, 3653,
)  # fmt: skip


class ConfigError(ValueError):
    """A stack setting is missing, of the wrong type, or outside what is allowed."""

    def __init__(self, key: str, value: object, allowed: str) -> None:
        self.key = key
        self.value = value
        self.allowed = allowed
        super().__init__(f"config '{key}' = {value!r} is not valid: {allowed}")


@cache
def declared_config() -> dict[str, dict[str, Any]]:
    """The ``config:`` block of Pulumi.yaml: key -> declaration (type, default, description)."""
    project = yaml.safe_load(PROJECT_FILE.read_text(encoding="utf-8"))
    return dict(project.get("config") or {})


def project_name() -> str:
    return str(yaml.safe_load(PROJECT_FILE.read_text(encoding="utf-8"))["name"])


class ConfigReader:
    """Typed getters over ``pulumi.Config`` whose errors name the fully qualified key.

    Defaults come from Pulumi.yaml (the CLI injects them); a key the file does not declare cannot be
    read, which keeps the documentation and the code in step.
    """

    def __init__(self, config: pulumi.Config | None = None) -> None:
        self._config = config or pulumi.Config()
        self._declared = declared_config()

    def qualified(self, key: str) -> str:
        return self._config.full_key(key)

    def _raw(self, key: str) -> Any:
        if key not in self._declared:
            raise KeyError(f"'{key}' is not declared in the config: block of Pulumi.yaml")
        value = self._config.get(key)
        if value is None:
            return self._declared[key].get("default")
        return value

    def _error(self, key: str, value: object, allowed: str) -> ConfigError:
        return ConfigError(self.qualified(key), value, allowed)

    def string(self, key: str) -> str:
        value = self._raw(key)
        if value is None:
            raise self._error(key, None, "a value is required")
        return str(value)

    def choice(self, key: str, options: Sequence[str]) -> str:
        """A string from a fixed set (pass ``get_args(SomeLiteral)``)."""
        value = self._raw(key)
        if value not in options:
            raise self._error(key, value, "one of " + ", ".join(options))
        return str(value)

    def boolean(self, key: str) -> bool:
        value = self._raw(key)
        if isinstance(value, bool):
            return value
        if str(value).lower() in ("true", "false"):
            return str(value).lower() == "true"
        raise self._error(key, value, "true or false")

    def integer(self, key: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
        value = self._raw(key)
        bounds = f"a whole number from {minimum if minimum is not None else '-inf'} to "
        bounds += f"{maximum if maximum is not None else 'inf'}"
        try:
            number = int(str(value), 10)
        except ValueError:
            raise self._error(key, value, bounds) from None
        if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
            raise self._error(key, value, bounds)
        return number

    def integer_in(self, key: str, allowed: Sequence[int]) -> int:
        value = self._raw(key)
        try:
            number = int(str(value), 10)
        except ValueError:
            number = -1
        if number not in allowed:
            raise self._error(key, value, "one of " + ", ".join(str(a) for a in allowed))
        return number

    def string_list(self, key: str, *, item: Callable[[str], bool] | None = None, what: str = "") -> list[str]:
        value = self._raw(key)
        if isinstance(value, str):
            try:
                value = json.loads(value) if value else []
            except json.JSONDecodeError:
                raise self._error(key, value, "a list of strings") from None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self._error(key, value, "a list of strings")
        if item is not None:
            bad = [v for v in value if not item(v)]
            if bad:
                raise self._error(key, value, f"every item {what} (bad: {', '.join(bad)})")
        return list(value)

    def optional_string(self, key: str) -> str | None:
        value = self._raw(key)
        return str(value) if value not in (None, "") else None


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


def _is_cidr(value: str) -> bool:
    try:
        ipaddress.IPv4Network(value)
    except ValueError:
        return False
    return True


# --------------------------------------------------------------------------------------------------
# Settings objects
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ExistingVpc:
    """An adopted VPC: the program creates no VPC, subnets, gateways or routes."""

    vpc_id: str
    public_subnet_ids: tuple[str, ...]
    private_subnet_ids: tuple[str, ...]
    isolated_subnet_ids: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class NetworkSettings:
    """Shape of the VPC (or of the adopted one)."""

    cidr: str
    az_count: int
    nat_gateways: NatGatewayMode
    vpc_endpoints: bool
    flow_logs: bool
    existing: ExistingVpc | None


@dataclass(frozen=True, kw_only=True)
class CacheSettings:
    """ElastiCache: engine, shape (replicas, shards), eviction, snapshots, windows, encryption key."""

    engine: CacheEngine
    engine_version: str
    node_type: str
    cluster_mode: bool
    shards: int
    replicas: int
    memcached_nodes: int
    eviction_policy: EvictionPolicy
    reserved_memory_percent: int
    snapshot_retention_days: int
    snapshot_window: str
    maintenance_window: str
    kms_key_arn: str | None
    alarm_topic_arn: str | None


@dataclass(frozen=True, kw_only=True)
class DatabaseSettings:
    """RDS PostgreSQL: version, size, availability, backups, windows, encryption key."""

    engine_version: str
    instance_class: str
    allocated_storage_gb: int
    max_allocated_storage_gb: int
    multi_az: bool
    backup_retention_days: int
    backup_window: str
    maintenance_window: str
    database_name: str
    username: str
    performance_insights: bool
    kms_key_arn: str | None
    log_min_duration_ms: int
    alarm_topic_arn: str | None


@dataclass(frozen=True, kw_only=True)
class RegistrySettings:
    """ECR repositories (lifecycle, encryption, pull access), the registry-wide settings when this
    stack owns them, and how the app image is built."""

    registry_wide: RegistryWideSettings | None
    """Scanning and replication, when this stack owns them (ecrRegistrySettingsOwner); else None."""
    kms_key: str
    lifecycle_rules: tuple[LifecycleRule, ...]
    pull_principals: tuple[str, ...]
    build_cache_tag: str | None
    image_platform: Platform
    image_tag: str | None


ContainerInsightsMode = Literal["enhanced", "enabled", "disabled"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


@dataclass(frozen=True, kw_only=True)
class ServiceSize:
    """Task size and auto-scaling bounds of one Fargate service."""

    cpu: int
    memory: int
    min_tasks: int
    max_tasks: int


@dataclass(frozen=True, kw_only=True)
class ComputeSettings:
    """The ALB, the ECS cluster and the two services (catalog API and ops)."""

    domain_name: str | None
    certificate_arn: str | None
    alb_ingress_cidrs: tuple[str, ...]
    alb_ssl_policy: str
    alb_access_logs: bool
    ops_allowed_cidrs: tuple[str, ...]
    container_insights: ContainerInsightsMode
    fargate_base_tasks: int
    fargate_weight: int
    fargate_spot_weight: int
    api: ServiceSize
    ops: ServiceSize
    scaling_cpu_target_percent: int
    scaling_memory_target_percent: int
    scaling_requests_per_target: int
    ecs_exec: bool
    log_level: LogLevel


@dataclass(frozen=True, kw_only=True)
class NlbSettings:
    """The Network Load Balancer with static IPs in front of the ALB."""

    enabled: bool
    ingress_cidrs: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class GwlbSettings:
    """Inspection of the app VPC's internet traffic by appliances behind a Gateway Load Balancer."""

    enabled: bool
    inspection_vpc_cidr: str
    appliances: ApplianceFleet | RegisteredAppliances | None
    """None when disabled."""
    health_check: GeneveHealthCheck
    target_failover: TargetFailover
    allowed_principals: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class StackSettings:
    """Everything the program needs to know about this stack, validated."""

    project: str
    stack: str
    environment: Environment
    log_retention_days: int
    deletion_protection: bool
    network: NetworkSettings
    cache: CacheSettings
    database: DatabaseSettings
    registry: RegistrySettings
    compute: ComputeSettings
    nlb: NlbSettings
    gwlb: GwlbSettings
    default_tags: Mapping[str, str] = field(default_factory=dict)
    """``aws:defaultTags`` from the stack file: the provider applies them to every taggable resource;
    the program passes them on only where AWS does not (instances launched by Auto Scaling)."""

    @property
    def is_prod(self) -> bool:
        return self.environment == "prod"


def _read_network(read: ConfigReader) -> NetworkSettings:
    cidr = read.string("vpcCidr")
    try:
        network = ipaddress.IPv4Network(cidr)
    except ValueError:
        raise ConfigError(read.qualified("vpcCidr"), cidr, "an IPv4 CIDR such as 10.0.0.0/16") from None
    if not 16 <= network.prefixlen <= 22:
        raise ConfigError(read.qualified("vpcCidr"), cidr, "a prefix length from /16 to /22")
    if not network.is_private:
        raise ConfigError(read.qualified("vpcCidr"), cidr, "a private (RFC 1918) range")

    az_count = read.integer("azCount", minimum=2, maximum=6)
    nat_gateways = cast("NatGatewayMode", read.choice("natGateways", get_args(NatGatewayMode)))

    existing_vpc_id = read.optional_string("existingVpcId")
    subnets = {
        key: read.string_list(key, item=lambda s: s.startswith("subnet-"), what="a subnet ID (subnet-...)")
        for key in ("existingPublicSubnetIds", "existingPrivateSubnetIds", "existingIsolatedSubnetIds")
    }
    existing: ExistingVpc | None = None
    if existing_vpc_id is None:
        for key, ids in subnets.items():
            if ids:
                raise ConfigError(read.qualified(key), ids, "empty unless existingVpcId is set")
    else:
        if not existing_vpc_id.startswith("vpc-"):
            raise ConfigError(read.qualified("existingVpcId"), existing_vpc_id, "a VPC ID (vpc-...)")
        for key, ids in subnets.items():
            if len(ids) != az_count:
                raise ConfigError(read.qualified(key), ids, f"exactly azCount ({az_count}) subnet IDs, one per AZ")
        existing = ExistingVpc(
            vpc_id=existing_vpc_id,
            public_subnet_ids=tuple(subnets["existingPublicSubnetIds"]),
            private_subnet_ids=tuple(subnets["existingPrivateSubnetIds"]),
            isolated_subnet_ids=tuple(subnets["existingIsolatedSubnetIds"]),
        )

    return NetworkSettings(
        cidr=cidr,
        az_count=az_count,
        nat_gateways=nat_gateways,
        vpc_endpoints=read.boolean("vpcEndpoints"),
        flow_logs=read.boolean("flowLogs"),
        existing=existing,
    )


_KMS_KEY_ARN: Final = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)/[A-Za-z0-9/_-]+$")
_SNS_TOPIC_ARN: Final = re.compile(r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$")


def _optional_arn(read: ConfigReader, key: str, pattern: re.Pattern[str], what: str) -> str | None:
    value = read.optional_string(key)
    if value is not None and not pattern.match(value):
        raise ConfigError(read.qualified(key), value, f"empty or {what}")
    return value


def _windows(read: ConfigReader, weekly_key: str, daily_key: str, minimum: int, service: str) -> tuple[str, str]:
    """A weekly maintenance window and a daily backup window that are valid and apart."""
    weekly_text, daily_text = read.string(weekly_key), read.string(daily_key)
    try:
        weekly = parse_weekly(weekly_text, minimum_minutes=minimum)
    except ValueError as error:
        raise ConfigError(read.qualified(weekly_key), weekly_text, str(error)) from None
    try:
        daily = parse_daily(daily_text, minimum_minutes=minimum)
    except ValueError as error:
        raise ConfigError(read.qualified(daily_key), daily_text, str(error)) from None
    if overlaps(weekly, daily):
        raise ConfigError(
            read.qualified(weekly_key), weekly_text, f"a window apart from {daily_key} ({daily_text}); {service}"
        )
    return weekly_text, daily_text


def _read_cache(read: ConfigReader) -> CacheSettings:
    prod = read.choice("environment", get_args(Environment)) == "prod"
    if read.boolean("cacheAof"):
        raise ConfigError(read.qualified("cacheAof"), True, f"false. {AOF_UNSUPPORTED}")
    engine = cast("CacheEngine", read.choice("cacheEngine", CACHE_ENGINES))
    version = read.string("cacheEngineVersion")
    try:
        parameter_group_family(engine, version)
    except UnsupportedVersionError as error:
        raise ConfigError(read.qualified("cacheEngineVersion"), version, f"for {engine}: {error.allowed}") from None
    node_type = read.string("cacheNodeType")
    if not node_type.startswith("cache."):
        raise ConfigError(read.qualified("cacheNodeType"), node_type, "an ElastiCache node type (cache.*)")

    cluster_mode = read.boolean("cacheClusterMode")
    shards = read.integer("cacheShards", minimum=1, maximum=MAX_SHARDS)
    replicas = read.integer("cacheReplicas", minimum=0, maximum=MAX_REPLICAS)
    memcached_nodes = read.integer("cacheMemcachedNodes", minimum=1, maximum=MAX_MEMCACHED_NODES)
    retention = read.integer("cacheSnapshotRetentionDays", minimum=0, maximum=MAX_SNAPSHOT_RETENTION_DAYS)
    if engine == "memcached":
        # Keys that only mean something for Valkey/Redis: refused when set to an explicit intent,
        # otherwise ignored (replicas and snapshot retention keep their Valkey/Redis defaults).
        if cluster_mode:
            raise ConfigError(read.qualified("cacheClusterMode"), True, "false with cacheEngine=memcached")
        if shards != 1:
            raise ConfigError(read.qualified("cacheShards"), shards, "1 with cacheEngine=memcached")
        if prod and memcached_nodes < 2:
            raise ConfigError(
                read.qualified("cacheMemcachedNodes"),
                memcached_nodes,
                "at least 2 with environment=prod (nodes spread across AZs)",
            )
        replicas, retention = 0, 0
    else:
        if shards > 1 and not cluster_mode:
            raise ConfigError(read.qualified("cacheShards"), shards, "1 unless cacheClusterMode is true")
        if prod and replicas < 1:
            raise ConfigError(
                read.qualified("cacheReplicas"),
                replicas,
                "at least 1 with environment=prod (Multi-AZ automatic failover needs a replica to promote)",
            )
        if prod and retention < 1:
            raise ConfigError(read.qualified("cacheSnapshotRetentionDays"), retention, "1 to 35 with environment=prod")
    maintenance, snapshots = _windows(
        read, "cacheMaintenanceWindow", "cacheSnapshotWindow", 60, "ElastiCache requires them apart"
    )
    return CacheSettings(
        engine=engine,
        engine_version=version,
        node_type=node_type,
        cluster_mode=cluster_mode,
        shards=shards,
        replicas=replicas,
        memcached_nodes=memcached_nodes,
        eviction_policy=cast("EvictionPolicy", read.choice("cacheEvictionPolicy", EVICTION_POLICIES)),
        reserved_memory_percent=read.integer("cacheReservedMemoryPercent", minimum=0, maximum=100),
        snapshot_retention_days=retention,
        snapshot_window=snapshots,
        maintenance_window=maintenance,
        kms_key_arn=_optional_arn(read, "cacheKmsKeyArn", _KMS_KEY_ARN, "a KMS key or alias ARN"),
        alarm_topic_arn=_optional_arn(read, "alarmTopicArn", _SNS_TOPIC_ARN, "an SNS topic ARN"),
    )


def _read_database(read: ConfigReader) -> DatabaseSettings:
    prod = read.choice("environment", get_args(Environment)) == "prod"
    instance_class = read.string("dbInstanceClass")
    if not instance_class.startswith("db."):
        raise ConfigError(read.qualified("dbInstanceClass"), instance_class, "an RDS instance class (db.*)")
    allocated = read.integer("dbAllocatedStorage", minimum=20, maximum=65536)
    maximum = read.integer("dbMaxAllocatedStorage", minimum=0, maximum=65536)
    if maximum != 0 and maximum <= allocated:
        raise ConfigError(
            read.qualified("dbMaxAllocatedStorage"),
            maximum,
            f"0 (no storage autoscaling) or more than dbAllocatedStorage ({allocated})",
        )
    multi_az = read.boolean("dbMultiAz")
    if prod and not multi_az:
        raise ConfigError(read.qualified("dbMultiAz"), False, "true with environment=prod (a standby in another AZ)")
    retention = read.integer("dbBackupRetentionDays", minimum=1, maximum=MAX_BACKUP_RETENTION_DAYS)
    if prod and retention < 7:
        raise ConfigError(read.qualified("dbBackupRetentionDays"), retention, "7 to 35 with environment=prod")
    insights = read.boolean("dbPerformanceInsights")
    if prod and not insights:
        raise ConfigError(read.qualified("dbPerformanceInsights"), False, "true with environment=prod")
    names = {}
    for key in ("dbName", "dbUsername"):
        names[key] = read.string(key)
        if not SQL_NAME.match(names[key]):
            allowed = "1-63 lowercase letters, digits and underscores, starting with a letter"
            raise ConfigError(read.qualified(key), names[key], allowed)
    if names["dbUsername"] in RESERVED_USERNAMES:
        raise ConfigError(
            read.qualified("dbUsername"), names["dbUsername"], f"not one of {', '.join(sorted(RESERVED_USERNAMES))}"
        )
    maintenance, backups = _windows(read, "dbMaintenanceWindow", "dbBackupWindow", 30, "RDS requires them apart")
    return DatabaseSettings(
        engine_version=read.choice("dbEngineVersion", POSTGRES_MAJOR_VERSIONS),
        instance_class=instance_class,
        allocated_storage_gb=allocated,
        max_allocated_storage_gb=maximum,
        multi_az=multi_az,
        backup_retention_days=retention,
        backup_window=backups,
        maintenance_window=maintenance,
        database_name=names["dbName"],
        username=names["dbUsername"],
        performance_insights=insights,
        kms_key_arn=_optional_arn(read, "dbKmsKeyArn", _KMS_KEY_ARN, "a KMS key or alias ARN"),
        log_min_duration_ms=read.integer("dbLogMinDurationMs", minimum=-1),
        alarm_topic_arn=_optional_arn(read, "alarmTopicArn", _SNS_TOPIC_ARN, "an SNS topic ARN"),
    )


def _read_registry(read: ConfigReader) -> RegistrySettings:
    project, stack = pulumi.get_project(), pulumi.get_stack()

    def checked(key: str, value: str, check: Callable[[str], Any]) -> Any:
        try:
            return check(value)
        except RegistrySettingError as error:
            raise ConfigError(read.qualified(key), value, error.allowed) from None

    owner = read.boolean("ecrRegistrySettingsOwner")
    scanning = cast("ScanMode", read.choice("ecrScanning", tuple(SCAN_MODES)))
    scan_filters = tuple(checked("ecrScanFilters", f, check_scan_filter) for f in read.string_list("ecrScanFilters"))
    destinations = tuple(
        checked("ecrReplicationDestinations", d, ReplicationDestination.parse)
        for d in read.string_list("ecrReplicationDestinations")
    )
    replication_filters = tuple(
        checked("ecrReplicationFilters", f, check_replication_filter) for f in read.string_list("ecrReplicationFilters")
    )
    region = pulumi.Config("aws").get("region")
    for dest in destinations:
        if dest.account_id is None and dest.region == region:
            raise ConfigError(
                read.qualified("ecrReplicationDestinations"),
                dest.region,
                f"a region other than the source registry's ({region}), or another account",
            )
    registry_wide: RegistryWideSettings | None = None
    if owner:
        try:
            registry_wide = RegistryWideSettings(
                scanning=scanning,
                # Default: the whole project namespace, so the stacks that do not own the settings are covered.
                scan_filters=scan_filters or (f"{project}/*",),
                replication_destinations=destinations,
                replication_filters=replication_filters or ((f"{project}/",) if destinations else ()),
            )
        except RegistrySettingError as error:
            key = "ecrReplicationDestinations" if "destination" in error.setting else "ecrReplicationFilters"
            raise ConfigError(read.qualified(key), error.value, error.allowed) from None
        repository = f"{project}/{stack}/app"
        if not any(scan_filter_matches(f, repository) for f in registry_wide.scan_filters):
            raise ConfigError(read.qualified("ecrScanFilters"), list(scan_filters), f"filters that cover {repository}")
    elif destinations:
        raise ConfigError(
            read.qualified("ecrReplicationDestinations"),
            [d.region + (f":{d.account_id}" if d.account_id else "") for d in destinations],
            "empty unless ecrRegistrySettingsOwner is true (one replication configuration per registry)",
        )

    prefixes = read.string_list(
        "ecrReleaseTagPrefixes",
        item=lambda p: re.fullmatch(r"[A-Za-z0-9_.-]{1,128}", p) is not None,
        what="a tag prefix (letters, digits, _ . -)",
    )
    if len(set(prefixes)) != len(prefixes):
        raise ConfigError(read.qualified("ecrReleaseTagPrefixes"), prefixes, "distinct prefixes")
    rules = default_lifecycle_rules(
        untagged_days=read.integer("ecrUntaggedExpiryDays", minimum=1, maximum=3650),
        release_prefixes=prefixes,
        keep_release=read.integer("ecrKeepReleaseImages", minimum=1, maximum=10000),
        keep_any=read.integer("ecrKeepImages", minimum=1, maximum=10000),
    )
    lifecycle_policy_document(rules)  # the whole policy as ECR validates it

    cache_tag = read.optional_string("ecrBuildCacheTag")
    if cache_tag is not None:
        checked("ecrBuildCacheTag", cache_tag, check_tag)
        if cache_tag.startswith("build-") or any(cache_tag.startswith(p) for p in prefixes):
            raise ConfigError(
                read.qualified("ecrBuildCacheTag"), cache_tag, "a tag outside build-* and the release prefixes"
            )
    image_tag = read.optional_string("imageTag")
    if image_tag is not None:
        checked("imageTag", image_tag, check_tag)
        if image_tag == cache_tag:
            raise ConfigError(read.qualified("imageTag"), image_tag, "a tag other than ecrBuildCacheTag")

    principals = tuple(read.string_list("ecrPullPrincipals"))
    for principal in principals:
        checked("ecrPullPrincipals", principal, pull_principal_arn)

    return RegistrySettings(
        registry_wide=registry_wide,
        kms_key=checked("ecrKmsKey", read.string("ecrKmsKey"), check_kms_key),
        lifecycle_rules=rules,
        pull_principals=principals,
        build_cache_tag=cache_tag,
        image_platform=cast("Platform", read.choice("imagePlatform", tuple(CPU_ARCHITECTURE))),
        image_tag=image_tag,
    )


def _is_any_cidr(value: str) -> bool:
    try:
        ipaddress.ip_network(value)
    except ValueError:
        return False
    return True


def _read_service_size(read: ConfigReader, prefix: str) -> ServiceSize:
    cpu = read.integer_in(f"{prefix}Cpu", tuple(FARGATE_MEMORY_BY_CPU))
    memory_key = f"{prefix}Memory"
    memory = read.integer(memory_key, minimum=512)
    allowed = fargate_memory_options(cpu)
    if memory not in allowed:
        raise ConfigError(
            read.qualified(memory_key),
            memory,
            f"a Fargate memory size for {prefix}Cpu={cpu}: one of " + ", ".join(str(m) for m in allowed),
        )
    min_tasks = read.integer(f"{prefix}MinTasks", minimum=1, maximum=5000)
    max_tasks = read.integer(f"{prefix}MaxTasks", minimum=1, maximum=5000)
    if max_tasks < min_tasks:
        raise ConfigError(read.qualified(f"{prefix}MaxTasks"), max_tasks, f"at least {prefix}MinTasks ({min_tasks})")
    return ServiceSize(cpu=cpu, memory=memory, min_tasks=min_tasks, max_tasks=max_tasks)


def _read_compute(read: ConfigReader) -> ComputeSettings:
    environment = read.choice("environment", get_args(Environment))
    domain = read.optional_string("domainName")
    if domain is not None and not re.fullmatch(
        r"(?=.{1,240}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}", domain
    ):
        raise ConfigError(read.qualified("domainName"), domain, "a lowercase DNS name such as example.com")
    certificate = read.optional_string("certificateArn")
    if certificate is not None and not re.fullmatch(
        r"arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[A-Za-z0-9-]+", certificate
    ):
        raise ConfigError(
            read.qualified("certificateArn"),
            certificate,
            "an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>)",
        )
    if certificate is None and environment == "prod":
        raise ConfigError(
            read.qualified("certificateArn"), "", "an ACM certificate ARN: prod serves HTTPS only (HTTP redirects)"
        )
    ssl_policy = read.choice("albSslPolicy", TLS13_POLICIES)
    cidr_what = "a CIDR such as 203.0.113.0/24 or 2001:db8::/32"
    ingress = read.string_list("albIngressCidrs", item=_is_any_cidr, what=cidr_what)
    if not ingress:
        raise ConfigError(read.qualified("albIngressCidrs"), ingress, "at least one CIDR")
    weights = {
        "fargateWeight": read.integer("fargateWeight", minimum=0, maximum=1000),
        "fargateSpotWeight": read.integer("fargateSpotWeight", minimum=0, maximum=1000),
    }
    if not any(weights.values()):
        raise ConfigError(read.qualified("fargateWeight"), 0, "above 0 when fargateSpotWeight is 0 too")
    return ComputeSettings(
        domain_name=domain,
        certificate_arn=certificate,
        alb_ingress_cidrs=tuple(ingress),
        alb_ssl_policy=ssl_policy,
        alb_access_logs=read.boolean("albAccessLogs"),
        ops_allowed_cidrs=tuple(read.string_list("opsAllowedCidrs", item=_is_any_cidr, what=cidr_what)),
        container_insights=cast(
            "ContainerInsightsMode", read.choice("containerInsights", get_args(ContainerInsightsMode))
        ),
        fargate_base_tasks=read.integer("fargateBaseTasks", minimum=0, maximum=100_000),
        fargate_weight=weights["fargateWeight"],
        fargate_spot_weight=weights["fargateSpotWeight"],
        api=_read_service_size(read, "api"),
        ops=_read_service_size(read, "ops"),
        scaling_cpu_target_percent=read.integer("scalingCpuTargetPercent", minimum=10, maximum=95),
        scaling_memory_target_percent=read.integer("scalingMemoryTargetPercent", minimum=10, maximum=95),
        scaling_requests_per_target=read.integer("scalingRequestsPerTarget", minimum=1),
        ecs_exec=read.boolean("ecsExec"),
        log_level=cast("LogLevel", read.choice("logLevel", get_args(LogLevel))),
    )


def _read_nlb(read: ConfigReader) -> NlbSettings:
    cidrs = read.string_list("nlbIngressCidrs", item=_is_cidr, what="an IPv4 CIDR such as 203.0.113.0/24")
    enabled = read.boolean("nlbEnabled")
    if enabled and not cidrs:
        raise ConfigError(read.qualified("nlbIngressCidrs"), cidrs, "at least one CIDR when nlbEnabled is true")
    return NlbSettings(enabled=enabled, ingress_cidrs=tuple(cidrs))


# Which config key feeds each GatewayLoadBalancer setting (GwlbSpecError.setting), so a bad value is
# reported under the key the user wrote.
_GWLB_KEYS: Final = {
    "appliances.ami_id": "gwlbApplianceAmiId",
    "appliances.instance_type": "gwlbApplianceInstanceType",
    "appliances.min_size": "gwlbApplianceMinSize",
    "appliances.desired_capacity": "gwlbApplianceMinSize",
    "appliances.max_size": "gwlbApplianceMaxSize",
    "appliances.root_device_name": "gwlbApplianceRootDevice",
    "appliances.ip_addresses": "gwlbApplianceIps",
    "health_check.protocol": "gwlbHealthCheckProtocol",
    "health_check.port": "gwlbHealthCheckPort",
    "health_check.path": "gwlbHealthCheckPath",
    "target_failover": "gwlbTargetFailover",
    "allowed_principals": "gwlbAllowedPrincipals",
}


def _read_gwlb(read: ConfigReader) -> GwlbSettings:
    enabled = read.boolean("gwlbEnabled")
    cidr = read.string("gwlbInspectionVpcCidr")
    try:
        network = ipaddress.IPv4Network(cidr)
    except ValueError:
        raise ConfigError(read.qualified("gwlbInspectionVpcCidr"), cidr, "an IPv4 CIDR such as 10.255.0.0/22") from None
    if not 16 <= network.prefixlen <= 22 or not network.is_private:
        raise ConfigError(read.qualified("gwlbInspectionVpcCidr"), cidr, "a private (RFC 1918) range, /16 to /22")
    app_cidr = read.string("vpcCidr")
    if network.overlaps(ipaddress.IPv4Network(app_cidr)):
        raise ConfigError(read.qualified("gwlbInspectionVpcCidr"), cidr, f"a range apart from vpcCidr ({app_cidr})")

    ami = read.optional_string("gwlbApplianceAmiId")
    instance_type = read.string("gwlbApplianceInstanceType")
    min_size = read.integer("gwlbApplianceMinSize", minimum=1, maximum=100)
    max_size = read.integer("gwlbApplianceMaxSize", minimum=1, maximum=100)
    root_device = read.string("gwlbApplianceRootDevice")
    ips = read.string_list("gwlbApplianceIps")
    protocol = cast("HealthCheckProtocol", read.choice("gwlbHealthCheckProtocol", ("TCP", "HTTP", "HTTPS")))
    port = read.integer("gwlbHealthCheckPort", minimum=1, maximum=65535)
    path = read.optional_string("gwlbHealthCheckPath")
    failover = cast("FailoverMode", read.choice("gwlbTargetFailover", ("rebalance", "no_rebalance")))
    principals = tuple(read.string_list("gwlbAllowedPrincipals"))
    values: dict[str, object] = {
        "gwlbApplianceAmiId": ami,
        "gwlbApplianceInstanceType": instance_type,
        "gwlbApplianceMinSize": min_size,
        "gwlbApplianceMaxSize": max_size,
        "gwlbApplianceRootDevice": root_device,
        "gwlbApplianceIps": ips,
        "gwlbHealthCheckPath": path,
        "gwlbAllowedPrincipals": list(principals),
    }

    if enabled and read.optional_string("existingVpcId") is not None:
        raise ConfigError(
            read.qualified("gwlbEnabled"),
            True,
            "false with existingVpcId: inspection re-routes the public subnets, whose routes an adopted VPC keeps",
        )
    if enabled and (ami is None) == (not ips):
        raise ConfigError(
            read.qualified("gwlbApplianceAmiId"),
            ami or "",
            "exactly one of gwlbApplianceAmiId (an Auto Scaling group of appliances) and gwlbApplianceIps "
            "(appliances registered by IP) when gwlbEnabled is true",
        )
    appliances: ApplianceFleet | RegisteredAppliances | None = None
    try:
        health_check = GeneveHealthCheck(protocol=protocol, port=port, path=path)
        if enabled and ami is not None:
            appliances = ApplianceFleet(
                ami_id=ami,
                instance_type=instance_type,
                min_size=min_size,
                max_size=max_size,
                root_device_name=root_device,
            )
        elif enabled:
            appliances = RegisteredAppliances(ip_addresses=tuple(ips))
            validate_appliance_ips(ips, cidr)
        validate_principals(principals)
    except GwlbSpecError as error:
        key = next((k for prefix, k in _GWLB_KEYS.items() if error.setting.startswith(prefix)), "gwlbEnabled")
        raise ConfigError(read.qualified(key), values.get(key), str(error)) from None
    return GwlbSettings(
        enabled=enabled,
        inspection_vpc_cidr=cidr,
        appliances=appliances,
        health_check=health_check,
        target_failover=TargetFailover(on_deregistration=failover, on_unhealthy=failover),
        allowed_principals=principals,
    )


def load_settings(config: pulumi.Config | None = None) -> StackSettings:
    """Read and validate every project key; raises ConfigError before anything is registered."""
    config = config or pulumi.Config()
    reject_undeclared_keys(config)
    read = ConfigReader(config)
    return StackSettings(
        project=pulumi.get_project(),
        stack=pulumi.get_stack(),
        environment=cast("Environment", read.choice("environment", get_args(Environment))),
        log_retention_days=read.integer_in("logRetentionDays", LOG_RETENTION_DAYS),
        deletion_protection=read.boolean("deletionProtection"),
        network=_read_network(read),
        cache=_read_cache(read),
        database=_read_database(read),
        registry=_read_registry(read),
        compute=_read_compute(read),
        nlb=_read_nlb(read),
        gwlb=_read_gwlb(read),
        default_tags=_read_default_tags(),
    )


def _read_default_tags() -> dict[str, str]:
    value = pulumi.Config("aws").get_object("defaultTags") or {}
    tags = value.get("tags", {}) if isinstance(value, dict) else {}
    if not isinstance(tags, dict) or not all(isinstance(v, str) for v in tags.values()):
        raise ConfigError("aws:defaultTags", value, 'an object {"tags": {"Key": "value", ...}}')
    return {str(k): v for k, v in tags.items()}
