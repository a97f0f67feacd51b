"""The stack's customer-managed keys alone: rotation, aliases, and key policies that grant exactly the
services and roles that use them (parsed and checked statement by statement), in request shapes
botocore's KMS model accepts, and through the policy pack with every policy mandatory."""

from __future__ import annotations

import json
from typing import Any, Final

import pulumi
import pulumi_aws as aws
import pytest

from components.aws_context import AwsContext
from components.errors import InputError
from components.kms_keys import (
    KMS_KEYS_TYPE,
    DataKeys,
    DataKeysArgs,
    KeyArns,
    check_alias_prefix,
    key_alias,
    secret_decrypt_statements,
)
from mockcloud.monitor import CapturedResource
from mockcloud.runner import StackRun
from offline.policy.pack import PolicyPackProcess
from tests.aws_validation import actions, statements, validate_kms_request
from tests.policies.support import ALL_MANDATORY
from tests.support import ComponentRunner

ACCOUNT: Final = "123456789012"
CONTEXT: Final = AwsContext(account_id=ACCOUNT, region="eu-west-1")
ROOT: Final = f"arn:aws:iam::{ACCOUNT}:root"
EXECUTION_ROLES: Final = (
    f"arn:aws:iam::{ACCOUNT}:role/prod-api-execution",
    f"arn:aws:iam::{ACCOUNT}:role/prod-ops-execution",
)
PI_READER: Final = f"arn:aws:iam::{ACCOUNT}:role/dba"


def _args(**overrides: Any) -> DataKeysArgs:
    values: dict[str, Any] = {
        "context": CONTEXT,
        "alias_prefix": "container-platform/prod",
        "log_group_prefixes": ["/aws/vpc/prod-", "/aws/elasticache/prod-", "/aws/rds/instance/prod-", "/ecs/prod-"],
        "secret_reader_role_arns": list(EXECUTION_ROLES),
        "performance_insights_reader_role_arns": [PI_READER],
        **overrides,
    }
    return DataKeysArgs(**values)


def _keys(run_component: ComponentRunner, preview: bool = False, **overrides: Any) -> StackRun:
    return run_component(lambda: DataKeys("prod-keys", _args(**overrides)), preview=preview)


def _key(run: StackRun, data_class: str) -> CapturedResource:
    return run.one("aws:kms/key:Key", f"prod-keys-{data_class}")


def _policy(run: StackRun, data_class: str) -> list[dict[str, Any]]:
    return statements(_key(run, data_class).inputs["policy"])


def _by_sid(policy: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {s["Sid"]: s for s in policy}


@pytest.fixture
def run(run_component: ComponentRunner) -> StackRun:
    return _keys(run_component)


def test_three_rotating_keys_with_aliases_per_data_class(run: StackRun) -> None:
    keys = run.of_type("aws:kms/key:Key")
    assert sorted(k.name for k in keys) == ["prod-keys-data", "prod-keys-logs", "prod-keys-secrets"]
    for key in keys:
        assert key.inputs["enableKeyRotation"] is True
        assert key.inputs["rotationPeriodInDays"] == 365
        assert key.inputs["deletionWindowInDays"] == 30
        assert (key.inputs["keyUsage"], key.inputs["customerMasterKeySpec"]) == ("ENCRYPT_DECRYPT", "SYMMETRIC_DEFAULT")
    aliases = sorted(a.inputs["name"] for a in run.of_type("aws:kms/alias:Alias"))
    assert aliases == [f"alias/container-platform/prod/{c}" for c in ("data", "logs", "secrets")]
    assert all(r.parent == run.one(KMS_KEYS_TYPE).urn for r in [*keys, *run.of_type("aws:kms/alias:Alias")])


def test_only_the_account_root_holds_every_key_permission(run: StackRun) -> None:
    for data_class in ("logs", "data", "secrets"):
        policy = _policy(run, data_class)
        broad = [s for s in policy if any(a in ("*", "kms:*") for a in actions(s))]
        assert broad == [
            {
                "Sid": "AccountAdministersThroughIam",
                "Effect": "Allow",
                "Principal": {"AWS": ROOT},
                "Action": "kms:*",
                "Resource": "*",
            }
        ], data_class
        # Every other statement is conditioned: a service, an encryption context, the account and service.
        for statement in policy:
            if statement is not broad[0]:
                assert statement["Effect"] == "Allow"
                assert statement.get("Condition"), f"{data_class}: {statement['Sid']} has no condition"
                assert not any(a.endswith(":*") or a == "*" for a in actions(statement))


def test_cloudwatch_logs_may_use_the_logs_key_for_this_stacks_groups_only(run: StackRun) -> None:
    (logs,) = [s for s in _policy(run, "logs") if s["Sid"] == "CloudWatchLogsEncryptsThisStacksGroups"]
    assert logs["Principal"] == {"Service": "logs.eu-west-1.amazonaws.com"}
    context = logs["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]
    assert context == [
        f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:/aws/vpc/prod-*",
        f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:/aws/elasticache/prod-*",
        f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:/aws/rds/instance/prod-*",
        f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:/ecs/prod-*",
    ]
    assert len(_policy(run, "logs")) == 2


def test_data_key_is_for_rds_and_elasticache_of_this_account(run: StackRun) -> None:
    policy = _by_sid(_policy(run, "data"))
    assert set(policy) == {
        "AccountAdministersThroughIam",
        "RdsAndElastiCacheForThisAccount",
        "RdsAndElastiCacheGrantsForTheirResources",
        "ReadPerformanceInsights",
    }
    use = policy["RdsAndElastiCacheForThisAccount"]["Condition"]["StringEquals"]
    assert use == {
        "kms:CallerAccount": ACCOUNT,
        "kms:ViaService": ["rds.eu-west-1.amazonaws.com", "elasticache.eu-west-1.amazonaws.com"],
    }
    grants = policy["RdsAndElastiCacheGrantsForTheirResources"]
    assert actions(grants) == ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"]
    assert grants["Condition"]["Bool"] == {"kms:GrantIsForAWSResource": "true"}
    insights = policy["ReadPerformanceInsights"]
    assert insights["Principal"] == {"AWS": [PI_READER]}
    assert actions(insights) == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert insights["Condition"]["StringEquals"] == {"kms:ViaService": "rds.eu-west-1.amazonaws.com"}
    assert insights["Condition"]["ForAnyValue:StringEquals"]["kms:EncryptionContext:aws:pi:service"] == "rds"


def test_only_named_roles_decrypt_secrets(run: StackRun) -> None:
    policy = _by_sid(_policy(run, "secrets"))
    decrypting = {
        sid: s for sid, s in policy.items() if "kms:Decrypt" in actions(s) and sid != "AccountAdministersThroughIam"
    }
    assert set(decrypting) == {"NamedRolesReadSecrets", "RdsRotatesItsManagedSecrets"}
    assert decrypting["NamedRolesReadSecrets"]["Principal"] == {"AWS": sorted(EXECUTION_ROLES)}
    assert decrypting["NamedRolesReadSecrets"]["Condition"]["StringEquals"]["kms:ViaService"] == (
        "secretsmanager.eu-west-1.amazonaws.com"
    )
    rds = decrypting["RdsRotatesItsManagedSecrets"]["Condition"]
    assert rds["StringLike"] == {
        "kms:EncryptionContext:SecretARN": f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:rds!*"
    }
    encrypt = policy["SecretsManagerEncryptsForThisAccount"]
    assert "kms:Decrypt" not in actions(encrypt)
    assert encrypt["Condition"]["StringEquals"]["kms:CallerAccount"] == ACCOUNT


def test_requests_fit_botocores_kms_model(run: StackRun) -> None:
    for key in run.of_type("aws:kms/key:Key"):
        inputs = key.inputs
        create = {
            "Policy": inputs["policy"],
            "Description": inputs["description"],
            "KeyUsage": inputs["keyUsage"],
            "KeySpec": inputs["customerMasterKeySpec"],
        }
        assert validate_kms_request("CreateKey", create) == [], key.name
        assert (
            validate_kms_request("PutKeyPolicy", {"KeyId": key.id, "Policy": inputs["policy"], "PolicyName": "default"})
            == []
        )
        rotation = {"KeyId": key.id, "RotationPeriodInDays": int(inputs["rotationPeriodInDays"])}
        assert validate_kms_request("EnableKeyRotation", rotation) == []
        deletion = {"KeyId": key.id, "PendingWindowInDays": int(inputs["deletionWindowInDays"])}
        assert validate_kms_request("ScheduleKeyDeletion", deletion) == []
        json.loads(inputs["policy"])
    for alias in run.of_type("aws:kms/alias:Alias"):
        assert validate_kms_request("CreateAlias", {"AliasName": alias.inputs["name"], "TargetKeyId": "x"}) == []
    # The validator is not vacuous: AWS's limits reject what the component refuses.
    assert validate_kms_request("EnableKeyRotation", {"KeyId": "k", "RotationPeriodInDays": 30}) != []
    assert validate_kms_request("CreateAlias", {"AliasName": "alias/bad name", "TargetKeyId": "k"}) != []


def test_policies_are_known_at_preview_and_pass_the_pack(run_component: ComponentRunner) -> None:
    preview = _keys(run_component, preview=True)
    for key in preview.of_type("aws:kms/key:Key"):
        assert isinstance(key.inputs["policy"], str)
    with PolicyPackProcess() as pack:
        report = pack.analyze(preview, config=ALL_MANDATORY)
    on_keys = [f"{v.policy} on {v.resource}: {v.detail}" for v in report.violations if "prod-keys" in v.urn]
    assert on_keys == []


@pytest.mark.parametrize(
    ("overrides", "setting"),
    [
        ({"alias_prefix": "aws/prod"}, "alias_prefix"),
        ({"alias_prefix": "alias/prod"}, "alias_prefix"),
        ({"alias_prefix": "prod keys"}, "alias_prefix"),
        ({"log_group_prefixes": []}, "log_group_prefixes"),
        ({"log_group_prefixes": ["/ecs/prod-*"]}, "log_group_prefixes[0]"),
        ({"secret_reader_role_arns": []}, "secret_reader_role_arns"),
        ({"secret_reader_role_arns": ["arn:aws:iam::210987654321:role/elsewhere"]}, "secret_reader_role_arns[0]"),
        ({"secret_reader_role_arns": [f"arn:aws:iam::{ACCOUNT}:user/bob"]}, "secret_reader_role_arns[0]"),
        ({"performance_insights_reader_role_arns": ["*"]}, "performance_insights_reader_role_arns[0]"),
        ({"rotation_period_days": 30}, "rotation_period_days"),
        ({"rotation_period_days": 3000}, "rotation_period_days"),
        ({"deletion_window_days": 5}, "deletion_window_days"),
        ({"deletion_window_days": 31}, "deletion_window_days"),
    ],
)
def test_bad_input_is_refused_naming_the_setting(overrides: dict[str, Any], setting: str) -> None:
    with pytest.raises(InputError) as error:
        _args(**overrides)
    assert error.value.setting == setting
    assert error.value.allowed


def test_without_performance_insights_readers_there_is_no_reader_statement(run_component: ComponentRunner) -> None:
    run = _keys(run_component, performance_insights_reader_role_arns=[])
    assert "ReadPerformanceInsights" not in _by_sid(_policy(run, "data"))


def test_keys_wait_for_the_roles_their_policies_name(run_component: ComponentRunner) -> None:
    """KMS refuses a key policy whose principals do not exist yet: the keys depend on those roles."""

    def program() -> None:
        role = aws.iam.Role("reader", name="prod-api-execution", assume_role_policy="{}")
        keys = DataKeys("prod-keys", _args(secret_reader_role_arns=[EXECUTION_ROLES[0]], after=[role]))
        pulumi.export("aliases", keys.alias_arns)
        pulumi.export("arns", [keys.arns.logs, keys.arns.data, keys.arns.secrets, keys.arns.secrets_alias_arn])

    run = run_component(program)
    role = run.one("aws:iam/role:Role")
    for key in run.of_type("aws:kms/key:Key"):
        assert role.urn in key.dependencies, key.name
    assert run.outputs["aliases"] == {
        c: f"arn:aws:kms:eu-west-1:{ACCOUNT}:alias/container-platform/prod/{c}" for c in ("logs", "data", "secrets")
    }
    keys = {k.name.rsplit("-", 1)[1]: k.outputs["arn"] for k in run.of_type("aws:kms/key:Key")}
    assert run.outputs["arns"] == [keys["logs"], keys["data"], keys["secrets"], run.outputs["aliases"]["secrets"]]
    assert key_alias("container-platform/prod", "secrets") == "alias/container-platform/prod/secrets"


def test_secret_readers_decrypt_only_through_secrets_manager_or_ssm() -> None:
    key = f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    alias = f"arn:aws:kms:eu-west-1:{ACCOUNT}:alias/container-platform/prod/secrets"
    by_sid = {s["Sid"]: s for s in secret_decrypt_statements(CONTEXT, [key, alias, alias])}
    via = {"kms:ViaService": ["secretsmanager.eu-west-1.amazonaws.com", "ssm.eu-west-1.amazonaws.com"]}
    assert by_sid["DecryptSecretsViaTheirServices"] == {
        "Sid": "DecryptSecretsViaTheirServices",
        "Effect": "Allow",
        "Action": "kms:Decrypt",
        "Resource": [key],
        "Condition": {"StringEquals": via},
    }
    # An alias cannot be a key operation's resource: the key it names is matched by kms:ResourceAliases.
    assert by_sid["DecryptSecretsByKeyAlias"] == {
        "Sid": "DecryptSecretsByKeyAlias",
        "Effect": "Allow",
        "Action": "kms:Decrypt",
        "Resource": f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/*",
        "Condition": {
            "StringEquals": via,
            "ForAnyValue:StringEquals": {"kms:ResourceAliases": ["alias/container-platform/prod/secrets"]},
        },
    }
    assert secret_decrypt_statements(CONTEXT, []) == []


def test_key_references_and_alias_prefixes_are_checked() -> None:
    with pytest.raises(InputError) as error:
        KeyArns(logs="k", data="k", secrets="k", secrets_alias_arn=f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/x")
    assert error.value.setting == "keys.secrets_alias_arn"
    for bad in ("aws/prod", "prod.keys", "a//b"):
        with pytest.raises(InputError):
            check_alias_prefix("alias_prefix", bad)
    check_alias_prefix("alias_prefix", "container-platform/prod")
