"""How clients authenticate to the Valkey/Redis cache: IAM (a user group with the app's IAM user and a
disabled default user) where the engine has it, otherwise an AUTH token in Secrets Manager rotated by
the stack's own function. Resources, IAM documents (parsed, ARNs exact), request shapes against
botocore's models, the access strings on a real Redis server, and the pack with every policy mandatory.
The rotation function's own steps are tested in test_cache_auth_rotation.py."""

from __future__ import annotations

import dataclasses
import importlib
import subprocess
from collections.abc import Iterator
from typing import Any, Final

import botocore.session
import pulumi
import pytest
import redis
from botocore.model import StructureShape

from components.aws_context import AwsContext
from components.cache import (
    APP_ACCESS_STRING,
    DEFAULT_USER_ACCESS_STRING,
    MAX_ROTATION_DAYS,
    ROTATION_HANDLER,
    Cache,
    CacheArgs,
    CacheSpec,
)
from components.errors import InputError
from components.kms_keys import KeyArns
from mockcloud.runner import StackRun
from offline.policy.pack import PolicyPackProcess
from stack.settings import CACHE
from tests.app.servers import RedisServer
from tests.aws_validation import statements, validate_request
from tests.policies.support import ALL_MANDATORY
from tests.support import ComponentRunner, config_defaults

ACCOUNT: Final = "123456789012"
CONTEXT: Final = AwsContext(account_id=ACCOUNT, region="eu-west-1")
AZS: Final = ["eu-west-1a", "eu-west-1b"]
RG: Final = "aws:elasticache/replicationGroup:ReplicationGroup"
USER: Final = "aws:elasticache/user:User"
USER_GROUP: Final = "aws:elasticache/userGroup:UserGroup"
SECRET: Final = "aws:secretsmanager/secret:Secret"
ROTATION: Final = "aws:secretsmanager/secretRotation:SecretRotation"
FUNCTION: Final = "aws:lambda/function:Function"
PERMISSION: Final = "aws:lambda/permission:Permission"
KEYS: Final = KeyArns(
    logs=f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/00000000-0000-0000-0000-00000000000a",
    data=f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/00000000-0000-0000-0000-00000000000b",
    secrets=f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/00000000-0000-0000-0000-00000000000c",
    secrets_alias_arn=f"arn:aws:kms:eu-west-1:{ACCOUNT}:alias/platform/test/secrets",
)
SPEC_FIELDS = {f.name for f in dataclasses.fields(CacheSpec)}
TOKEN_MODE: Final[dict[str, Any]] = {"engine": "redis", "engine_version": "6.2"}
"""Redis OSS 6.2 has no IAM authentication: the group keeps a (rotated) AUTH token."""


def _args(**overrides: Any) -> CacheArgs:
    spec = {
        **config_defaults(CACHE, CacheSpec),
        "identifier": "platform-test",
        "final_snapshot": False,
        "protect": False,
        "apply_immediately": False,
        **{k: v for k, v in overrides.items() if k in SPEC_FIELDS},
    }
    wiring: dict[str, Any] = {"context": CONTEXT, "vpc_id": "vpc-1", "subnet_ids": ["subnet-1", "subnet-2"]}
    wiring |= {"availability_zones": AZS, **{k: v for k, v in overrides.items() if k not in SPEC_FIELDS}}
    return CacheArgs(**wiring, spec=CacheSpec(**spec))


def _cache(run_component: ComponentRunner, *, preview: bool = False, **overrides: Any) -> StackRun:
    args = _args(**overrides)

    def program() -> None:
        cache = Cache("cache", args)
        for attribute in ("auth_mode", "iam_user_id", "user_group_id", "replication_group_id", "auth_secret_arn",
                          "auth_secret_kms_key_arn", "client_policy_statements", "log_group_names",
                          "rotation_role_arn"):  # fmt: skip
            pulumi.export(attribute, getattr(cache, attribute))

    return run_component(program, preview=preview)


def _by_sid(document: str) -> dict[str, dict[str, Any]]:
    return {s["Sid"]: s for s in statements(document)}


# -- which mode ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("engine", "version", "iam_auth", "mode"),
    [
        ("valkey", "7.2", True, "iam"),
        ("valkey", "8.1", True, "iam"),
        ("redis", "7.0", True, "iam"),
        ("redis", "7.1", True, "iam"),
        ("redis", "6.2", True, "token"),  # IAM authentication needs Redis OSS 7.0 or later
        ("valkey", "8.1", False, "token"),
    ],
)
def test_iam_authentication_where_the_engine_has_it(engine: str, version: str, iam_auth: bool, mode: str) -> None:
    spec = _args(engine=engine, engine_version=version, iam_auth=iam_auth).spec
    assert spec.auth_mode == mode


# -- IAM --------------------------------------------------------------------------------------------
def test_iam_mode_is_a_user_group_of_the_app_user_and_a_disabled_default(run_component: ComponentRunner) -> None:
    run = _cache(run_component)
    users = {u.inputs["userName"]: u.inputs for u in run.of_type(USER)}
    assert users == {
        # IAM-authenticated users must have the same user ID and user name (ElastiCache User Guide,
        # "Authenticating with IAM", Limitations).
        "platform-test-app": {
            "userId": "platform-test-app",
            "userName": "platform-test-app",
            "engine": "valkey",
            "accessString": APP_ACCESS_STRING,
            "authenticationMode": {"type": "iam"},
        },
        # Every user group contains a user named default; this one is off, so an unauthenticated
        # connection can run nothing (ElastiCache's own "default" user may run everything).
        "default": {
            "userId": "platform-test-default",
            "userName": "default",
            "engine": "valkey",
            "accessString": DEFAULT_USER_ACCESS_STRING,
            "authenticationMode": {"type": "no-password-required"},
        },
    }
    group = run.one(USER_GROUP)
    assert group.inputs == {
        "userGroupId": "platform-test-users",
        "engine": "valkey",
        "userIds": ["platform-test-default", "platform-test-app"],
    }
    rg = run.one(RG).inputs
    assert rg["userGroupIds"] == ["platform-test-users"]
    assert "authToken" not in rg
    # DELETE is how an existing group moves from its token to the user group (ignored on creation).
    assert rg["authTokenUpdateStrategy"] == "DELETE"
    assert rg["transitEncryptionEnabled"] is True  # IAM authentication requires TLS
    for kind in (SECRET, ROTATION, FUNCTION, "random:index/randomPassword:RandomPassword"):
        assert run.of_type(kind) == [], f"no long-lived secret with IAM auth: found {kind}"
    assert (run.outputs["auth_mode"], run.outputs["iam_user_id"], run.outputs["user_group_id"]) == (
        "iam",
        "platform-test-app",
        "platform-test-users",
    )
    assert run.outputs["replication_group_id"] == "platform-test"
    assert run.outputs["auth_secret_arn"] is None


def test_clients_may_connect_as_exactly_the_app_user_to_exactly_this_group(run_component: ComponentRunner) -> None:
    (statement,) = _cache(run_component).outputs["client_policy_statements"]
    assert statement == {
        "Sid": "ConnectAsTheAppUser",
        "Effect": "Allow",
        "Action": "elasticache:Connect",
        "Resource": [
            f"arn:aws:elasticache:eu-west-1:{ACCOUNT}:replicationgroup:platform-test",
            f"arn:aws:elasticache:eu-west-1:{ACCOUNT}:user:platform-test-app",
        ],
    }


def test_user_and_group_requests_fit_botocores_elasticache_model(run_component: ComponentRunner) -> None:
    run = _cache(run_component)
    for user in run.of_type(USER):
        inputs = user.inputs
        request = {
            "UserId": inputs["userId"],
            "UserName": inputs["userName"],
            "Engine": inputs["engine"],
            "AccessString": inputs["accessString"],
            "AuthenticationMode": {"Type": inputs["authenticationMode"]["type"]},
        }
        assert validate_request("elasticache", "CreateUser", request) == [], user.name
    group = run.one(USER_GROUP).inputs
    create = {"UserGroupId": group["userGroupId"], "Engine": group["engine"], "UserIds": group["userIds"]}
    assert validate_request("elasticache", "CreateUserGroup", create) == []
    # An existing token group moves to the user group in one modification.
    migrate = {"ReplicationGroupId": "platform-test", "AuthTokenUpdateStrategy": "DELETE",
               "UserGroupIdsToAdd": [group["userGroupId"]], "ApplyImmediately": True}  # fmt: skip
    assert validate_request("elasticache", "ModifyReplicationGroup", migrate) == []
    # Not vacuous: the model refuses an authentication type it does not know and a user ID it cannot store.
    bad = {"UserId": "1-app", "UserName": "x", "Engine": "valkey", "AccessString": "on",
           "AuthenticationMode": {"Type": "kerberos"}}  # fmt: skip
    assert len(validate_request("elasticache", "CreateUser", bad)) == 2


@pytest.fixture(scope="module")
def private_redis() -> Iterator[RedisServer]:
    """A private redis-server (ACL changes are never made on the shared one)."""
    server = RedisServer().start()
    try:
        yield server
    finally:
        server.close()


# What the app sends (app/src/catalog: get/set/unlink/delete, Lua scripts, SCAN for the ops stats,
# INFO, PING) and what redis-py and cluster clients send on their own (HELLO, CLIENT SETNAME, CLUSTER
# SLOTS/SHARDS, READONLY on replicas).
APP_COMMANDS: Final[tuple[tuple[str, ...], ...]] = (
    ("GET", "k"), ("SET", "k", "v", "PX", "1000", "NX"), ("MGET", "a", "b"), ("DEL", "k"), ("UNLINK", "k"),
    ("EXPIRE", "k", "5"), ("PTTL", "k"), ("INCR", "n"), ("EVAL", "return 1", "0"),
    ("EVALSHA", "0" * 40, "0"), ("SCRIPT", "LOAD", "return 1"), ("SCAN", "0", "MATCH", "catalog:*", "COUNT", "100"),
    ("INFO", "memory"), ("PING",), ("HELLO", "3"), ("CLIENT", "SETNAME", "api"), ("CLUSTER", "SLOTS"),
    ("CLUSTER", "SHARDS"), ("READONLY",), ("DBSIZE",), ("MEMORY", "USAGE", "k"),
)  # fmt: skip
REFUSED: Final[tuple[tuple[str, ...], ...]] = (
    ("FLUSHALL",), ("FLUSHDB",), ("KEYS", "*"), ("CONFIG", "GET", "maxmemory"), ("DEBUG", "SLEEP", "0"),
    ("MONITOR",), ("CLIENT", "KILL", "ID", "1"), ("SHUTDOWN",), ("REPLICAOF", "NO", "ONE"),
)  # fmt: skip


def test_access_strings_on_a_real_redis(private_redis: RedisServer) -> None:
    """ElastiCache applies the access strings as Redis ACL rules (passwords are its own business): on a
    real server the app user may run what the app runs and nothing of @dangerous, and the default user
    lets no unauthenticated connection do anything."""
    admin = redis.Redis(port=private_redis.port)

    def acl(*args: str) -> bytes:
        answer: bytes = admin.execute_command("ACL", *args)  # type: ignore[no-untyped-call]
        return answer

    assert acl("SETUSER", "app", *APP_ACCESS_STRING.split(), ">app-password") == b"OK"
    for command in APP_COMMANDS:
        assert acl("DRYRUN", "app", *command) == b"OK", command
    for refused in REFUSED:
        assert b"no permissions" in acl("DRYRUN", "app", *refused), refused
    assert acl("SETUSER", "default", "reset", *DEFAULT_USER_ACCESS_STRING.split()) == b"OK"
    anonymous = redis.Redis(port=private_redis.port)
    with pytest.raises(redis.AuthenticationError):
        anonymous.ping()  # NOAUTH: the default user is off
    app = redis.Redis(port=private_redis.port, username="app", password="app-password")
    assert app.set("k", "v")
    assert app.get("k") == b"v"
    with pytest.raises(redis.exceptions.NoPermissionError):
        app.flushall()
    cli = subprocess.run(
        ["redis-cli", "-p", str(private_redis.port), "--user", "default", "--pass", "anything", "PING"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert "PONG" not in cli.stdout, "the disabled default user cannot log in with any password"


# -- token, rotated ---------------------------------------------------------------------------------
def test_without_iam_auth_the_token_secret_rotates_by_the_stacks_own_function(run_component: ComponentRunner) -> None:
    run = _cache(run_component, auth_rotation_days=14, log_retention_days=30, **TOKEN_MODE)
    secret, rotation, function, permission = (run.one(t) for t in (SECRET, ROTATION, FUNCTION, PERMISSION))
    group = run.one(RG)
    assert group.inputs["authTokenUpdateStrategy"] == "ROTATE"
    assert "userGroupIds" not in group.inputs

    assert rotation.inputs["secretId"] == secret.id
    assert rotation.inputs["rotationLambdaArn"] == function.outputs["arn"]
    assert rotation.inputs["rotationRules"] == {"automaticallyAfterDays": 14}
    assert rotation.inputs["rotateImmediately"] is True
    # The function modifies the group, and Secrets Manager must be allowed to invoke it.
    assert {group.urn, permission.urn} <= set(rotation.dependencies)

    fn = function.inputs
    assert (fn["name"], fn["runtime"], fn["handler"]) == (
        "platform-test-auth-rotation",
        "python3.13",
        "cache_auth_token_rotation.lambda_handler",
    )
    assert fn["timeout"] == 900
    assert fn["environment"] == {
        "variables": {"SECRET_ARN": secret.outputs["arn"], "REPLICATION_GROUP_ID": "platform-test"}
    }
    assert fn["role"] == f"arn:aws:iam::{ACCOUNT}:role/platform-test-rotation-eu-west-1"
    assert fn["loggingConfig"]["logGroup"] == "/aws/lambda/platform-test-auth-rotation"
    assets = fn["code"].assets
    assert list(assets) == [ROTATION_HANDLER.name]
    assert assets[ROTATION_HANDLER.name].path == str(ROTATION_HANDLER)
    # The uploaded file is the handler the function names, and it imports nothing of the project.
    module = importlib.import_module("components.lambdas.cache_auth_token_rotation")
    assert module.__file__ == str(ROTATION_HANDLER)
    assert callable(module.lambda_handler)
    assert not [
        line
        for line in ROTATION_HANDLER.read_text().splitlines()
        if line.startswith(("from components", "import components"))
    ]

    assert permission.inputs == {
        "action": "lambda:InvokeFunction",
        "function": function.outputs["name"],
        "principal": "secretsmanager.amazonaws.com",
        "sourceAccount": ACCOUNT,
        "sourceArn": secret.outputs["arn"],
    }
    (log_group,) = [g for g in run.of_type("aws:cloudwatch/logGroup:LogGroup") if "lambda" in g.inputs["name"]]
    assert log_group.inputs["retentionInDays"] == 30
    assert log_group.inputs["name"] in run.outputs["log_group_names"]
    assert run.outputs["auth_mode"] == "token"
    assert run.outputs["rotation_role_arn"] == fn["role"]


def test_the_rotation_role_may_touch_exactly_its_secret_and_group(run_component: ComponentRunner) -> None:
    run = _cache(run_component, **TOKEN_MODE)
    role = run.one("aws:iam/role:Role", "cache-rotation-role")
    assert role.inputs["name"] == "platform-test-rotation-eu-west-1"
    (trust,) = statements(role.inputs["assumeRolePolicy"])
    assert trust == {
        "Effect": "Allow",
        "Principal": {"Service": "lambda.amazonaws.com"},
        "Action": "sts:AssumeRole",
        "Condition": {
            "StringEquals": {"aws:SourceAccount": ACCOUNT},
            "ArnLike": {"aws:SourceArn": f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:platform-test-auth-rotation"},
        },
    }
    policy = _by_sid(run.one("aws:iam/rolePolicy:RolePolicy", "cache-rotation-policy").inputs["policy"])
    secret_arn = run.one(SECRET).outputs["arn"]
    assert policy["RotateThisSecret"]["Resource"] == secret_arn
    assert sorted(policy["RotateThisSecret"]["Action"]) == [
        "secretsmanager:DescribeSecret",
        "secretsmanager:GetSecretValue",
        "secretsmanager:ListSecretVersionIds",
        "secretsmanager:PutSecretValue",
        "secretsmanager:UpdateSecretVersionStage",
    ]
    assert policy["SetTheTokenOnThisGroup"] == {
        "Sid": "SetTheTokenOnThisGroup",
        "Effect": "Allow",
        "Action": "elasticache:ModifyReplicationGroup",
        "Resource": f"arn:aws:elasticache:eu-west-1:{ACCOUNT}:replicationgroup:platform-test",
    }
    # '*' only where IAM offers no resource-level permission.
    assert {sid for sid, s in policy.items() if s["Resource"] == "*"} == {"GenerateTokens", "WatchTheGroupApplyIt"}
    assert policy["WriteOwnLogs"]["Resource"] == (
        f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:/aws/lambda/platform-test-auth-rotation:log-stream:*"
    )
    assert "UseTheSecretsKey" not in policy  # AWS-managed key: nothing to grant
    # Clients read the current token from the secret (and again on an AUTH failure): no restart per rotation.
    assert run.outputs["client_policy_statements"] == [
        {
            "Sid": "ReadTheCurrentAuthToken",
            "Effect": "Allow",
            "Action": "secretsmanager:GetSecretValue",
            "Resource": secret_arn,
        }
    ]


def test_rotate_secret_request_fits_botocores_model(run_component: ComponentRunner) -> None:
    run = _cache(run_component, **TOKEN_MODE)
    rotation = run.one(ROTATION).inputs
    request = {
        "SecretId": rotation["secretId"],
        "RotationLambdaARN": rotation["rotationLambdaArn"],
        "RotationRules": {"AutomaticallyAfterDays": int(rotation["rotationRules"]["automaticallyAfterDays"])},
        "RotateImmediately": rotation["rotateImmediately"],
    }
    assert validate_request("secretsmanager", "RotateSecret", request) == []
    # The component's range is the model's (botocore's validator checks no maximum itself).
    rules = botocore.session.get_session().get_service_model("secretsmanager").shape_for("RotationRulesType")
    assert isinstance(rules, StructureShape)
    days = rules.members["AutomaticallyAfterDays"].metadata
    assert (days["min"], days["max"]) == (1, MAX_ROTATION_DAYS)
    with pytest.raises(InputError, match="'auth_rotation_days' = 1001 is not valid"):
        _args(auth_rotation_days=1001, **TOKEN_MODE)


def test_stack_keys_encrypt_the_token_its_logs_and_the_data(run_component: ComponentRunner) -> None:
    run = _cache(run_component, keys=KEYS, **TOKEN_MODE)
    assert run.one(RG).inputs["kmsKeyId"] == KEYS.data
    assert run.one(SECRET).inputs["kmsKeyId"] == KEYS.secrets
    groups = run.of_type("aws:cloudwatch/logGroup:LogGroup")
    assert len(groups) == 3
    assert {g.inputs["kmsKeyId"] for g in groups} == {KEYS.logs}
    assert run.outputs["auth_secret_kms_key_arn"] == KEYS.secrets_alias_arn
    policy = _by_sid(run.one("aws:iam/rolePolicy:RolePolicy", "cache-rotation-policy").inputs["policy"])
    assert policy["UseTheSecretsKey"] == {
        "Sid": "UseTheSecretsKey",
        "Effect": "Allow",
        "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
        "Resource": f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/*",
        "Condition": {
            "StringEquals": {"kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com"},
            "ForAnyValue:StringEquals": {"kms:ResourceAliases": "alias/platform/test/secrets"},
        },
    }
    decrypt = [s for s in run.outputs["client_policy_statements"] if s["Sid"] == "DecryptSecretsByKeyAlias"]
    assert decrypt
    assert decrypt[0]["Condition"]["ForAnyValue:StringEquals"] == {
        "kms:ResourceAliases": ["alias/platform/test/secrets"]
    }
    iam = _cache(run_component, keys=KEYS)
    assert iam.one(RG).inputs["kmsKeyId"] == KEYS.data
    assert {g.inputs["kmsKeyId"] for g in iam.of_type("aws:cloudwatch/logGroup:LogGroup")} == {KEYS.logs}
    with pytest.raises(InputError, match=r"'keys' .* None when spec.kms_key_arn is set"):
        _args(keys=KEYS, kms_key_arn=KEYS.data)


@pytest.mark.parametrize("mode", [{}, TOKEN_MODE], ids=["iam", "token"])
def test_both_modes_pass_the_pack_with_every_policy_mandatory(
    run_component: ComponentRunner, mode: dict[str, Any]
) -> None:
    run = _cache(run_component, keys=KEYS, snapshot_retention_days=7, **mode)
    with PolicyPackProcess() as pack:
        report = pack.analyze(run, config=ALL_MANDATORY)
    # Tags come from the stack's provider (aws:defaultTags), which a component test has none of.
    ours = [
        f"{v.policy} on {v.resource}: {v.detail}"
        for v in report.violations
        if "cache-" in (v.resource or "") and v.policy != "required-tags"
    ]
    assert ours == []
    assert {"elasticache-auth", "secretsmanager-rotation", "secretsmanager-cmk", "elasticache-cmk"} <= set(
        report.levels
    )
