"""The database component alone (placement, encryption, RDS-managed password, TLS, backups, HA, logs,
alarms), its stack settings, and how the whole program wires it."""

from __future__ import annotations

import re
from typing import Any

import pulumi
import pytest
from pulumi.runtime import settings as runtime_settings

from components.database import LOG_EXPORTS, Database, DatabaseArgs
from mockcloud.monitor import STACK_TYPE
from mockcloud.runner import StackRun, run_stack
from stack import exports
from stack.settings import ConfigError
from tests.support import ComponentRunner

SUBNETS = ["subnet-0iso1", "subnet-0iso2"]
INSTANCE = "aws:rds/instance:Instance"
PARAMS = "aws:rds/parameterGroup:ParameterGroup"
SG = "aws:ec2/securityGroup:SecurityGroup"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
CMK = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"

ATTRIBUTES = (
    "security_group_id", "port", "endpoint", "database_name", "username", "secret_arn",
    "secret_kms_key_arn", "identifier", "arn", "parameter_group_name", "engine_version",
)  # fmt: skip


def _args(**overrides: Any) -> DatabaseArgs:
    values: dict[str, Any] = {"vpc_id": "vpc-0123", "subnet_ids": SUBNETS, "identifier": "platform-test", **overrides}
    return DatabaseArgs(**values)


def _database(run_component: ComponentRunner, *, preview: bool = False, **overrides: Any) -> StackRun:
    args = _args(**overrides)

    def program() -> None:
        database = Database("db", args)
        for attribute in ATTRIBUTES:
            pulumi.export(attribute, getattr(database, attribute))

    return run_component(program, preview=preview)


def test_postgres_in_isolated_subnets_private_and_encrypted(run_component: ComponentRunner) -> None:
    run = _database(run_component)
    db = run.one(INSTANCE).inputs
    assert (db["engine"], db["engineVersion"], db["instanceClass"]) == ("postgres", "17", "db.t4g.micro")
    assert db["publiclyAccessible"] is False
    assert db["storageEncrypted"] is True
    assert db["storageType"] == "gp3"
    assert (db["allocatedStorage"], db["maxAllocatedStorage"]) == (20, 100)
    assert db["autoMinorVersionUpgrade"] is True
    assert db["allowMajorVersionUpgrade"] is False
    assert db["dbSubnetGroupName"] == run.one("aws:rds/subnetGroup:SubnetGroup").outputs["name"]
    assert run.one("aws:rds/subnetGroup:SubnetGroup").inputs["subnetIds"] == SUBNETS
    assert (db["dbName"], db["username"], db["port"]) == ("catalog", "catalog_admin", 5432)


def test_password_is_managed_by_rds_and_never_passes_through_pulumi(run_component: ComponentRunner) -> None:
    run = _database(run_component)
    instance = run.one(INSTANCE)
    assert instance.inputs["manageMasterUserPassword"] is True
    assert not {"password", "passwordWo"} & set(instance.inputs)
    assert run.of_type("random:index/randomPassword:RandomPassword") == []
    assert run.of_type("aws:secretsmanager/secretVersion:SecretVersion") == []
    secret = instance.outputs["masterUserSecrets"][0]
    assert run.outputs["secret_arn"] == secret["secretArn"]
    assert re.match(
        r"^arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-[0-9a-f-]{36}-\w{6}$", secret["secretArn"]
    )
    assert run.outputs["endpoint"] == instance.outputs["address"]
    assert ":" not in run.outputs["endpoint"]  # a host, not host:port
    assert (run.outputs["port"], run.outputs["database_name"], run.outputs["username"]) == (
        5432,
        "catalog",
        "catalog_admin",
    )


def test_secret_arn_is_unknown_until_the_instance_exists(run_component: ComponentRunner) -> None:
    run = _database(run_component, preview=True)
    assert {"secret_arn", "endpoint"} <= run.unknown_outputs
    assert run.outputs["username"] == "catalog_admin"


def test_customer_managed_key_covers_storage_secret_and_insights(run_component: ComponentRunner) -> None:
    db = _database(run_component, kms_key_arn=CMK).one(INSTANCE).inputs
    assert db["kmsKeyId"] == CMK
    assert db["masterUserSecretKmsKeyId"] == CMK
    assert db["performanceInsightsKmsKeyId"] == CMK
    default = _database(run_component)
    assert not {"kmsKeyId", "masterUserSecretKmsKeyId", "performanceInsightsKmsKeyId"} & set(
        default.one(INSTANCE).inputs
    )
    assert default.outputs["secret_kms_key_arn"] is None


def test_parameter_group_forces_tls_and_logs_slow_statements(run_component: ComponentRunner) -> None:
    run = _database(run_component, engine_version="16", log_min_duration_ms=250)
    group = run.one(PARAMS)
    assert group.inputs["family"] == "postgres16"
    params = {p["name"]: p["value"] for p in group.inputs["parameters"]}
    assert params == {"rds.force_ssl": "1", "log_min_duration_statement": "250"}
    assert run.one(INSTANCE).inputs["parameterGroupName"] == group.outputs["name"]


def test_backups_windows_and_insights(run_component: ComponentRunner) -> None:
    db = _database(
        run_component, backup_retention_days=14, backup_window="01:00-01:30", maintenance_window="mon:02:00-mon:02:30"
    ).one(INSTANCE)
    assert db.inputs["backupRetentionPeriod"] == 14
    assert db.inputs["backupWindow"] == "01:00-01:30"
    assert db.inputs["maintenanceWindow"] == "mon:02:00-mon:02:30"
    assert db.inputs["copyTagsToSnapshot"] is True
    assert db.inputs["performanceInsightsEnabled"] is True
    assert db.inputs["performanceInsightsRetentionPeriod"] == 7
    off = _database(run_component, performance_insights=False).one(INSTANCE).inputs
    assert off["performanceInsightsEnabled"] is False
    assert "performanceInsightsRetentionPeriod" not in off


@pytest.mark.parametrize("protected", [True, False])
def test_deletion_protection_keeps_a_final_snapshot_and_backups(
    run_component: ComponentRunner, protected: bool
) -> None:
    db = _database(run_component, deletion_protection=protected, multi_az=protected).one(INSTANCE).inputs
    assert db["deletionProtection"] is protected
    assert db["multiAz"] is protected
    assert db["skipFinalSnapshot"] is not protected
    assert db["deleteAutomatedBackups"] is not protected
    assert db.get("finalSnapshotIdentifier") == ("platform-test-final" if protected else None)


def test_logs_exported_to_log_groups_created_with_retention(run_component: ComponentRunner) -> None:
    run = _database(run_component, log_retention_days=365)
    instance = run.one(INSTANCE)
    assert instance.inputs["enabledCloudwatchLogsExports"] == list(LOG_EXPORTS)
    groups = run.of_type("aws:cloudwatch/logGroup:LogGroup")
    assert sorted(g.inputs["name"] for g in groups) == [
        "/aws/rds/instance/platform-test/postgresql",
        "/aws/rds/instance/platform-test/upgrade",
    ]
    assert all(g.inputs["retentionInDays"] == 365 for g in groups)
    assert {g.urn for g in groups} <= set(instance.dependencies), "log groups must exist before RDS writes to them"


def test_security_group_starts_without_any_rule(run_component: ComponentRunner) -> None:
    run = _database(run_component)
    sg = run.one(SG)
    assert "ingress" not in sg.inputs
    assert "egress" not in sg.inputs
    assert run.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule") == []
    assert run.one(INSTANCE).inputs["vpcSecurityGroupIds"] == [sg.id]
    assert run.outputs["security_group_id"] == sg.id


def test_alarms_on_cpu_and_free_storage(run_component: ComponentRunner) -> None:
    topic = "arn:aws:sns:eu-west-1:123456789012:ops"
    run = _database(run_component, allocated_storage_gb=100, max_allocated_storage_gb=200, alarm_topic_arn=topic)
    alarms = {a.inputs["metricName"]: a.inputs for a in run.of_type(ALARM)}
    assert set(alarms) == {"CPUUtilization", "FreeStorageSpace"}
    assert alarms["FreeStorageSpace"]["comparisonOperator"] == "LessThanThreshold"
    assert alarms["FreeStorageSpace"]["threshold"] == pytest.approx(10 * 1024**3)
    for alarm in alarms.values():
        assert alarm["namespace"] == "AWS/RDS"
        assert alarm["dimensions"] == {"DBInstanceIdentifier": "platform-test"}
        assert alarm["alarmActions"] == [topic]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"engine_version": "17.2"}, "engine_version: '17.2'; allowed: 14, 15, 16, 17"),
        ({"engine_version": "12"}, "allowed: 14, 15, 16, 17"),
        ({"identifier": "Platform"}, "identifier: 'Platform'"),
        ({"instance_class": "t4g.micro"}, "instance_class: 't4g.micro'; allowed: an RDS class"),
        ({"subnet_ids": ["subnet-1"]}, "at least 2 AZs"),
        ({"allocated_storage_gb": 10}, "allocated_storage_gb: 10; allowed: 20 to 65536"),
        ({"max_allocated_storage_gb": 20}, "max_allocated_storage_gb: 20; allowed: 0 (no autoscaling) or more than"),
        ({"database_name": "catalog-db"}, "database_name: 'catalog-db'"),
        ({"username": "rdsadmin"}, "username: 'rdsadmin' is reserved"),
        ({"backup_retention_days": 0}, "backup_retention_days: 0; allowed: 1 to 35"),
        ({"backup_window": "02:00-02:15"}, "lasts 15 minutes; at least 30"),
        ({"maintenance_window": "sun:02:30-sun:03:30"}, "overlaps backup_window '02:00-03:00'"),
        ({"log_min_duration_ms": -2}, "log_min_duration_ms: -2"),
    ],
)
def test_args_reject_bad_values(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        _args(**overrides)


# -- stack settings and the whole program -----------------------------------------------------------
@pytest.mark.parametrize(
    ("stack", "overrides", "key", "allowed"),
    [
        ("dev", {"dbEngineVersion": "13"}, "dbEngineVersion", "one of 14, 15, 16, 17"),
        ("dev", {"dbInstanceClass": "m7g.large"}, "dbInstanceClass", "an RDS instance class"),
        ("dev", {"dbAllocatedStorage": 5}, "dbAllocatedStorage", "from 20 to 65536"),
        ("dev", {"dbMaxAllocatedStorage": 20}, "dbMaxAllocatedStorage", "more than dbAllocatedStorage (20)"),
        ("dev", {"dbBackupRetentionDays": 0}, "dbBackupRetentionDays", "from 1 to 35"),
        ("dev", {"dbName": "Catalog"}, "dbName", "lowercase letters"),
        ("dev", {"dbUsername": "rdsadmin"}, "dbUsername", "not one of rdsadmin, rdsrepladmin"),
        ("dev", {"dbBackupWindow": "03:00-04:00", "dbMaintenanceWindow": "sun:03:30-sun:04:30"}, "dbMaintenanceWindow",
         "apart from dbBackupWindow"),
        ("dev", {"dbKmsKeyArn": "my-key"}, "dbKmsKeyArn", "a KMS key or alias ARN"),
        ("prod", {"dbMultiAz": False}, "dbMultiAz", "true with environment=prod"),
        ("prod", {"dbBackupRetentionDays": 3}, "dbBackupRetentionDays", "7 to 35 with environment=prod"),
        ("prod", {"dbPerformanceInsights": False}, "dbPerformanceInsights", "true with environment=prod"),
    ],
)  # fmt: skip
def test_bad_database_config_is_rejected_before_anything_exists(
    stack: str, overrides: dict[str, Any], key: str, allowed: str
) -> None:
    with pytest.raises(ConfigError) as error:
        run_stack(stack, overrides=overrides)
    assert f"container-platform:{key}" in str(error.value)
    assert allowed in str(error.value)
    assert [r.type for r in runtime_settings.SETTINGS.monitor.captured] == [STACK_TYPE]


def test_dev_is_single_az_and_cheap_prod_is_multi_az_and_protected(stack_run: StackRun) -> None:
    db = stack_run.one(INSTANCE).inputs
    isolated = stack_run.outputs[exports.ISOLATED_SUBNET_IDS]
    assert stack_run.one("aws:rds/subnetGroup:SubnetGroup").inputs["subnetIds"] == isolated
    assert db["identifier"] == f"container-platform-{stack_run.stack}"
    assert db["manageMasterUserPassword"] is True
    if stack_run.stack == "prod":
        assert (db["instanceClass"], db["multiAz"], db["deletionProtection"]) == ("db.m7g.large", True, True)
        assert db["skipFinalSnapshot"] is False
        assert db["backupRetentionPeriod"] == 14
        assert db["performanceInsightsEnabled"] is True
        assert db["applyImmediately"] is False
    else:
        assert (db["instanceClass"], db["multiAz"], db["deletionProtection"]) == ("db.t4g.micro", False, False)
        assert db["skipFinalSnapshot"] is True


def test_program_exports_the_connection_and_the_secret_arn_only(stack_run: StackRun) -> None:
    out = stack_run.outputs
    instance = stack_run.one(INSTANCE)
    assert out[exports.DATABASE_ENDPOINT] == instance.outputs["address"]
    assert (out[exports.DATABASE_PORT], out[exports.DATABASE_NAME], out[exports.DATABASE_USERNAME]) == (
        5432,
        "catalog",
        "catalog_admin",
    )
    assert out[exports.DATABASE_SECRET_ARN] == instance.outputs["masterUserSecrets"][0]["secretArn"]
    assert out[exports.DATABASE_SECURITY_GROUP_ID] == stack_run.one(SG, f"{stack_run.stack}-db-sg").id
    assert not {"password", "passwordWo"} & set(instance.inputs)
