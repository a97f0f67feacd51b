"""The whole program: customer-managed keys on everything that stores data, and identity instead of
passwords (issue 17). The prod plan as the issue asks to show it: every log group, secret, data store
and Performance Insights on a customer-managed, rotating key; the database with enhanced monitoring
and IAM authentication; the cache with IAM authentication, or where that is impossible a rotated
secret. Settings that decide it are refused when they contradict each other."""

from __future__ import annotations

import json
from typing import Any, Final

import pytest

from mockcloud.monitor import CapturedResource
from mockcloud.runner import StackRun
from offline.policy.pack import PolicyPackProcess
from stack import exports
from tests.aws_validation import statements
from tests.support import assert_config_rejected, cached_run

KEY: Final = "aws:kms/key:Key"
LOG_GROUP: Final = "aws:cloudwatch/logGroup:LogGroup"
ROLE_POLICY: Final = "aws:iam/rolePolicy:RolePolicy"
ACCOUNT: Final = "123456789012"
TOKEN_MODE: Final[dict[str, Any]] = {"cacheEngine": "redis", "cacheEngineVersion": "6.2"}
INSPECTION: Final[dict[str, Any]] = {"gwlbEnabled": True, "gwlbApplianceIps": ["10.255.0.10"]}


def _keys(run: StackRun) -> dict[str, CapturedResource]:
    """The DataKeys keys by data class."""
    return {k.name.removeprefix(f"{run.stack}-keys-"): k for k in run.of_type(KEY) if "-keys-" in k.name}


def _policy(key: CapturedResource) -> dict[str, dict[str, Any]]:
    return {s["Sid"]: s for s in statements(key.inputs["policy"])}


def _log_key_context(run: StackRun) -> list[str]:
    condition = _policy(_keys(run)["logs"])["CloudWatchLogsEncryptsThisStacksGroups"]["Condition"]
    patterns: list[str] = condition["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]
    return patterns


@pytest.fixture(scope="module")
def prod() -> StackRun:
    return cached_run("prod")


def test_prod_has_three_rotating_customer_managed_keys(prod: StackRun) -> None:
    keys = _keys(prod)
    assert set(keys) == {"logs", "data", "secrets"}
    for key in keys.values():
        assert key.inputs["enableKeyRotation"] is True
        assert key.inputs["rotationPeriodInDays"] == 365
    assert prod.outputs[exports.DATA_KEY_ARNS] == {c: k.outputs["arn"] for c, k in keys.items()}
    aliases = sorted(a.inputs["name"] for a in prod.of_type("aws:kms/alias:Alias") if "/prod/" in a.inputs["name"])
    assert aliases == [f"alias/container-platform/prod/{c}" for c in ("data", "logs", "secrets")]


@pytest.mark.parametrize("overrides", [{}, TOKEN_MODE, INSPECTION], ids=["prod", "token", "inspection"])
def test_every_log_group_is_encrypted_with_the_logs_key_which_admits_exactly_them(overrides: dict[str, Any]) -> None:
    run = cached_run("prod", **overrides)
    logs_key = _keys(run)["logs"]
    groups = run.of_type(LOG_GROUP)
    assert groups
    context = _log_key_context(run)
    for group in groups:
        assert group.inputs["kmsKeyId"] == logs_key.outputs["arn"], group.name
        assert logs_key.urn in group.dependencies, f"{group.name} is created after its key"
    # The key admits these groups by exact name (and nothing else), in this account and region.
    names = sorted(g.inputs["name"] for g in groups)
    assert context == [f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:{name}*" for name in names]
    if overrides is INSPECTION:
        assert "/vpc/prod-inspection/flow-logs" in names
    if overrides is TOKEN_MODE:
        assert "/aws/lambda/container-platform-prod-auth-rotation" in names


def test_data_stores_and_performance_insights_use_the_data_key(prod: StackRun) -> None:
    data = _keys(prod)["data"].outputs["arn"]
    db = prod.one("aws:rds/instance:Instance").inputs
    assert (db["storageEncrypted"], db["kmsKeyId"]) == (True, data)
    assert (db["performanceInsightsEnabled"], db["performanceInsightsKmsKeyId"]) == (True, data)
    rg = prod.one("aws:elasticache/replicationGroup:ReplicationGroup").inputs
    assert (rg["atRestEncryptionEnabled"], rg["kmsKeyId"]) == (True, data)


@pytest.mark.parametrize("overrides", [{}, TOKEN_MODE], ids=["iam", "token"])
def test_every_secret_uses_the_secrets_key_and_rotates(overrides: dict[str, Any]) -> None:
    run = cached_run("prod", **overrides)
    secrets_key = _keys(run)["secrets"].outputs["arn"]
    instance = run.one("aws:rds/instance:Instance")
    assert instance.inputs["masterUserSecretKmsKeyId"] == secrets_key
    assert instance.inputs["manageMasterUserPassword"] is True  # RDS rotates its managed secret itself
    secrets = run.of_type("aws:secretsmanager/secret:Secret")
    rotations = run.of_type("aws:secretsmanager/secretRotation:SecretRotation")
    if overrides is TOKEN_MODE:
        (secret,) = secrets
        assert secret.inputs["kmsKeyId"] == secrets_key
        (rotation,) = rotations
        assert rotation.inputs["secretId"] == secret.id
        assert rotation.inputs["rotationRules"] == {"automaticallyAfterDays": 30}
        assert run.outputs[exports.CACHE_AUTH] == "token"
    else:
        assert secrets == rotations == [], "with IAM authentication there is no cache secret at all"


def test_the_database_has_enhanced_monitoring_and_iam_authentication(prod: StackRun) -> None:
    db = prod.one("aws:rds/instance:Instance")
    assert db.inputs["iamDatabaseAuthenticationEnabled"] is True
    assert db.inputs["monitoringInterval"] == 60
    role = prod.one("aws:iam/role:Role", "prod-db-monitoring-role")
    assert db.inputs["monitoringRoleArn"] == role.outputs["arn"]
    (trust,) = statements(role.inputs["assumeRolePolicy"])
    assert trust["Principal"] == {"Service": "monitoring.rds.amazonaws.com"}
    assert trust["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT}
    assert prod.outputs[exports.DATABASE_AUTH] == "iam"
    assert prod.outputs[exports.DATABASE_APP_USERNAME] == "catalog_app"


def test_each_task_role_may_connect_as_exactly_the_app_users(prod: StackRun) -> None:
    db = prod.one("aws:rds/instance:Instance")
    policies = {p.name: p.inputs["policy"] for p in prod.of_type(ROLE_POLICY)}
    for role in ("api", "ops"):
        (database,) = statements(policies[f"prod-{role}-task-database"])
        assert database["Action"] == "rds-db:connect"
        assert database["Resource"] == (
            f"arn:aws:rds-db:eu-west-1:{ACCOUNT}:dbuser:{db.outputs['resourceId']}/catalog_app"
        )
        (cache,) = statements(policies[f"prod-{role}-task-cache"])
        assert cache["Action"] == "elasticache:Connect"
        assert cache["Resource"] == [
            f"arn:aws:elasticache:eu-west-1:{ACCOUNT}:replicationgroup:container-platform-prod",
            f"arn:aws:elasticache:eu-west-1:{ACCOUNT}:user:container-platform-prod-app",
        ]
    users = {u.inputs["userName"]: u.inputs for u in prod.of_type("aws:elasticache/user:User")}
    assert users["container-platform-prod-app"]["authenticationMode"] == {"type": "iam"}
    assert users["default"]["accessString"].startswith("off ")
    assert prod.outputs[exports.CACHE_AUTH] == "iam"


@pytest.mark.parametrize(
    ("overrides", "readers"),
    [
        # Only the API's execution role injects a secret (the migrations' password).
        ({}, ["api-exec"]),
        # The app reads the rotated cache token itself; the function rotating it reads and writes it.
        (TOKEN_MODE, ["api-exec", "api-task", "ops-task", "rotation"]),
        # Password authentication: both services get the master password.
        ({"dbIamAuth": False}, ["api-exec", "ops-exec"]),
    ],
    ids=["iam", "token", "password"],
)
def test_only_the_roles_that_read_a_secret_may_decrypt_with_the_secrets_key(
    overrides: dict[str, Any], readers: list[str]
) -> None:
    run = cached_run("prod", **overrides)
    secrets_key = _keys(run)["secrets"]
    named = _policy(secrets_key)["NamedRolesReadSecrets"]["Principal"]["AWS"]
    by_role = {
        "api-exec": "container-platform-prod-api-exec-eu-west-1",
        "ops-exec": "container-platform-prod-ops-exec-eu-west-1",
        "api-task": "container-platform-prod-api-task-eu-west-1",
        "ops-task": "container-platform-prod-ops-task-eu-west-1",
        "rotation": "container-platform-prod-rotation-eu-west-1",
    }
    assert named == sorted(f"arn:aws:iam::{ACCOUNT}:role/{by_role[r]}" for r in readers)
    # Every role a key policy names exists before the key (KMS refuses unknown principals).
    roles = {r.outputs["arn"]: r.urn for r in run.of_type("aws:iam/role:Role")}
    for key in _keys(run).values():
        assert {roles[arn] for arn in named} <= set(key.dependencies), key.name


def test_token_mode_prod_draws_no_mandatory_finding() -> None:
    with PolicyPackProcess() as pack:
        report = pack.analyze(cached_run("prod", **TOKEN_MODE))
    assert [f"{v.policy} on {v.resource}: {v.detail}" for v in report.mandatory] == []


def test_dev_has_no_stack_keys_and_says_so() -> None:
    dev = cached_run("dev")
    assert _keys(dev) == {}
    assert dev.outputs[exports.DATA_KEY_ARNS] is None
    # The ECS log groups keep the cluster's exec key; the others CloudWatch Logs' own encryption.
    exec_key = dev.one(KEY, "dev-ecs-exec-key").outputs["arn"]
    for group in dev.of_type(LOG_GROUP):
        assert group.inputs.get("kmsKeyId") in (None, exec_key), group.name
    # IAM authentication is on in dev too: it costs nothing and dev runs what prod runs.
    assert dev.outputs[exports.DATABASE_AUTH] == dev.outputs[exports.CACHE_AUTH] == "iam"


def test_dev_can_turn_the_keys_on() -> None:
    run = cached_run("dev", customerManagedKeys=True)
    assert set(_keys(run)) == {"logs", "data", "secrets"}
    assert all(g.inputs["kmsKeyId"] == _keys(run)["logs"].outputs["arn"] for g in run.of_type(LOG_GROUP))


@pytest.mark.parametrize(
    ("stack", "overrides", "key", "allowed"),
    [
        ("prod", {"customerManagedKeys": False}, "customerManagedKeys", "true with environment=prod"),
        (
            "dev",
            {"customerManagedKeys": True, "cacheKmsKeyArn": "arn:aws:kms:eu-west-1:123456789012:alias/mine"},
            "cacheKmsKeyArn",
            "empty when customerManagedKeys is true",
        ),
        (
            "dev",
            {"customerManagedKeys": True, "dbKmsKeyArn": "arn:aws:kms:eu-west-1:123456789012:alias/mine"},
            "dbKmsKeyArn",
            "empty when customerManagedKeys is true",
        ),
        ("dev", {"dbAppUsername": "catalog_admin"}, "dbAppUsername", "a login other than dbUsername (catalog_admin)"),
        ("dev", {"dbAppUsername": "pg_app"}, "dbAppUsername", "not pg_"),
        ("dev", {"dbMonitoringIntervalSeconds": 2}, "dbMonitoringIntervalSeconds", "one of 0, 1, 5, 10, 15, 30, 60"),
        ("dev", {"cacheAuthRotationDays": 0}, "cacheAuthRotationDays", "a whole number from 1 to 1000 days"),
        ("dev", {"cacheIamAuth": "maybe"}, "cacheIamAuth", "true or false"),
    ],
)
def test_contradicting_settings_are_refused_before_anything_exists(
    stack: str, overrides: dict[str, Any], key: str, allowed: str
) -> None:
    assert_config_rejected(stack, overrides, key, allowed)


def test_key_policies_and_task_roles_are_plain_json() -> None:
    """What the pack reads at preview is known then: the key policies (plain role ARNs and log group
    names). The task roles' database policy names the DbiResourceId, allow-listed as decided during `up`
    (tests/policies/test_program.py)."""
    preview = cached_run("prod", preview=True)
    for key in _keys(preview).values():
        json.loads(key.inputs["policy"])
