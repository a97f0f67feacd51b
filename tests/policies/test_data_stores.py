"""Backups and hardening of the data stores: RDS retention, final snapshots, Multi-AZ, IAM auth,
monitoring, customer-managed keys, logs, parameters; ElastiCache keys, patching and subnets."""

from __future__ import annotations

from typing import Any

import pulumi_aws as aws

from tests.policies.builders import ACCOUNT, REGION, role_arn
from tests.policies.support import ALL_MANDATORY, Analyze, flagged, messages
from tests.support import ComponentRunner

KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def _instance(name: str, **overrides: Any) -> aws.rds.Instance:
    """A PostgreSQL instance that satisfies every RDS guardrail unless told otherwise."""
    params = aws.rds.ParameterGroup(
        f"{name}-params",
        family="postgres17",
        parameters=[
            {"name": "rds.force_ssl", "value": "1"},
            {"name": "log_min_duration_statement", "value": "1000"},
        ],
    )
    args: dict[str, Any] = {
        "engine": "postgres",
        "engine_version": "17",
        "instance_class": "db.t4g.micro",
        "allocated_storage": 20,
        "username": "app",
        "manage_master_user_password": True,
        "master_user_secret_kms_key_id": KEY,
        "storage_encrypted": True,
        "kms_key_id": KEY,
        "publicly_accessible": False,
        "deletion_protection": True,
        "backup_retention_period": 14,
        "skip_final_snapshot": False,
        "final_snapshot_identifier": f"{name}-final",
        "copy_tags_to_snapshot": True,
        "multi_az": True,
        "iam_database_authentication_enabled": True,
        "monitoring_interval": 60,
        "monitoring_role_arn": role_arn("rds-monitoring"),
        "performance_insights_enabled": True,
        "performance_insights_kms_key_id": KEY,
        "enabled_cloudwatch_logs_exports": ["postgresql"],
        "auto_minor_version_upgrade": True,
        "parameter_group_name": params.name,
        **overrides,
    }
    return aws.rds.Instance(name, **args)


def _databases() -> None:
    _instance("good")
    _instance("default-retention", backup_retention_period=None)
    _instance("no-backups", backup_retention_period=0)
    _instance("three-days", backup_retention_period=3)
    _instance("no-final-snapshot", skip_final_snapshot=True, final_snapshot_identifier=None)
    _instance("no-snapshot-name", final_snapshot_identifier=None)
    _instance("untagged-snapshots", copy_tags_to_snapshot=False)
    _instance("single-az", multi_az=False)
    _instance("password-only", iam_database_authentication_enabled=None)
    _instance("no-monitoring", monitoring_interval=None, monitoring_role_arn=None)
    _instance("odd-interval", monitoring_interval=45)
    _instance("no-monitoring-role", monitoring_role_arn=None)
    _instance("no-insights", performance_insights_enabled=False, performance_insights_kms_key_id=None)
    _instance("aws-keys", kms_key_id=None, performance_insights_kms_key_id=None, master_user_secret_kms_key_id=None)
    _instance("no-log-exports", enabled_cloudwatch_logs_exports=[])
    _instance("no-patching", auto_minor_version_upgrade=False)
    _instance("default-parameters", parameter_group_name=None)
    lax = aws.rds.ParameterGroup(
        "lax-params", family="postgres17", parameters=[{"name": "rds.force_ssl", "value": "0"}]
    )
    _instance("lax", parameter_group_name=lax.name)


def test_backups_are_kept_and_the_last_snapshot_taken(run_component: ComponentRunner, analyze: Analyze) -> None:
    report = analyze(run_component(_databases))
    assert flagged(report, "rds-backup-retention") == {"default-retention", "no-backups", "three-days"}
    assert "API default is 1 day" in messages(report, "rds-backup-retention", "default-retention")[0]
    assert flagged(report, "rds-final-snapshot") == {"no-final-snapshot", "no-snapshot-name"}
    assert flagged(report, "rds-copy-tags-to-snapshot") == {"untagged-snapshots"}


def test_the_retention_minimum_is_configurable(run_component: ComponentRunner, analyze: Analyze) -> None:
    config = {**ALL_MANDATORY, "rds-backup-retention": {"minimumDays": 21}}
    report = analyze(run_component(_databases), config=config)
    assert "good" in flagged(report, "rds-backup-retention")


def test_databases_are_available_authenticated_observed_and_patched(
    run_component: ComponentRunner, analyze: Analyze
) -> None:
    report = analyze(run_component(_databases))
    assert flagged(report, "rds-multi-az") == {"single-az"}
    assert flagged(report, "rds-iam-auth") == {"password-only"}
    assert flagged(report, "rds-enhanced-monitoring") == {"no-monitoring", "odd-interval", "no-monitoring-role"}
    assert flagged(report, "rds-performance-insights") == {"no-insights"}
    assert flagged(report, "rds-log-exports") == {"no-log-exports"}
    assert flagged(report, "rds-auto-minor-upgrade") == {"no-patching"}


def test_databases_use_customer_managed_keys(run_component: ComponentRunner, analyze: Analyze) -> None:
    report = analyze(run_component(_databases))
    assert flagged(report, "rds-cmk") == {"aws-keys"}
    (keys,) = messages(report, "rds-cmk", "aws-keys")
    assert "kmsKeyId" in keys
    assert "performanceInsightsKmsKeyId" in keys
    assert "masterUserSecretKmsKeyId" in keys


def test_postgres_forces_tls_and_logs_slow_queries(run_component: ComponentRunner, analyze: Analyze) -> None:
    report = analyze(run_component(_databases))
    assert flagged(report, "rds-postgres-parameters") == {"default-parameters", "lax-params"}
    lax = messages(report, "rds-postgres-parameters", "lax-params")
    assert any("rds.force_ssl=1" in m for m in lax)
    assert any("logs no queries" in m for m in lax)


def test_read_replicas_inherit_their_data_settings(run_component: ComponentRunner, analyze: Analyze) -> None:
    def program() -> None:
        primary = _instance("primary")
        aws.rds.Instance(
            "replica",
            replicate_source_db=primary.identifier,
            instance_class="db.t4g.micro",
            publicly_accessible=False,
            deletion_protection=True,
            monitoring_interval=60,
            monitoring_role_arn=role_arn("rds-monitoring"),
            performance_insights_enabled=True,
            performance_insights_kms_key_id=KEY,
        )

    report = analyze(run_component(program))
    findings = {v.policy for v in report.violations if v.urn.endswith("::replica")}
    assert findings == set()


def _group(name: str, **overrides: Any) -> aws.elasticache.ReplicationGroup:
    args: dict[str, Any] = {
        "description": name,
        "engine": "valkey",
        "node_type": "cache.t4g.micro",
        "num_cache_clusters": 2,
        "automatic_failover_enabled": True,
        "multi_az_enabled": True,
        "transit_encryption_enabled": True,
        "at_rest_encryption_enabled": True,
        "kms_key_id": KEY,
        "auth_token": "0123456789abcdef0123",
        "snapshot_retention_limit": 7,
        "subnet_group_name": "cache-isolated",
        "auto_minor_version_upgrade": "true",
        **overrides,
    }
    return aws.elasticache.ReplicationGroup(name, **args)


def _caches() -> None:
    _group("good-cache")
    _group("aws-owned-key", kms_key_id=None)
    _group("unpatched", auto_minor_version_upgrade="false")
    _group("default-subnets", subnet_group_name=None)
    _group("named-default", subnet_group_name="default")
    _group("no-snapshots", snapshot_retention_limit=0)


def test_caches_use_customer_keys_patches_own_subnets_and_snapshots(
    run_component: ComponentRunner, analyze: Analyze
) -> None:
    report = analyze(run_component(_caches))
    assert flagged(report, "elasticache-cmk") == {"aws-owned-key"}
    assert flagged(report, "elasticache-auto-minor-upgrade") == {"unpatched"}
    assert flagged(report, "elasticache-subnet-group") == {"default-subnets", "named-default"}
    assert flagged(report, "elasticache-snapshot-retention") == {"no-snapshots"}
