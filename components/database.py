"""RDS for PostgreSQL in the isolated subnets, its password owned by RDS in Secrets Manager.

The master password never passes through Pulumi: ``manage_master_user_password`` makes RDS generate
it, store it in a Secrets Manager secret (JSON with ``username`` and ``password``) and rotate it. Tasks
receive it as an ECS secret (``<secret arn>:password::``), so it is in neither config, state nor a
task definition. The security group has no rules: each client adds ingress from its own group.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

import pulumi
import pulumi_aws as aws

from components.arns import check_kms_key_arn, check_sns_topic_arn
from components.errors import at_least, in_range, require
from components.log_groups import check_retention
from components.time_windows import check_windows

POSTGRES_PORT: Final = 5432
POSTGRES_MAJOR_VERSIONS: Final = ("14", "15", "16", "17")
"""Majors with RDS standard support; the minor is AWS's default and moves with auto minor upgrades."""
LOG_EXPORTS: Final = ("postgresql", "upgrade")
"""What RDS for PostgreSQL can publish to CloudWatch Logs (the server log and pg_upgrade's)."""
PERFORMANCE_INSIGHTS_RETENTION_DAYS: Final = 7
"""The free retention tier."""
MAX_BACKUP_RETENTION_DAYS: Final = 35
MAX_STORAGE_GB: Final = 65536
"""gp3 storage ceiling per instance (CreateDBInstance AllocatedStorage)."""

_IDENTIFIER: Final = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
SQL_NAME: Final = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
RESERVED_USERNAMES: Final = frozenset({"rdsadmin", "rdsrepladmin"})
"""Names RDS for PostgreSQL keeps for its own administration users."""


@dataclass(frozen=True, kw_only=True)
class DatabaseAlarmThresholds:
    """Where the CloudWatch alarms trip (each must hold for three 5-minute periods)."""

    cpu_percent: float = 80.0
    free_storage_fraction: float = 0.1
    """Alarm when free storage falls below this share of the allocated storage."""


@dataclass(frozen=True, kw_only=True)
class DatabaseSpec:
    """What the instance is: version, size, availability, backups, windows, keys, logs, alarms.

    Plain values only, validated here (the stack settings build this straight from config)."""

    identifier: str
    """DB instance identifier (1-63 lowercase letters, digits, single hyphens; starts with a letter).
    Explicit so the log groups RDS writes to can be created first, with retention."""
    engine_version: str
    """PostgreSQL major version; the parameter group family follows (postgres17)."""
    instance_class: str
    """Instance class, ``db.*``."""
    allocated_storage_gb: int
    """Initial gp3 storage, 20-65536 GiB."""
    max_allocated_storage_gb: int
    """Storage autoscaling ceiling (more than ``allocated_storage_gb``), or 0 for no autoscaling."""
    multi_az: bool
    """A synchronous standby in another AZ with automatic failover."""
    database_name: str
    """Database created with the instance."""
    username: str
    """Master user name (its password is generated and kept by RDS)."""
    backup_retention_days: int
    """Automated backups and point-in-time recovery, 1-35 days."""
    backup_window: str
    """Daily backup window (UTC, at least 30 minutes)."""
    maintenance_window: str
    """Weekly maintenance window (UTC, at least 30 minutes, not overlapping the backup window)."""
    deletion_protection: bool
    """Refuse deletion (RDS) and keep a final snapshot and the automated backups when deleted."""
    performance_insights: bool
    """Performance Insights (Database Insights standard) with the free 7-day retention."""
    kms_key_arn: str | None
    """Customer-managed KMS key for storage, the master user secret and Performance Insights."""
    log_min_duration_ms: int
    """Log statements slower than this (``log_min_duration_statement``); -1 turns it off."""
    log_retention_days: int
    """Retention of the PostgreSQL log groups."""
    alarm_topic_arn: str | None
    """SNS topic for alarm state changes."""
    apply_immediately: bool
    """Apply modifications now instead of in the maintenance window."""
    alarm_thresholds: DatabaseAlarmThresholds = field(default_factory=DatabaseAlarmThresholds)
    """Where the alarms trip."""

    def __post_init__(self) -> None:
        require(
            self.engine_version in POSTGRES_MAJOR_VERSIONS,
            "engine_version",
            self.engine_version,
            f"one of {', '.join(POSTGRES_MAJOR_VERSIONS)} (the major version; RDS picks and upgrades the minor)",
        )
        require(
            len(self.identifier) <= 63 and _IDENTIFIER.match(self.identifier) is not None,
            "identifier",
            self.identifier,
            "1-63 lowercase letters, digits and single hyphens, starting with a letter",
        )
        require(
            self.instance_class.startswith("db."), "instance_class", self.instance_class, "an RDS instance class (db.*)"
        )
        in_range("allocated_storage_gb", self.allocated_storage_gb, 20, MAX_STORAGE_GB, "GiB")
        if self.max_allocated_storage_gb != 0:
            require(
                isinstance(self.max_allocated_storage_gb, int)
                and self.allocated_storage_gb < self.max_allocated_storage_gb <= MAX_STORAGE_GB,
                "max_allocated_storage_gb",
                self.max_allocated_storage_gb,
                f"0 (no storage autoscaling) or more than allocated_storage_gb ({self.allocated_storage_gb}) "
                f"up to {MAX_STORAGE_GB}",
                refers=("allocated_storage_gb",),
            )
        for setting, value in (("database_name", self.database_name), ("username", self.username)):
            require(
                SQL_NAME.match(value) is not None,
                setting,
                value,
                "1-63 lowercase letters, digits and underscores, starting with a letter",
            )
        require(
            self.username not in RESERVED_USERNAMES,
            "username",
            self.username,
            f"not one of {', '.join(sorted(RESERVED_USERNAMES))} (reserved by RDS)",
        )
        in_range("backup_retention_days", self.backup_retention_days, 1, MAX_BACKUP_RETENTION_DAYS)
        at_least("log_min_duration_ms", self.log_min_duration_ms, -1)
        check_windows(
            maintenance_setting="maintenance_window",
            maintenance=self.maintenance_window,
            backup_setting="backup_window",
            backup=self.backup_window,
            minimum_minutes=30,
            service="RDS",
        )
        check_kms_key_arn("kms_key_arn", self.kms_key_arn)
        check_retention("log_retention_days", self.log_retention_days)
        check_sns_topic_arn("alarm_topic_arn", self.alarm_topic_arn)

    @property
    def parameter_group_family(self) -> str:
        return f"postgres{self.engine_version}"


@dataclass(frozen=True, kw_only=True)
class DatabaseArgs:
    """Where the instance lives, and what it is (``spec``)."""

    vpc_id: pulumi.Input[str]
    """VPC of the security group."""
    subnet_ids: Sequence[pulumi.Input[str]]
    """Isolated (data) subnets, at least two AZs (RDS requires it even for a single-AZ instance)."""
    spec: DatabaseSpec

    def __post_init__(self) -> None:
        require(
            len(self.subnet_ids) >= 2,
            "subnet_ids",
            f"{len(self.subnet_ids)} subnets",
            "subnets in at least 2 AZs (RDS requires it even for a single-AZ instance)",
        )


class Database(pulumi.ComponentResource):
    """An RDS PostgreSQL instance with its subnet group, parameter group (TLS forced), security group
    (no rules: clients add theirs), log groups and alarms."""

    security_group_id: pulumi.Output[str]
    """Security group of the instance. It has no rules; each client adds ingress from its own group."""
    port: int
    """5432."""
    endpoint: pulumi.Output[str]
    """Host name of the instance (no port); follows the primary through Multi-AZ failover."""
    database_name: str
    """Database created with the instance."""
    username: str
    """Master user name."""
    secret_arn: pulumi.Output[str]
    """The RDS-managed master user secret (JSON with ``username`` and ``password``)."""
    secret_kms_key_arn: str | None
    """Customer-managed key encrypting that secret; readers need kms:Decrypt on it (None: AWS-managed)."""
    identifier: str
    """DB instance identifier."""
    arn: pulumi.Output[str]
    """ARN of the instance."""
    parameter_group_name: pulumi.Output[str]
    """Name of the custom parameter group."""
    engine_version: str
    """Requested PostgreSQL major version."""

    def __init__(self, name: str, args: DatabaseArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("platform:database:Database", name, None, opts)
        spec = args.spec
        child = pulumi.ResourceOptions(parent=self)
        self.port = POSTGRES_PORT
        self.database_name = spec.database_name
        self.username = spec.username
        self.identifier = spec.identifier
        self.engine_version = spec.engine_version
        self.secret_kms_key_arn = spec.kms_key_arn

        sg = aws.ec2.SecurityGroup(
            f"{name}-sg",
            vpc_id=args.vpc_id,
            description=f"RDS PostgreSQL {spec.identifier}: clients add their own ingress",
            tags={"Name": f"{name}-sg"},
            opts=child,
        )
        self.security_group_id = sg.id

        subnet_group = aws.rds.SubnetGroup(
            f"{name}-subnets",
            subnet_ids=list(args.subnet_ids),
            description=f"Isolated subnets of {spec.identifier}",
            opts=child,
        )
        parameters = [
            # Refuse unencrypted connections (the default from PostgreSQL 15 on; explicit for all).
            aws.rds.ParameterGroupParameterArgs(name="rds.force_ssl", value="1"),
            aws.rds.ParameterGroupParameterArgs(name="log_min_duration_statement", value=str(spec.log_min_duration_ms)),
        ]
        parameter_group = aws.rds.ParameterGroup(
            f"{name}-params",
            family=spec.parameter_group_family,
            description=f"PostgreSQL {spec.engine_version} settings of {spec.identifier}",
            parameters=parameters,
            opts=child,
        )
        self.parameter_group_name = parameter_group.name

        # RDS creates these on first write with no retention (kept forever); creating them first,
        # under the names RDS uses, puts retention on them.
        log_groups = [
            aws.cloudwatch.LogGroup(
                f"{name}-{log}-log",
                name=f"/aws/rds/instance/{spec.identifier}/{log}",
                retention_in_days=spec.log_retention_days,
                opts=child,
            )
            for log in LOG_EXPORTS
        ]

        instance = aws.rds.Instance(
            f"{name}-instance",
            identifier=spec.identifier,
            engine="postgres",
            engine_version=spec.engine_version,
            instance_class=spec.instance_class,
            port=POSTGRES_PORT,
            db_name=spec.database_name,
            username=spec.username,
            manage_master_user_password=True,
            master_user_secret_kms_key_id=spec.kms_key_arn,
            storage_type="gp3",
            allocated_storage=spec.allocated_storage_gb,
            max_allocated_storage=spec.max_allocated_storage_gb,
            storage_encrypted=True,
            kms_key_id=spec.kms_key_arn,
            db_subnet_group_name=subnet_group.name,
            vpc_security_group_ids=[sg.id],
            publicly_accessible=False,
            multi_az=spec.multi_az,
            parameter_group_name=parameter_group.name,
            backup_retention_period=spec.backup_retention_days,
            backup_window=spec.backup_window,
            maintenance_window=spec.maintenance_window,
            copy_tags_to_snapshot=True,
            deletion_protection=spec.deletion_protection,
            skip_final_snapshot=not spec.deletion_protection,
            final_snapshot_identifier=f"{spec.identifier}-final" if spec.deletion_protection else None,
            delete_automated_backups=not spec.deletion_protection,
            performance_insights_enabled=spec.performance_insights,
            performance_insights_retention_period=(
                PERFORMANCE_INSIGHTS_RETENTION_DAYS if spec.performance_insights else None
            ),
            performance_insights_kms_key_id=spec.kms_key_arn if spec.performance_insights else None,
            enabled_cloudwatch_logs_exports=list(LOG_EXPORTS),
            auto_minor_version_upgrade=True,
            allow_major_version_upgrade=False,
            apply_immediately=spec.apply_immediately,
            opts=pulumi.ResourceOptions(parent=self, depends_on=log_groups),
        )
        self.arn = instance.arn
        self.endpoint = instance.address
        self.secret_arn = instance.master_user_secrets.apply(_secret_arn)

        self._create_alarms(name, args)

        self.register_outputs(
            {
                "securityGroupId": self.security_group_id,
                "port": self.port,
                "endpoint": self.endpoint,
                "databaseName": self.database_name,
                "username": self.username,
                "secretArn": self.secret_arn,
                "parameterGroupName": self.parameter_group_name,
            }
        )

    def _create_alarms(self, name: str, args: DatabaseArgs) -> None:
        spec = args.spec
        limits = spec.alarm_thresholds
        actions = [spec.alarm_topic_arn] if spec.alarm_topic_arn else []
        checks = [
            ("cpu", "CPUUtilization", "GreaterThanThreshold", limits.cpu_percent,
             f"{spec.identifier}: CPU above {limits.cpu_percent}%"),
            ("free-storage", "FreeStorageSpace", "LessThanThreshold",
             spec.allocated_storage_gb * limits.free_storage_fraction * 1024**3,
             f"{spec.identifier}: less than {limits.free_storage_fraction:.0%} of the allocated storage free"),
        ]  # fmt: skip
        for role, metric, comparison, threshold, description in checks:
            aws.cloudwatch.MetricAlarm(
                f"{name}-{role}",
                namespace="AWS/RDS",
                metric_name=metric,
                dimensions={"DBInstanceIdentifier": spec.identifier},
                statistic="Average",
                period=300,
                evaluation_periods=3,
                datapoints_to_alarm=3,
                comparison_operator=comparison,
                threshold=threshold,
                treat_missing_data="notBreaching",
                alarm_description=description,
                alarm_actions=actions,
                ok_actions=actions,
                opts=pulumi.ResourceOptions(parent=self),
            )


def _secret_arn(secrets: Sequence[aws.rds.outputs.InstanceMasterUserSecret]) -> str:
    arn = secrets[0].secret_arn if secrets else None
    if not arn:
        raise ValueError("the instance reported no master user secret although manage_master_user_password is on")
    return arn
