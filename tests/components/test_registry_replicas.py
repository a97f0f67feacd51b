"""Replicated repositories keep the source's settings: creation templates, scanning, keys per region.

Each template is checked as the CreateRepositoryCreationTemplate request it becomes against
botocore's ecr model, and the registry scanning configuration as PutRegistryScanningConfiguration.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.aws_context import AwsContext
from components.errors import InputError
from components.registry import (
    OWNER_LOCK_PARAMETER,
    PULL_ACTIONS,
    Registry,
    RegistryArgs,
    RegistryWideSettings,
    ReplicationDestination,
    RetentionPolicy,
    template_role_policy,
)
from mockcloud.runner import StackRun
from stack.settings import REGISTRY, RETENTION
from tests.aws_validation import (
    create_repository_creation_template_request,
    statements,
    validate_request,
    wildcard_actions,
)
from tests.support import ComponentRunner, config_defaults, unknown_paths

CONTEXT = AwsContext(account_id="123456789012", region="eu-west-1")
OTHER_ACCOUNT = "210987654321"
TEMPLATE = "aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate"
SCANNING = "aws:ecr/registryScanningConfiguration:RegistryScanningConfiguration"
LOCK = "aws:ssm/parameter:Parameter"
REPOSITORY = "aws:ecr/repository:Repository"
KEY = "aws:kms/key:Key"


def _settings(*destinations: ReplicationDestination, scanning: str = "enhanced-continuous") -> RegistryWideSettings:
    return RegistryWideSettings(
        scanning=scanning,  # type: ignore[arg-type]
        scan_filters=("container-platform/*",),
        replication_destinations=destinations or (ReplicationDestination(region="eu-central-1"),),
        replication_filters=("container-platform/",),
    )


def _args(**overrides: Any) -> RegistryArgs:
    values: dict[str, Any] = {
        **config_defaults(REGISTRY, RegistryArgs),
        "context": CONTEXT,
        "namespace": "container-platform",
        "stack": "prod",
        "repositories": ("app",),
        "lifecycle_rules": RetentionPolicy(**config_defaults(RETENTION, RetentionPolicy)).rules,
        "force_delete": False,
        "registry_settings": _settings(),
        "replica_settings": True,
        **overrides,
    }
    return RegistryArgs(**values)


def _registry(run_component: ComponentRunner, *, preview: bool = False, **overrides: Any) -> StackRun:
    return run_component(lambda: Registry("reg", _args(**overrides)), preview=preview)


def test_each_same_account_destination_gets_a_template_with_the_sources_settings(
    run_component: ComponentRunner,
) -> None:
    run = _registry(run_component, pull_principals=[OTHER_ACCOUNT], build_cache_tag="buildcache")
    template = run.one(TEMPLATE)
    repository = run.one(REPOSITORY)
    assert template.inputs["region"] == "eu-central-1"
    request = create_repository_creation_template_request(template)
    assert validate_request("ecr", "CreateRepositoryCreationTemplate", request) == []
    assert request["prefix"] == "container-platform"
    assert request["appliedFor"] == ["REPLICATION"]
    assert request["imageTagMutability"] == repository.inputs["imageTagMutability"] == "IMMUTABLE_WITH_EXCLUSION"
    assert request["imageTagMutabilityExclusionFilters"] == [{"filter": "buildcache", "filterType": "WILDCARD"}]
    lifecycle = run.one("aws:ecr/lifecyclePolicy:LifecyclePolicy").inputs["policy"]
    assert request["lifecyclePolicy"] == lifecycle
    (statement,) = statements(request["repositoryPolicy"])
    assert statement["Principal"] == {"AWS": [f"arn:aws:iam::{OTHER_ACCOUNT}:root"]}
    assert statement["Action"] == list(PULL_ACTIONS)
    # AWS-managed encryption: KMS with the destination region's aws/ecr key, so no role is needed.
    assert request["encryptionConfiguration"] == {"encryptionType": "KMS"}
    assert "customRoleArn" not in request
    assert run.of_type("aws:iam/role:Role") == []


def test_the_destination_registry_scans_like_the_source_behind_its_own_lock(run_component: ComponentRunner) -> None:
    run = _registry(run_component)
    scanning = {s.inputs.get("region", "eu-west-1"): s for s in run.of_type(SCANNING)}
    assert set(scanning) == {"eu-west-1", "eu-central-1"}
    assert scanning["eu-central-1"].inputs["scanType"] == scanning["eu-west-1"].inputs["scanType"] == "ENHANCED"
    assert scanning["eu-central-1"].inputs["rules"] == scanning["eu-west-1"].inputs["rules"]
    rules = scanning["eu-central-1"].inputs["rules"]
    assert validate_request(
        "ecr",
        "PutRegistryScanningConfiguration",
        {
            "scanType": "ENHANCED",
            "rules": [
                {"scanFrequency": r["scanFrequency"], "repositoryFilters": [
                    {"filter": f["filter"], "filterType": f["filterType"]} for f in r["repositoryFilters"]]}
                for r in rules
            ],
        },
    ) == []  # fmt: skip
    lock = run.one(LOCK, "reg-settings-lock-eu-central-1")
    assert (lock.inputs["region"], lock.inputs["name"], lock.inputs["overwrite"]) == (
        "eu-central-1", OWNER_LOCK_PARAMETER, False,
    )  # fmt: skip
    for shared in (scanning["eu-central-1"], run.one(TEMPLATE)):
        assert lock.urn in shared.dependencies
        assert shared.options["retainOnDelete"] is True


def test_customer_managed_encryption_gets_a_key_and_a_role_per_template(run_component: ComponentRunner) -> None:
    run = _registry(run_component, kms_key="customer-managed")
    keys = {k.inputs.get("region", "eu-west-1"): k for k in run.of_type(KEY)}
    assert set(keys) == {"eu-west-1", "eu-central-1"}
    replica_key = keys["eu-central-1"]
    assert replica_key.inputs["enableKeyRotation"] is True
    request = create_repository_creation_template_request(run.one(TEMPLATE))
    assert validate_request("ecr", "CreateRepositoryCreationTemplate", request) == []
    assert request["encryptionConfiguration"] == {"encryptionType": "KMS", "kmsKey": replica_key.outputs["arn"]}
    assert ":eu-central-1:" in request["encryptionConfiguration"]["kmsKey"]
    role = run.one("aws:iam/role:Role")
    assert request["customRoleArn"] == f"arn:aws:iam::123456789012:role/{role.inputs['name']}"
    (trust,) = statements(role.inputs["assumeRolePolicy"])
    assert trust["Principal"] == {"Service": "ecr.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}
    policy = run.one("aws:iam/rolePolicy:RolePolicy").inputs["policy"]
    assert wildcard_actions(policy) == []
    create, use_keys = statements(policy)
    assert create["Resource"] == ["arn:aws:ecr:eu-central-1:123456789012:repository/container-platform/*"]
    # The created key by its alias (its ID is AWS's), so the policy is known at preview.
    alias = run.one("aws:kms/alias:Alias", "reg-key-alias-eu-central-1")
    assert alias.inputs["targetKeyId"] == replica_key.outputs["keyId"]
    assert use_keys["Resource"] == ["arn:aws:kms:eu-central-1:123456789012:key/*"]
    assert use_keys["Condition"] == {"ForAnyValue:StringEquals": {"kms:ResourceAliases": alias.inputs["name"]}}
    preview = _registry(run_component, preview=True, kms_key="customer-managed")
    assert unknown_paths(preview.one("aws:iam/rolePolicy:RolePolicy").wire_inputs.fields["policy"]) == []


def test_a_given_replica_key_is_granted_by_its_arn(run_component: ComponentRunner) -> None:
    source_key = "arn:aws:kms:eu-west-1:123456789012:key/0b3c1f2e-1111-2222-3333-444455556666"
    replica_key = "arn:aws:kms:eu-central-1:123456789012:key/1c4d2f3e-1111-2222-3333-444455556666"
    run = _registry(run_component, kms_key=source_key, replica_kms_key_arns={"eu-central-1": replica_key})
    _, use_keys = statements(run.one("aws:iam/rolePolicy:RolePolicy").inputs["policy"])
    assert use_keys["Resource"] == [replica_key]
    assert "Condition" not in use_keys


def test_a_given_key_needs_a_key_per_destination_region(run_component: ComponentRunner) -> None:
    source_key = "arn:aws:kms:eu-west-1:123456789012:key/0b3c1f2e-1111-2222-3333-444455556666"
    replica_key = "arn:aws:kms:eu-central-1:123456789012:key/1c4d2f3e-1111-2222-3333-444455556666"
    run = _registry(run_component, kms_key=source_key, replica_kms_key_arns={"eu-central-1": replica_key})
    request = create_repository_creation_template_request(run.one(TEMPLATE))
    assert request["encryptionConfiguration"] == {"encryptionType": "KMS", "kmsKey": replica_key}
    assert validate_request("ecr", "CreateRepositoryCreationTemplate", request) == []
    with pytest.raises(InputError) as error:
        _args(kms_key=source_key)
    assert error.value.setting == "replica_kms_key_arns"
    assert "eu-central-1" in error.value.allowed
    with pytest.raises(InputError) as error:
        _args(kms_key=source_key, replica_kms_key_arns={"eu-central-1": source_key})  # a key of another region
    assert error.value.setting == "replica_kms_key_arns[eu-central-1]"
    with pytest.raises(InputError) as error:
        _args(replica_kms_key_arns={"eu-central-1": replica_key})  # aws-managed picks its own
    assert error.value.setting == "replica_kms_key_arns"
    with pytest.raises(InputError) as error:
        _args(kms_key=source_key, replica_kms_key_arns={"eu-central-1": replica_key, "us-east-1": replica_key})
    assert error.value.setting == "replica_kms_key_arns[us-east-1]"


def test_cross_account_destinations_get_nothing_from_this_account(run_component: ComponentRunner) -> None:
    settings = _settings(
        ReplicationDestination(region="eu-central-1"),
        ReplicationDestination(region="us-east-1", account_id=OTHER_ACCOUNT),
    )
    captured: dict[str, Registry] = {}

    def program() -> None:
        captured["reg"] = Registry("reg", _args(registry_settings=settings))

    run = run_component(program)
    assert [t.inputs["region"] for t in run.of_type(TEMPLATE)] == ["eu-central-1"]
    assert captured["reg"].replica_template_regions == ["eu-central-1"]


def test_off_by_default_and_for_non_owners(run_component: ComponentRunner) -> None:
    assert _registry(run_component, replica_settings=False).of_type(TEMPLATE) == []
    assert _registry(run_component, registry_settings=None).of_type(TEMPLATE) == []


def test_the_role_policy_is_scoped_to_the_namespace_and_the_keys() -> None:
    policy = template_role_policy(CONTEXT, "container-platform", ["eu-central-1", "us-east-2"], ["arn:k1", "arn:k2"])
    create, keys = policy["Statement"]
    assert create["Resource"] == [
        "arn:aws:ecr:eu-central-1:123456789012:repository/container-platform/*",
        "arn:aws:ecr:us-east-2:123456789012:repository/container-platform/*",
    ]
    assert keys["Resource"] == ["arn:k1", "arn:k2"]
    assert json.dumps(policy)
