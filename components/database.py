"""RDS for PostgreSQL in the isolated subnets, its password owned by RDS in Secrets Manager.

The master password never passes through Pulumi: ``manage_master_user_password`` makes RDS generate
it, store it in a Secrets Manager secret (JSON with ``username`` and ``password``) and rotate it. Only
the schema migrations use it (an ECS secret, ``<secret arn>:password::``, in neither config, state nor
a task definition). With IAM database authentication on, the application logs in as its own user
(``app_username``, created by the migrations with the ``rds_iam`` role) with 15-minute tokens signed
by its task role, which ``client_policy_statements`` grant ``rds-db:connect`` for exactly that user.

Enhanced monitoring publishes OS metrics through a role RDS assumes (trust limited to this account
and this instance); the parameter group forces TLS and logs what a DBA reads first (slow statements,
connections, lock waits, temporary files, autovacuum) and loads pg_stat_statements. The security
group has no rules: each client adds ingress from its own group.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

import pulumi
import pulumi_aws as aws

from components.arns import check_kms_key_arn, check_sns_topic_arn
from components.aws_context import AwsContext, service_trust_policy
from components.errors import at_least, in_range, one_of, require
from components.kms_keys import KeyArns
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
RESERVED_USERNAMES: Final = frozenset({"rdsadmin", "rdsrepladmin", "rds_iam", "rds_superuser", "postgres"})
"""Names RDS for PostgreSQL keeps for its own users and roles (``rds_iam`` is the role IAM-authenticated
users are granted; ``postgres`` is PostgreSQL's bootstrap superuser name, refused as a master name)."""
MONITORING_INTERVALS: Final = (0, 1, 5, 10, 15, 30, 60)
"""Enhanced monitoring intervals RDS accepts (CreateDBInstance MonitoringInterval); 0 turns it off."""
ENHANCED_MONITORING_POLICY: Final = "service-role/AmazonRDSEnhancedMonitoringRole"
"""The AWS managed policy the monitoring role needs (RDS User Guide, "Setting up and enabling Enhanced
Monitoring")."""

ParameterContext = Literal["postmaster", "sighup", "superuser", "superuser-backend", "rds"]


@dataclass(frozen=True)
class PostgresParameter:
    """One parameter group entry, with when PostgreSQL lets it change (``pg_settings.context``)."""

    name: str
    value: str
    context: ParameterContext
    """``postmaster``: only at server start, so RDS applies it at the next reboot (``pending-reboot``;
    RDS refuses ``immediate`` for a static parameter). Every other context is dynamic. ``rds``: an RDS
    parameter PostgreSQL does not have, dynamic on RDS."""

    @property
    def apply_method(self) -> str:
        return "pending-reboot" if self.context == "postmaster" else "immediate"


QUERY_LOGGING: Final = (
    # What RDS's query logging guide lists and a DBA reads first (RDS User Guide, "Turning on query
    # logging for your RDS for PostgreSQL DB instance"; GitLab's recommended logging for managed
    # PostgreSQL uses the same values): sessions, lock waits, temp files (spilled sorts and hashes,
    # every one), every autovacuum run. log_statement stays off: with ddl, an ALTER ROLE ... PASSWORD
    # would write a password to the log, which the RDS guide warns about.
    PostgresParameter("log_connections", "1", "superuser-backend"),
    PostgresParameter("log_disconnections", "1", "superuser-backend"),
    PostgresParameter("log_lock_waits", "1", "superuser"),
    PostgresParameter("log_temp_files", "0", "superuser"),
    PostgresParameter("log_autovacuum_min_duration", "0", "sighup"),
    # pg_stat_statements (query statistics) and I/O timings in them; the library loads at server start.
    PostgresParameter("shared_preload_libraries", "pg_stat_statements", "postmaster"),
    PostgresParameter("track_io_timing", "1", "superuser"),
)
"""Parameters set on every instance besides TLS and the slow-statement threshold."""


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
    iam_auth: bool
    """IAM database authentication: the application logs in as ``app_username`` with tokens."""
    app_username: str
    """The application's IAM-authenticated login (created by the migrations with the ``rds_iam`` role)."""
    monitoring_interval_seconds: int
    """Enhanced monitoring granularity: 1, 5, 10, 15, 30 or 60 seconds; 0 turns it off."""
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
        require(
            SQL_NAME.match(self.app_username) is not None
            and not self.app_username.startswith("pg_")
            and self.app_username not in RESERVED_USERNAMES,
            "app_username",
            self.app_username,
            "1-63 lowercase letters, digits and underscores, starting with a letter, not pg_... and not one of "
            + ", ".join(sorted(RESERVED_USERNAMES)),
        )
        require(
            self.app_username != self.username,
            "app_username",
            self.app_username,
            f"a login other than username ({self.username}): the master user keeps its password for migrations",
            refers=("username",),
        )
        one_of("monitoring_interval_seconds", self.monitoring_interval_seconds, MONITORING_INTERVALS)
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

    @property
    def parameters(self) -> tuple[PostgresParameter, ...]:
        """The parameter group's entries."""
        return (
            # Refuse unencrypted connections (the default from PostgreSQL 15 on; explicit for all).
            PostgresParameter("rds.force_ssl", "1", "rds"),
            PostgresParameter("log_min_duration_statement", str(self.log_min_duration_ms), "superuser"),
            *QUERY_LOGGING,
        )


@dataclass(frozen=True, kw_only=True)
class DatabaseArgs:
    """Where the instance lives, and what it is (``spec``)."""

    context: AwsContext
    """Account, region and partition (the monitoring role's trust and the app user's ARN)."""
    vpc_id: pulumi.Input[str]
    """VPC of the security group."""
    subnet_ids: Sequence[pulumi.Input[str]]
    """Isolated (data) subnets, at least two AZs (RDS requires it even for a single-AZ instance)."""
    spec: DatabaseSpec
    keys: KeyArns | None = None
    """The stack's customer-managed keys: storage and Performance Insights use the data key, the master
    user secret the secrets key, the log groups the logs key. None: ``spec.kms_key_arn`` (or AWS keys)."""

    def __post_init__(self) -> None:
        require(
            len(self.subnet_ids) >= 2,
            "subnet_ids",
            f"{len(self.subnet_ids)} subnets",
            "subnets in at least 2 AZs (RDS requires it even for a single-AZ instance)",
        )
        require(
            self.keys is None or self.spec.kms_key_arn is None,
            "keys",
            "the stack's keys",
            f"None when spec.kms_key_arn is set ({self.spec.kms_key_arn}): one key decides the storage",
            refers=("spec.kms_key_arn",),
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
    """Customer-managed key (or its alias ARN) encrypting that secret, plain: readers are granted
    kms:Decrypt on it (None: AWS-managed)."""
    resource_id: pulumi.Output[str]
    """The instance's DbiResourceId (``db-...``): IAM database authentication ARNs name it."""
    iam_auth: bool
    """Whether the application logs in with IAM tokens as ``app_username``."""
    app_username: str
    """The application's login (IAM-authenticated when ``iam_auth``)."""
    client_policy_statements: list[dict[str, Any]]
    """What a client's role needs to log in as ``app_username``: ``rds-db:connect`` on exactly
    ``arn:aws:rds-db:<region>:<account>:dbuser:<DbiResourceId>/<app_username>`` (empty without IAM auth).
    The resource holds an output: the DbiResourceId exists once the instance does."""
    log_group_names: list[str]
    """The log groups RDS writes to (plain)."""
    monitoring_role_arn: pulumi.Output[str] | None
    """The role enhanced monitoring publishes with (None when it is off)."""
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
        self.iam_auth = spec.iam_auth
        self.app_username = spec.app_username
        keys = args.keys
        storage_key: pulumi.Input[str] | None = keys.data if keys else spec.kms_key_arn
        secret_key: pulumi.Input[str] | None = keys.secrets if keys else spec.kms_key_arn
        self.secret_kms_key_arn = keys.secrets_alias_arn if keys else spec.kms_key_arn

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
            aws.rds.ParameterGroupParameterArgs(name=p.name, value=p.value, apply_method=p.apply_method)
            for p in spec.parameters
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
        self.log_group_names = [f"/aws/rds/instance/{spec.identifier}/{log}" for log in LOG_EXPORTS]
        log_groups = [
            aws.cloudwatch.LogGroup(
                f"{name}-{log}-log",
                name=group_name,
                retention_in_days=spec.log_retention_days,
                kms_key_id=keys.logs if keys else None,
                opts=child,
            )
            for log, group_name in zip(LOG_EXPORTS, self.log_group_names, strict=True)
        ]
        monitoring = self._create_monitoring_role(name, args)
        self.monitoring_role_arn = monitoring[0].arn if monitoring else None
        waits_for: list[pulumi.Resource] = [*log_groups, *(monitoring or ())]

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
            master_user_secret_kms_key_id=secret_key,
            storage_type="gp3",
            allocated_storage=spec.allocated_storage_gb,
            max_allocated_storage=spec.max_allocated_storage_gb,
            storage_encrypted=True,
            kms_key_id=storage_key,
            iam_database_authentication_enabled=spec.iam_auth,
            monitoring_interval=spec.monitoring_interval_seconds,
            monitoring_role_arn=self.monitoring_role_arn,
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
            performance_insights_kms_key_id=storage_key if spec.performance_insights else None,
            enabled_cloudwatch_logs_exports=list(LOG_EXPORTS),
            auto_minor_version_upgrade=True,
            allow_major_version_upgrade=False,
            apply_immediately=spec.apply_immediately,
            # RDS checks the monitoring role when the instance starts publishing: attach its policy first.
            opts=pulumi.ResourceOptions(parent=self, depends_on=waits_for),
        )
        self.arn = instance.arn
        self.endpoint = instance.address
        self.secret_arn = instance.master_user_secrets.apply(_secret_arn)
        self.resource_id = instance.resource_id
        self.client_policy_statements = (
            [
                {
                    "Sid": "ConnectAsTheAppUser",
                    "Effect": "Allow",
                    "Action": "rds-db:connect",
                    "Resource": pulumi.Output.concat(
                        args.context.arn("rds-db", "dbuser:"), instance.resource_id, f"/{spec.app_username}"
                    ),
                }
            ]
            if spec.iam_auth
            else []
        )

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
                "resourceId": self.resource_id,
                "iamAuth": self.iam_auth,
                "appUsername": self.app_username,
            }
        )

    def _create_monitoring_role(
        self, name: str, args: DatabaseArgs
    ) -> tuple[aws.iam.Role, aws.iam.RolePolicyAttachment] | None:
        """The role enhanced monitoring publishes with: RDS's monitoring service for this account and
        this instance only (confused-deputy guard), with the AWS managed policy for it."""
        spec, ctx = args.spec, args.context
        if spec.monitoring_interval_seconds == 0:
            return None
        child = pulumi.ResourceOptions(parent=self)
        role = aws.iam.Role(
            f"{name}-monitoring-role",
            description=f"RDS enhanced monitoring of {spec.identifier}",
            assume_role_policy=json.dumps(monitoring_trust_policy(ctx, spec.identifier)),
            opts=child,
        )
        attachment = aws.iam.RolePolicyAttachment(
            f"{name}-monitoring-policy",
            role=role.name,
            policy_arn=f"arn:{ctx.partition}:iam::aws:policy/{ENHANCED_MONITORING_POLICY}",
            opts=child,
        )
        return role, attachment

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


def monitoring_trust_policy(ctx: AwsContext, identifier: str) -> dict[str, Any]:
    """RDS's enhanced monitoring service may assume the role, acting for this account's instance only
    (RDS User Guide, "Setting up and enabling Enhanced Monitoring": the trust policy with
    aws:SourceArn and aws:SourceAccount to prevent the confused deputy problem)."""
    return service_trust_policy(ctx, "monitoring.rds.amazonaws.com", ctx.arn("rds", f"db:{identifier}"))


def _secret_arn(secrets: Sequence[aws.rds.outputs.InstanceMasterUserSecret]) -> str:
    arn = secrets[0].secret_arn if secrets else None
    if not arn:
        raise ValueError("the instance reported no master user secret although manage_master_user_password is on")
    return arn
