"""The database component alone: placement, encryption, RDS-managed password, TLS, backups, HA, logs,
alarms. The settings and the program's wiring are tested in tests/stack/test_database_stack.py."""

from __future__ import annotations

import asyncio
import dataclasses
import re
from typing import Any

import asyncpg
import pulumi
import pytest

from components.aws_context import AwsContext
from components.database import LOG_EXPORTS, QUERY_LOGGING, Database, DatabaseArgs, DatabaseSpec
from components.errors import InputError
from components.kms_keys import KeyArns
from mockcloud.runner import StackRun
from stack.settings import DATABASE
from tests.aws_validation import api_request, statements, validate_request
from tests.support import ComponentRunner, config_defaults

SUBNETS = ["subnet-0iso1", "subnet-0iso2"]
INSTANCE = "aws:rds/instance:Instance"
PARAMS = "aws:rds/parameterGroup:ParameterGroup"
SG = "aws:ec2/securityGroup:SecurityGroup"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
CMK = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
CONTEXT = AwsContext(account_id="123456789012", region="eu-west-1")
KEYS = KeyArns(
    logs="arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-0000-0000-00000000000a",
    data="arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-0000-0000-00000000000b",
    secrets="arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-0000-0000-00000000000c",
    secrets_alias_arn="arn:aws:kms:eu-west-1:123456789012:alias/platform/test/secrets",
)

ATTRIBUTES = (
    "security_group_id", "port", "endpoint", "database_name", "username", "secret_arn",
    "secret_kms_key_arn", "identifier", "arn", "parameter_group_name", "engine_version",
    "resource_id", "iam_auth", "app_username", "client_policy_statements", "log_group_names",
    "monitoring_role_arn",
)  # fmt: skip


SPEC_FIELDS = {f.name for f in dataclasses.fields(DatabaseSpec)}


def _args(**overrides: Any) -> DatabaseArgs:
    """Args at Pulumi.yaml's defaults, for an instance named platform-test; overrides by field name."""
    spec = {
        **config_defaults(DATABASE, DatabaseSpec),
        "identifier": "platform-test",
        "apply_immediately": False,
        **{k: v for k, v in overrides.items() if k in SPEC_FIELDS},
    }
    placement: dict[str, Any] = {"context": CONTEXT, "vpc_id": "vpc-0123", "subnet_ids": SUBNETS}
    placement |= {k: v for k, v in overrides.items() if k not in SPEC_FIELDS}
    return DatabaseArgs(**placement, spec=DatabaseSpec(**spec))


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


def test_parameter_group_forces_tls_and_logs_what_a_dba_reads(run_component: ComponentRunner) -> None:
    run = _database(run_component, engine_version="16", log_min_duration_ms=250)
    group = run.one(PARAMS)
    assert group.inputs["family"] == "postgres16"
    params = {p["name"]: (p["value"], p["applyMethod"]) for p in group.inputs["parameters"]}
    assert params == {
        "rds.force_ssl": ("1", "immediate"),
        "log_min_duration_statement": ("250", "immediate"),
        "log_connections": ("1", "immediate"),
        "log_disconnections": ("1", "immediate"),
        "log_lock_waits": ("1", "immediate"),
        "log_temp_files": ("0", "immediate"),
        "log_autovacuum_min_duration": ("0", "immediate"),
        # A library loaded at server start: RDS applies it at the next reboot.
        "shared_preload_libraries": ("pg_stat_statements", "pending-reboot"),
        "track_io_timing": ("1", "immediate"),
    }
    assert "log_statement" not in params, "DDL logging would write ALTER ROLE ... PASSWORD to the log"
    assert run.one(INSTANCE).inputs["parameterGroupName"] == group.outputs["name"]
    for parameter in group.inputs["parameters"]:
        request = {"ParameterName": parameter["name"], "ParameterValue": parameter["value"],
                   "ApplyMethod": parameter["applyMethod"]}  # fmt: skip
        modify = {"DBParameterGroupName": "g", "Parameters": [request]}
        assert validate_request("rds", "ModifyDBParameterGroup", modify) == []


def test_apply_methods_follow_postgresqls_own_parameter_contexts() -> None:
    """Each parameter's declared context is the one the real server reports (pg_settings.context), so a
    static one (postmaster) is the one applied at reboot: RDS refuses "immediate" for those."""

    async def contexts() -> dict[str, str]:
        connection = await asyncpg.connect(host="127.0.0.1", user="postgres", database="postgres", timeout=5)
        try:
            rows = await connection.fetch(
                "SELECT name, context FROM pg_settings WHERE name = ANY($1::text[])", [p.name for p in QUERY_LOGGING]
            )
        finally:
            await connection.close()
        return {row["name"]: row["context"] for row in rows}

    assert asyncio.run(contexts()) == {p.name: p.context for p in QUERY_LOGGING}
    assert [p.name for p in QUERY_LOGGING if p.apply_method == "pending-reboot"] == ["shared_preload_libraries"]


def test_enhanced_monitoring_publishes_through_a_role_only_rds_monitoring_of_this_instance_assumes(
    run_component: ComponentRunner,
) -> None:
    run = _database(run_component, monitoring_interval_seconds=15)
    instance = run.one(INSTANCE)
    role = run.one("aws:iam/role:Role", "db-monitoring-role")
    attachment = run.one("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "db-monitoring-policy")
    assert instance.inputs["monitoringInterval"] == 15
    assert instance.inputs["monitoringRoleArn"] == role.outputs["arn"] == run.outputs["monitoring_role_arn"]
    assert attachment.inputs["policyArn"] == "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
    assert attachment.inputs["role"] == role.outputs["name"]
    (trust,) = statements(role.inputs["assumeRolePolicy"])
    assert trust == {
        "Effect": "Allow",
        "Principal": {"Service": "monitoring.rds.amazonaws.com"},
        "Action": "sts:AssumeRole",
        "Condition": {
            "StringEquals": {"aws:SourceAccount": "123456789012"},
            "ArnLike": {"aws:SourceArn": "arn:aws:rds:eu-west-1:123456789012:db:platform-test"},
        },
    }
    assert {role.urn, attachment.urn} <= set(instance.dependencies), "the role works before RDS checks it"
    off = _database(run_component, monitoring_interval_seconds=0)
    assert off.one(INSTANCE).inputs["monitoringInterval"] == 0
    assert "monitoringRoleArn" not in off.one(INSTANCE).inputs
    assert off.of_type("aws:iam/role:Role") == []


def test_iam_authentication_grants_connect_as_exactly_the_app_user(run_component: ComponentRunner) -> None:
    run = _database(run_component, app_username="shop_app")
    instance = run.one(INSTANCE)
    assert instance.inputs["iamDatabaseAuthenticationEnabled"] is True
    (statement,) = run.outputs["client_policy_statements"]
    resource_id = instance.outputs["resourceId"]
    assert resource_id.startswith("db-")
    assert run.outputs["resource_id"] == resource_id
    assert statement == {
        "Sid": "ConnectAsTheAppUser",
        "Effect": "Allow",
        "Action": "rds-db:connect",
        "Resource": f"arn:aws:rds-db:eu-west-1:123456789012:dbuser:{resource_id}/shop_app",
    }
    assert (run.outputs["iam_auth"], run.outputs["app_username"]) == (True, "shop_app")
    # The master user keeps its RDS-managed password: the migrations run as it and create shop_app.
    assert instance.inputs["manageMasterUserPassword"] is True
    off = _database(run_component, iam_auth=False)
    assert off.one(INSTANCE).inputs["iamDatabaseAuthenticationEnabled"] is False
    assert off.outputs["client_policy_statements"] == []


def test_stack_keys_encrypt_storage_insights_secret_and_logs(run_component: ComponentRunner) -> None:
    run = _database(run_component, keys=KEYS)
    db = run.one(INSTANCE).inputs
    assert (db["kmsKeyId"], db["performanceInsightsKmsKeyId"], db["masterUserSecretKmsKeyId"]) == (
        KEYS.data,
        KEYS.data,
        KEYS.secrets,
    )
    groups = run.of_type("aws:cloudwatch/logGroup:LogGroup")
    assert [g.inputs["kmsKeyId"] for g in groups] == [KEYS.logs, KEYS.logs]
    assert sorted(run.outputs["log_group_names"]) == sorted(g.inputs["name"] for g in groups)
    # Readers are granted the secret's key through its alias (plain, so their policies are known at preview).
    assert run.outputs["secret_kms_key_arn"] == KEYS.secrets_alias_arn
    with pytest.raises(InputError, match=r"'keys' .* None when spec.kms_key_arn is set"):
        _args(keys=KEYS, kms_key_arn=CMK)


def test_create_db_instance_request_fits_botocores_model(run_component: ComponentRunner) -> None:
    """The RDS flags this stack sets, as CreateDBInstance takes them (the provider's names differ for a few)."""
    db = _database(run_component, keys=KEYS, monitoring_interval_seconds=30).one(INSTANCE).inputs
    inputs = {
        "dbInstanceIdentifier": db["identifier"],
        "dbInstanceClass": db["instanceClass"],
        "engine": db["engine"],
        "engineVersion": db["engineVersion"],
        "masterUsername": db["username"],
        "dbName": db["dbName"],
        "allocatedStorage": db["allocatedStorage"],
        "storageEncrypted": db["storageEncrypted"],
        "kmsKeyId": db["kmsKeyId"],
        "manageMasterUserPassword": db["manageMasterUserPassword"],
        "masterUserSecretKmsKeyId": db["masterUserSecretKmsKeyId"],
        "enableIAMDatabaseAuthentication": db["iamDatabaseAuthenticationEnabled"],
        "monitoringInterval": db["monitoringInterval"],
        "monitoringRoleArn": db["monitoringRoleArn"],
        "enablePerformanceInsights": db["performanceInsightsEnabled"],
        "performanceInsightsKMSKeyId": db["performanceInsightsKmsKeyId"],
        "performanceInsightsRetentionPeriod": db["performanceInsightsRetentionPeriod"],
        "enableCloudwatchLogsExports": db["enabledCloudwatchLogsExports"],
        "multiAZ": db["multiAz"],
        "deletionProtection": db["deletionProtection"],
    }
    request, errors = api_request("rds", "CreateDBInstance", inputs)
    assert errors == []
    assert validate_request("rds", "CreateDBInstance", request) == []
    assert (request["MonitoringInterval"], request["EnableIAMDatabaseAuthentication"]) == (30, True)
    # The model is not a rubber stamp: a wrong type is refused.
    assert validate_request("rds", "CreateDBInstance", {**request, "MonitoringInterval": "often"}) != []


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
        ({"engine_version": "17.2"}, "'engine_version' = '17.2' is not valid; allowed: one of 14, 15, 16, 17"),
        ({"engine_version": "12"}, "allowed: one of 14, 15, 16, 17"),
        ({"identifier": "Platform"}, "'identifier' = 'Platform' is not valid"),
        (
            {"instance_class": "t4g.micro"},
            "'instance_class' = 't4g.micro' is not valid; allowed: an RDS instance class",
        ),
        ({"subnet_ids": ["subnet-1"]}, "at least 2 AZs"),
        (
            {"allocated_storage_gb": 10},
            "'allocated_storage_gb' = 10 is not valid; allowed: a whole number from 20 to 65536",
        ),
        (
            {"max_allocated_storage_gb": 20},
            "'max_allocated_storage_gb' = 20 is not valid; allowed: 0 (no storage autoscaling) or more than",
        ),
        ({"database_name": "catalog-db"}, "'database_name' = 'catalog-db' is not valid"),
        ({"username": "rdsadmin"}, "'username' = 'rdsadmin' is not valid; allowed: not one of postgres, rds_iam"),
        ({"app_username": "catalog_admin"}, "'app_username' = 'catalog_admin' is not valid; allowed: a login other"),
        ({"app_username": "pg_app"}, "'app_username' = 'pg_app' is not valid; allowed: 1-63 lowercase"),
        ({"app_username": "rds_iam"}, "'app_username' = 'rds_iam' is not valid"),
        ({"monitoring_interval_seconds": 2}, "'monitoring_interval_seconds' = 2 is not valid; allowed: one of 0, 1, 5"),
        (
            {"backup_retention_days": 0},
            "'backup_retention_days' = 0 is not valid; allowed: a whole number from 1 to 35",
        ),
        ({"backup_window": "02:00-02:15"}, "lasts 15 minutes; at least 30"),
        ({"maintenance_window": "sun:02:30-sun:03:30"}, "a window apart from backup_window (02:00-03:00)"),
        ({"log_min_duration_ms": -2}, "'log_min_duration_ms' = -2 is not valid"),
        ({"kms_key_arn": "my-key"}, "a KMS key or alias ARN"),
        ({"log_retention_days": 2}, "'log_retention_days' = 2 is not valid"),
    ],
)
def test_args_reject_bad_values(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError, match=re.escape(message)):
        _args(**overrides)
