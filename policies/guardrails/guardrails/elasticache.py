"""ElastiCache: encrypted in transit and at rest, authenticated, highly available, recoverable."""

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
from .props import as_list, is_set, number
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
            remediation="transitEncryptionEnabled=true (clients connect with TLS).",
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
    ]
