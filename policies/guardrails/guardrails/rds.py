"""RDS: encrypted (with customer-managed keys), private, protected from deletion, backed up, highly
available, observable (logs, Performance Insights, enhanced monitoring), IAM-authenticated, patched."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationPolicy,
)

from . import resource_types as t
from .props import as_list, is_set, iter_mappings, number
from .rules import Report, StackView, referenced, resource_policy, stack_policy

DEFAULT_MIN_BACKUP_RETENTION_DAYS: Final = 7
MAX_BACKUP_RETENTION_DAYS: Final = 35
# CreateDBInstance's BackupRetentionPeriod default when the request leaves it out.
API_DEFAULT_BACKUP_RETENTION_DAYS: Final = 1
ENHANCED_MONITORING_INTERVALS: Final = frozenset({1, 5, 10, 15, 30, 60})
DATABASES: Final = (t.RDS_INSTANCE, t.RDS_CLUSTER)
INSTANCES: Final = (t.RDS_INSTANCE, t.RDS_CLUSTER_INSTANCE)


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


def _primary(args: ResourceValidationArgs) -> bool:
    """A database that holds its own data settings (not a read replica, not a cluster member)."""
    return args.resource_type in DATABASES and not _is_replica(args)


def _backup_retention(args: ResourceValidationArgs, report: Report) -> None:
    if not _primary(args):
        return
    minimum = number(args.get_config().get("minimumDays")) or DEFAULT_MIN_BACKUP_RETENTION_DAYS
    raw = args.props.get("backupRetentionPeriod", API_DEFAULT_BACKUP_RETENTION_DAYS)
    days = number(raw)
    if days is None or not minimum <= days <= MAX_BACKUP_RETENTION_DAYS:
        report(
            f"backupRetentionPeriod={raw!r}: keep {minimum:g}-{MAX_BACKUP_RETENTION_DAYS} days of automated backups "
            "(point-in-time recovery); 0 turns backups off, and the API default is 1 day."
        )


def _final_snapshot(args: ResourceValidationArgs, report: Report) -> None:
    if not _primary(args):
        return
    if args.props.get("skipFinalSnapshot") is True:
        report("skipFinalSnapshot=true: deleting (or replacing) the database leaves no snapshot to restore from.")
    elif not is_set(args.props, "finalSnapshotIdentifier"):
        report("No finalSnapshotIdentifier: deleting the database fails or, with skipFinalSnapshot, loses the data.")


def _copy_tags(args: ResourceValidationArgs, report: Report) -> None:
    if _primary(args) and args.props.get("copyTagsToSnapshot") is not True:
        report("copyTagsToSnapshot is not true: snapshots lose the tags that say whose data they hold.")


def _multi_az(args: ResourceValidationArgs, report: Report) -> None:
    if args.resource_type == t.RDS_INSTANCE and not _is_replica(args) and args.props.get("multiAz") is not True:
        report("multiAz is not true: an instance or AZ failure takes the database down until it is rebuilt.")


def _iam_auth(args: ResourceValidationArgs, report: Report) -> None:
    if _primary(args) and args.props.get("iamDatabaseAuthenticationEnabled") is not True:
        report(
            "iamDatabaseAuthenticationEnabled is not true: clients can only log in with long-lived passwords "
            "(IAM auth gives 15-minute tokens tied to a role)."
        )


def _enhanced_monitoring(args: ResourceValidationArgs, report: Report) -> None:
    if args.resource_type not in INSTANCES:
        return
    interval = number(args.props.get("monitoringInterval", 0))
    if not interval:
        report("monitoringInterval is 0: no enhanced monitoring (OS-level CPU, memory, I/O and process metrics).")
    elif interval not in ENHANCED_MONITORING_INTERVALS:
        report(f"monitoringInterval={interval:g} is not one of {sorted(ENHANCED_MONITORING_INTERVALS)} seconds.")
    elif not is_set(args.props, "monitoringRoleArn"):
        report("monitoringRoleArn is not set: enhanced monitoring needs a role RDS assumes to publish the metrics.")


def _performance_insights(args: ResourceValidationArgs, report: Report) -> None:
    if args.resource_type in INSTANCES and args.props.get("performanceInsightsEnabled") is not True:
        report("performanceInsightsEnabled is not true: no record of which queries loaded the database.")


def _customer_managed_keys(args: ResourceValidationArgs, report: Report) -> None:
    props = args.props
    missing = []
    if _primary(args) and props.get("storageEncrypted") is True and not is_set(props, "kmsKeyId"):
        missing.append("kmsKeyId (storage, backups, snapshots)")
    insights = args.resource_type in INSTANCES and props.get("performanceInsightsEnabled") is True
    if insights and not is_set(props, "performanceInsightsKmsKeyId"):
        missing.append("performanceInsightsKmsKeyId (Performance Insights, which records query text)")
    if props.get("manageMasterUserPassword") is True and not is_set(props, "masterUserSecretKmsKeyId"):
        missing.append("masterUserSecretKmsKeyId (the RDS-managed master user secret)")
    if missing:
        report("AWS managed keys are used where a customer-managed key is required: " + "; ".join(missing) + ".")


def _log_exports(args: ResourceValidationArgs, report: Report) -> None:
    if _primary(args) and not as_list(args.props.get("enabledCloudwatchLogsExports")):
        report("enabledCloudwatchLogsExports is empty: engine logs (errors, slow queries) stay on the instance.")


def _auto_minor_upgrade(args: ResourceValidationArgs, report: Report) -> None:
    if args.resource_type in INSTANCES and args.props.get("autoMinorVersionUpgrade") is False:
        report("autoMinorVersionUpgrade=false: engine security patches are not applied in the maintenance window.")


def _parameter(group: Any, name: str) -> str | None:
    for parameter in iter_mappings(group.props.get("parameters")):
        if parameter.get("name") == name:
            return str(parameter.get("value"))
    return None


def _postgres_parameters(view: StackView, report: Report, config: Mapping[str, Any]) -> None:
    groups = view.of_type(t.RDS_PARAMETER_GROUP)
    for instance in view.of_type(t.RDS_INSTANCE):
        with view.reading(instance):
            if instance.props.get("engine") != "postgres" or is_set(instance.props, "replicateSourceDb"):
                continue
            attached = [
                g for g in groups if g.urn in referenced(instance, "parameterGroupName", [g], keys=("name", "id"))
            ]
            if not attached:
                report(
                    f"Database {instance.name} uses the default parameter group: queries are not logged "
                    "(log_min_duration_statement) and TLS is not forced before PostgreSQL 15.",
                    instance.urn,
                )
                continue
            for group in attached:
                with view.reading(group):
                    if _parameter(group, "rds.force_ssl") != "1":
                        report(
                            f"Parameter group {group.name} does not set rds.force_ssl=1: clients may connect "
                            "without TLS.",
                            group.urn,
                        )
                    duration = _parameter(group, "log_min_duration_statement")
                    statement = _parameter(group, "log_statement")
                    if (duration is None or duration == "-1") and statement in (None, "none"):
                        report(
                            f"Parameter group {group.name} logs no queries: set log_min_duration_statement (ms) or "
                            "log_statement (ddl, mod).",
                            group.urn,
                        )


def _snapshot_not_public(args: ResourceValidationArgs, report: Report) -> None:
    # ModifyDBSnapshotAttribute/ModifyDBClusterSnapshotAttribute: the restore attribute value "all"
    # makes a manual snapshot restorable by every AWS account.
    if "all" in [str(a).lower() for a in as_list(args.props.get("sharedAccounts"))]:
        report("sharedAccounts includes 'all': every AWS account can copy and restore this snapshot's data.")


def policies() -> Sequence[ResourceValidationPolicy | StackValidationPolicy]:
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
            name="rds-snapshot-not-public",
            description="Manual RDS snapshots (instance and cluster) are not shared with all AWS accounts.",
            types=[t.RDS_SNAPSHOT, t.RDS_CLUSTER_SNAPSHOT],
            check=_snapshot_not_public,
            enforcement=EnforcementLevel.MANDATORY,
            severity=Severity.CRITICAL,
            remediation="Remove 'all' from sharedAccounts; list the account IDs that restore the snapshot.",
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
        resource_policy(
            name="rds-backup-retention",
            description="RDS databases keep automated backups for at least the configured days (default 7).",
            types=DATABASES,
            check=_backup_retention,
            enforcement=advisory,
            severity=Severity.HIGH,
            remediation="backupRetentionPeriod of 7 or more (the stack's dbBackupRetentionDays).",
            config_schema=PolicyConfigSchema(
                properties={
                    "minimumDays": {
                        # "number": defaults travel as protobuf doubles (7 arrives as 7.0).
                        "type": "number",
                        "default": DEFAULT_MIN_BACKUP_RETENTION_DAYS,
                        "minimum": 1,
                        "maximum": MAX_BACKUP_RETENTION_DAYS,
                        "description": "Fewest days of automated backups accepted.",
                    }
                }
            ),
        ),
        resource_policy(
            name="rds-final-snapshot",
            description="Deleting an RDS database takes a final snapshot.",
            types=DATABASES,
            check=_final_snapshot,
            enforcement=advisory,
            severity=Severity.MEDIUM,
            remediation="skipFinalSnapshot=false with a finalSnapshotIdentifier.",
        ),
        resource_policy(
            name="rds-copy-tags-to-snapshot",
            description="RDS copies tags to snapshots.",
            types=DATABASES,
            check=_copy_tags,
            enforcement=advisory,
            severity=Severity.LOW,
            remediation="copyTagsToSnapshot=true",
        ),
        resource_policy(
            name="rds-multi-az",
            description="RDS instances run Multi-AZ.",
            types=[t.RDS_INSTANCE],
            check=_multi_az,
            enforcement=advisory,
            severity=Severity.MEDIUM,
            remediation="multiAz=true (the stack's dbMultiAz setting).",
        ),
        resource_policy(
            name="rds-iam-auth",
            description="RDS databases accept IAM database authentication.",
            types=DATABASES,
            check=_iam_auth,
            enforcement=advisory,
            severity=Severity.MEDIUM,
            remediation="iamDatabaseAuthenticationEnabled=true, a database user with the rds_iam role, and "
            "rds-db:connect for that user on the task role.",
        ),
        resource_policy(
            name="rds-enhanced-monitoring",
            description="RDS instances publish enhanced monitoring metrics.",
            types=INSTANCES,
            check=_enhanced_monitoring,
            enforcement=advisory,
            severity=Severity.LOW,
            remediation="monitoringInterval (1, 5, 10, 15, 30 or 60 s) and a monitoringRoleArn with "
            "AmazonRDSEnhancedMonitoringRole, trusted by monitoring.rds.amazonaws.com.",
        ),
        resource_policy(
            name="rds-performance-insights",
            description="RDS instances have Performance Insights on.",
            types=INSTANCES,
            check=_performance_insights,
            enforcement=advisory,
            severity=Severity.LOW,
            remediation="performanceInsightsEnabled=true (7 days retention is free).",
        ),
        resource_policy(
            name="rds-cmk",
            description="RDS storage, Performance Insights and the managed master secret use customer-managed keys.",
            types=[*DATABASES, t.RDS_CLUSTER_INSTANCE],
            check=_customer_managed_keys,
            enforcement=advisory,
            severity=Severity.MEDIUM,
            remediation="kmsKeyId, performanceInsightsKmsKeyId and masterUserSecretKmsKeyId = customer-managed key "
            "ARNs (set at creation: changing the storage key replaces the database).",
        ),
        resource_policy(
            name="rds-log-exports",
            description="RDS databases export their engine logs to CloudWatch Logs.",
            types=DATABASES,
            check=_log_exports,
            enforcement=advisory,
            severity=Severity.LOW,
            remediation="enabledCloudwatchLogsExports=['postgresql'] (PostgreSQL; engine-specific names otherwise).",
        ),
        resource_policy(
            name="rds-auto-minor-upgrade",
            description="RDS applies minor engine upgrades automatically.",
            types=INSTANCES,
            check=_auto_minor_upgrade,
            enforcement=advisory,
            severity=Severity.LOW,
            remediation="autoMinorVersionUpgrade=true (the default).",
        ),
        stack_policy(
            name="rds-postgres-parameters",
            description="PostgreSQL instances use a parameter group that forces TLS and logs slow queries.",
            check=_postgres_parameters,
            enforcement=advisory,
            severity=Severity.MEDIUM,
            remediation="An aws.rds.ParameterGroup with rds.force_ssl=1 and log_min_duration_statement (ms), passed as "
            "parameterGroupName.",
        ),
    ]
