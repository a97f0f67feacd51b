"""DynamoDB tables and EFS file systems: recoverable and encrypted."""

from __future__ import annotations

from collections.abc import Sequence

from pulumi_policy import EnforcementLevel, ResourceValidationArgs, ResourceValidationPolicy, Severity

from . import resource_types as t
from .props import as_mapping
from .rules import Report, resource_policy


def _point_in_time_recovery(args: ResourceValidationArgs, report: Report) -> None:
    if as_mapping(args.props.get("pointInTimeRecovery")).get("enabled") is not True:
        report(
            "pointInTimeRecovery.enabled is not true: a bad write or delete can only be undone from on-demand "
            "backups, if any were taken."
        )


def _efs_encrypted(args: ResourceValidationArgs, report: Report) -> None:
    # Encryption at rest is chosen at creation (CreateFileSystem's Encrypted defaults to false) and
    # cannot be turned on later without a new file system.
    if args.props.get("encrypted") is not True:
        report("encrypted is not true: the file system's data and metadata are stored unencrypted.")


def policies() -> Sequence[ResourceValidationPolicy]:
    advisory = EnforcementLevel.ADVISORY
    return [
        resource_policy(
            name="dynamodb-point-in-time-recovery",
            description="DynamoDB tables have point-in-time recovery.",
            types=[t.DYNAMODB_TABLE],
            check=_point_in_time_recovery,
            enforcement=advisory,
            severity=Severity.MEDIUM,
            remediation="pointInTimeRecovery={'enabled': True} (35 days of continuous backups by default).",
        ),
        resource_policy(
            name="efs-encrypted",
            description="EFS file systems are encrypted at rest.",
            types=[t.EFS_FILE_SYSTEM],
            check=_efs_encrypted,
            enforcement=advisory,
            severity=Severity.HIGH,
            remediation="encrypted=True with kmsKeyId=<a customer-managed key ARN> (set at creation; changing it "
            "replaces the file system).",
        ),
    ]
