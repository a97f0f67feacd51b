"""RDS: encrypted storage, never publicly reachable, protected from deletion."""

from __future__ import annotations

from collections.abc import Sequence

from pulumi_policy import (
    EnforcementLevel,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from . import resource_types as t
from .props import is_set
from .rules import Report, resource_policy


def _is_replica(args: ResourceValidationArgs) -> bool:
    # A read replica inherits encryption from its source and cannot set storageEncrypted itself.
    return args.resource_type == t.RDS_INSTANCE and is_set(args.props, "replicateSourceDb")


def _storage_encrypted(args: ResourceValidationArgs, report: Report) -> None:
    if _is_replica(args):
        return
    if args.props.get("storageEncrypted") is not True:
        report("storageEncrypted is not true: data, backups and snapshots are stored unencrypted.")


def _not_public(args: ResourceValidationArgs, report: Report) -> None:
    if args.props.get("publiclyAccessible") is True:
        report("publiclyAccessible=true gives the database a public DNS name; keep it in isolated subnets.")


def _deletion_protection(args: ResourceValidationArgs, report: Report) -> None:
    if args.props.get("deletionProtection") is not True:
        report(
            "deletionProtection is not true (config key deletionProtection): a replacement or `pulumi destroy` "
            "deletes the database."
        )


def policies() -> Sequence[ResourceValidationPolicy]:
    advisory = EnforcementLevel.ADVISORY
    return [
        resource_policy(
            name="rds-storage-encrypted",
            description="RDS storage is encrypted.",
            types=[t.RDS_INSTANCE, t.RDS_CLUSTER],
            check=_storage_encrypted,
            enforcement=advisory,
            severity=Severity.HIGH,
            remediation="storageEncrypted=true (set at creation; changing it replaces the database).",
        ),
        resource_policy(
            name="rds-not-public",
            description="RDS databases are not publicly accessible.",
            types=[t.RDS_INSTANCE, t.RDS_CLUSTER_INSTANCE],
            check=_not_public,
            enforcement=advisory,
            severity=Severity.CRITICAL,
            remediation="publiclyAccessible=false, with a subnet group of isolated subnets.",
        ),
        resource_policy(
            name="rds-deletion-protection",
            description="RDS databases have deletion protection.",
            types=[t.RDS_INSTANCE, t.RDS_CLUSTER],
            check=_deletion_protection,
            enforcement=advisory,
            severity=Severity.MEDIUM,
            remediation="deletionProtection=true (the stack's deletionProtection setting).",
        ),
    ]
