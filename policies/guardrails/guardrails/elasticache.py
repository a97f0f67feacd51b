"""ElastiCache: encrypted in transit and at rest (with a customer-managed key), authenticated, highly
available, recoverable, patched, in its own subnets."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from pulumi_policy import (
    EnforcementLevel,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from . import resource_types as t
from .props import UnknownValueError, as_list, is_set, number
from .rules import Report, resource_policy

MAX_SNAPSHOT_RETENTION_DAYS: Final = 35
_STANDALONE_REDIS: Final = "a standalone Redis/Valkey cache cluster cannot {what}; use a replication group"


def _kind(args: ResourceValidationArgs) -> str | None:
    """``group``, ``memcached``, ``standalone`` (a Redis/Valkey cluster outside a group), or None (a group member)."""
    if args.resource_type == t.ELASTICACHE_REPLICATION_GROUP:
        return "group"
    if is_set(args.props, "replicationGroupId"):
        return None  # a member: the replication group carries the settings
    return "memcached" if args.props.get("engine") == "memcached" else "standalone"


def _in_transit(args: ResourceValidationArgs, report: Report) -> None:
    if _kind(args) is None:
        return
    if args.props.get("transitEncryptionEnabled") is not True:
        report("transitEncryptionEnabled is not true: cache traffic (and any AUTH token) crosses the VPC in clear.")
    elif str(args.props.get("transitEncryptionMode", "")).lower() == "preferred":
        # `preferred` is the migration step: the cache accepts TLS and plain connections alike.
        report("transitEncryptionMode='preferred' still accepts unencrypted connections; set it to 'required'.")


def _at_rest(args: ResourceValidationArgs, report: Report) -> None:
    kind = _kind(args)
    if kind == "standalone":
        report(_STANDALONE_REDIS.format(what="be encrypted at rest") + ".")
    elif kind == "group" and args.props.get("atRestEncryptionEnabled") is not True:
        report("atRestEncryptionEnabled is not true: snapshots and swap hold the data unencrypted.")


def _auth(args: ResourceValidationArgs, report: Report) -> None:
    kind = _kind(args)
    if kind == "standalone":
        report(_STANDALONE_REDIS.format(what="require AUTH") + ".")
    elif kind == "group":
        # Presence only: the token is a secret, usually unknown until the password resource exists.
        has_token = is_set(args.props, "authToken") or is_set(args.props, "authTokenWo")
        if not has_token and not as_list(args.props.get("userGroupIds")):
            report("Neither an AUTH token (authToken/authTokenWo) nor RBAC user groups (userGroupIds) are set.")


def _replicas(props: Mapping[str, Any]) -> int:
    if is_set(props, "numCacheClusters"):
        return int(number(props["numCacheClusters"]) or 1) - 1
    if is_set(props, "replicasPerNodeGroup"):
        return int(number(props["replicasPerNodeGroup"]) or 0)
    return 0


def _multi_az_failover(args: ResourceValidationArgs, report: Report) -> None:
    kind = _kind(args)
    if kind == "standalone":
        report(_STANDALONE_REDIS.format(what="fail over") + ".")
        return
    if kind != "group":
        return
    props = args.props
    problems = []
    if _replicas(props) < 1:
        problems.append("no replica (numCacheClusters >= 2 or replicasPerNodeGroup >= 1)")
    if props.get("automaticFailoverEnabled") is not True:
        problems.append("automaticFailoverEnabled is not true")
    if props.get("multiAzEnabled") is not True:
        problems.append("multiAzEnabled is not true")
    if problems:
        report("A node or AZ failure loses the cache: " + "; ".join(problems) + ".")


def _snapshot_retention(args: ResourceValidationArgs, report: Report) -> None:
    kind = _kind(args)
    if kind not in ("group", "standalone"):
        return  # memcached has no snapshots
    value = number(args.props.get("snapshotRetentionLimit", 0))
    if value is None or not 1 <= value <= MAX_SNAPSHOT_RETENTION_DAYS:
        report(
            f"snapshotRetentionLimit={args.props.get('snapshotRetentionLimit', 0)!r}"
            " (config key cacheSnapshotRetentionDays): keep 1..35 days of automatic snapshots (0 turns them off)."
        )


def _customer_managed_key(args: ResourceValidationArgs, report: Report) -> None:
    encrypted = _kind(args) == "group" and args.props.get("atRestEncryptionEnabled") is True
    if encrypted and not is_set(args.props, "kmsKeyId"):
        report(
            "kmsKeyId is not set: data at rest (and snapshots) use the AWS-owned ElastiCache key; name a "
            "customer-managed key so its policy and CloudTrail govern who reads the data."
        )


def _auto_minor_upgrade(args: ResourceValidationArgs, report: Report) -> None:
    if _kind(args) is None:
        return
    if args.props.get("autoMinorVersionUpgrade") in (False, "false"):
        report("autoMinorVersionUpgrade=false: engine security patches are not applied in the maintenance window.")


def _known(props: Mapping[str, Any], key: str) -> Any:
    """The value, or None while it is only known after the update (a subnet group's generated name)."""
    try:
        return props[key]
    except UnknownValueError:
        return None


def _subnet_group(args: ResourceValidationArgs, report: Report) -> None:
    if _kind(args) is None:
        return
    if not is_set(args.props, "subnetGroupName"):
        report("subnetGroupName is not set: the cache lands in the default subnet group (the default VPC's subnets).")
    elif _known(args.props, "subnetGroupName") == "default":
        report("subnetGroupName='default' places the cache in the default VPC's subnets; use isolated subnets.")


def policies() -> Sequence[ResourceValidationPolicy]:
    advisory = EnforcementLevel.ADVISORY
    types = [t.ELASTICACHE_REPLICATION_GROUP, t.ELASTICACHE_CLUSTER]
    return [
        resource_policy(
            name="elasticache-encryption-in-transit",
            description="ElastiCache encrypts traffic in transit (TLS).",
            types=types,
            check=_in_transit,
            enforcement=advisory,
            severity=Severity.HIGH,
            remediation="transitEncryptionEnabled=true, and transitEncryptionMode unset or 'required' (clients "
            "connect with TLS).",
        ),
        resource_policy(
            name="elasticache-encryption-at-rest",
            description="ElastiCache replication groups encrypt data at rest.",
            types=types,
            check=_at_rest,
            enforcement=advisory,
            severity=Severity.MEDIUM,
            remediation="atRestEncryptionEnabled=true (optionally kmsKeyId).",
        ),
        resource_policy(
            name="elasticache-auth",
            description="ElastiCache Redis/Valkey requires AUTH or RBAC.",
            types=types,
            check=_auth,
            enforcement=advisory,
            severity=Severity.HIGH,
            remediation="authToken from a Secrets Manager secret (with transit encryption), or userGroupIds.",
        ),
        resource_policy(
            name="elasticache-multi-az-failover",
            description="ElastiCache replication groups have replicas, automatic failover and Multi-AZ.",
            types=types,
            check=_multi_az_failover,
            enforcement=advisory,
            severity=Severity.MEDIUM,
            remediation="numCacheClusters>=2 (or replicasPerNodeGroup>=1), automaticFailoverEnabled=true, "
            "multiAzEnabled=true.",
        ),
        resource_policy(
            name="elasticache-snapshot-retention",
            description="ElastiCache Redis/Valkey keeps automatic snapshots.",
            types=types,
            check=_snapshot_retention,
            enforcement=advisory,
            severity=Severity.LOW,
            remediation="snapshotRetentionLimit between 1 and 35 days.",
        ),
        resource_policy(
            name="elasticache-cmk",
            description="ElastiCache replication groups encrypt at rest with a customer-managed KMS key.",
            types=types,
            check=_customer_managed_key,
            enforcement=advisory,
            severity=Severity.MEDIUM,
            remediation="kmsKeyId=<customer-managed key ARN> (set at creation: changing it replaces the group).",
        ),
        resource_policy(
            name="elasticache-auto-minor-upgrade",
            description="ElastiCache applies minor engine upgrades automatically.",
            types=types,
            check=_auto_minor_upgrade,
            enforcement=advisory,
            severity=Severity.LOW,
            remediation="autoMinorVersionUpgrade=true (the default).",
        ),
        resource_policy(
            name="elasticache-subnet-group",
            description="ElastiCache runs in a subnet group of its own, not the default one.",
            types=types,
            check=_subnet_group,
            enforcement=advisory,
            severity=Severity.MEDIUM,
            remediation="An aws.elasticache.SubnetGroup of isolated subnets, passed as subnetGroupName.",
        ),
    ]
