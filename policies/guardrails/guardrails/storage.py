"""DynamoDB tables, EFS file systems and AWS Backup vaults: recoverable, and encrypted under keys of our own."""

from __future__ import annotations

from collections.abc import Sequence

from pulumi_policy import EnforcementLevel, ResourceValidationArgs, ResourceValidationPolicy, Severity

from . import resource_types as t
from .props import as_mapping, is_set
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


def _backup_vault_cmk(args: ResourceValidationArgs, report: Report) -> None:
    # Without kmsKeyArn, AWS Backup encrypts the vault's recovery points with the AWS managed key
    # aws/backup, whose policy the account's principals share.
    if not is_set(args.props, "kmsKeyArn") or str(args.props["kmsKeyArn"]).endswith("alias/aws/backup"):
        report("kmsKeyArn does not name a customer-managed key: the vault uses the AWS managed key aws/backup.")


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
        resource_policy(
            name="backup-vault-cmk",
            description="AWS Backup vaults encrypt recovery points with a customer-managed KMS key.",
            types=[t.BACKUP_VAULT],
            check=_backup_vault_cmk,
            enforcement=advisory,
            severity=Severity.MEDIUM,
            remediation="kmsKeyArn=<a customer-managed key ARN> (set at creation; changing it replaces the vault).",
        ),
    ]
