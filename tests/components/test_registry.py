"""The registry component alone: repositories, scanning per mode, lifecycle JSON, replication, pull access.

Every request the provider would send is also checked against the ECR API model shipped with
botocore (required members, enums, lengths, patterns), so "valid for ECR" means the real schema.
"""

from __future__ import annotations

import importlib
import json
import re
from typing import Any

import pytest

from components.aws_context import AwsContext
from components.errors import InputError
from components.registry import (
    OWNER_LOCK_PARAMETER,
    PULL_ACTIONS,
    LifecycleRule,
    Registry,
    RegistryArgs,
    RegistryWideSettings,
    ReplicationDestination,
    RetentionPolicy,
    default_lifecycle_rules,
    expire_untagged,
    keep_last,
    keep_last_tagged,
    lifecycle_policy_document,
    scan_filter_matches,
)
from mockcloud.runner import StackRun
from stack.settings import REGISTRY, REGISTRY_WIDE, RETENTION
from tests.support import ComponentRunner, config_defaults

CONTEXT = AwsContext(account_id="123456789012", region="eu-west-1")
OTHER_ACCOUNT = "210987654321"
# botocore ships no type information; imported by name so mypy sees Any either way.
ECR = importlib.import_module("botocore.session").get_session().get_service_model("ecr")
ParamValidator = importlib.import_module("botocore.validate").ParamValidator

REPOSITORY = "aws:ecr/repository:Repository"
LIFECYCLE = "aws:ecr/lifecyclePolicy:LifecyclePolicy"
REPOSITORY_POLICY = "aws:ecr/repositoryPolicy:RepositoryPolicy"
SCANNING = "aws:ecr/registryScanningConfiguration:RegistryScanningConfiguration"
REPLICATION = "aws:ecr/replicationConfiguration:ReplicationConfiguration"
LOCK = "aws:ssm/parameter:Parameter"


def _owner(**kwargs: Any) -> RegistryWideSettings:
    defaults = config_defaults(REGISTRY_WIDE, RegistryWideSettings)
    return RegistryWideSettings(**{**defaults, "scan_filters": ("container-platform/*",), **kwargs})


def _args(**kwargs: Any) -> RegistryArgs:
    """Args at Pulumi.yaml's defaults (lifecycle rules included), not owning the registry settings."""
    return _registry_args(**kwargs)


def _registry_args(**kwargs: Any) -> RegistryArgs:
    values: dict[str, Any] = {
        "context": CONTEXT,
        "namespace": "container-platform",
        "stack": "test",
        **config_defaults(REGISTRY, RegistryArgs),
        "repositories": ("app",),
        "lifecycle_rules": RetentionPolicy(**config_defaults(RETENTION, RetentionPolicy)).rules,
        "force_delete": False,
        "registry_settings": None,
        **kwargs,
    }
    return RegistryArgs(**values)


def _registry(run_component: ComponentRunner, **kwargs: Any) -> StackRun:
    return run_component(lambda: Registry("reg", _args(**kwargs)))


# --------------------------------------------------------------------------------------------------
# The ECR API model as a validator
# --------------------------------------------------------------------------------------------------
def _patterns(shape: Any, value: Any, path: str) -> list[str]:
    """botocore's ParamValidator checks types, required members, enums and lengths; add patterns."""
    errors: list[str] = []
    if shape.type_name == "structure":
        for member, member_shape in shape.members.items():
            if member in value:
                errors += _patterns(member_shape, value[member], f"{path}.{member}")
    elif shape.type_name == "list":
        for i, item in enumerate(value):
            errors += _patterns(shape.member, item, f"{path}[{i}]")
    elif shape.type_name == "string":
        pattern = shape.metadata.get("pattern")
        if pattern and not re.fullmatch(pattern, value):
            errors.append(f"{path}: {value!r} does not match {pattern}")
        if "enum" in shape.metadata and value not in shape.metadata["enum"]:
            errors.append(f"{path}: {value!r} not in {shape.metadata['enum']}")
    return errors


def assert_valid_request(operation: str, params: dict[str, Any]) -> None:
    model = ECR.operation_model(operation)
    report = ParamValidator().validate(params, model.input_shape)
    problems = ([report.generate_report()] if report.has_errors() else []) + _patterns(
        model.input_shape, params, operation
    )
    assert not problems, "\n".join(problems)


# --------------------------------------------------------------------------------------------------
# Repositories
# --------------------------------------------------------------------------------------------------
def test_repository_is_immutable_scanned_on_push_and_kms_encrypted(run_component: ComponentRunner) -> None:
    run = _registry(run_component)
    repo = run.one(REPOSITORY)
    assert repo.inputs["name"] == "container-platform/test/app"
    assert repo.inputs["imageTagMutability"] == "IMMUTABLE"
    assert "imageTagMutabilityExclusionFilters" not in repo.inputs
    assert repo.inputs["imageScanningConfiguration"] == {"scanOnPush": True}
    assert repo.inputs["encryptionConfigurations"] == [{"encryptionType": "KMS"}]  # the aws/ecr key
    assert repo.inputs["forceDelete"] is False
    assert_valid_request(
        "CreateRepository",
        {
            "repositoryName": repo.inputs["name"],
            "imageTagMutability": repo.inputs["imageTagMutability"],
            "imageScanningConfiguration": repo.inputs["imageScanningConfiguration"],
            "encryptionConfiguration": repo.inputs["encryptionConfigurations"][0],
        },
    )


def test_one_repository_per_name_each_with_lifecycle(run_component: ComponentRunner) -> None:
    run = _registry(run_component, repositories=("app", "worker"))
    names = sorted(r.inputs["name"] for r in run.of_type(REPOSITORY))
    assert names == ["container-platform/test/app", "container-platform/test/worker"]
    assert sorted(p.inputs["repository"] for p in run.of_type(LIFECYCLE)) == names


def test_customer_managed_key_is_rotated_and_encrypts_the_repository(run_component: ComponentRunner) -> None:
    run = _registry(run_component, kms_key="customer-managed")
    key = run.one("aws:kms/key:Key")
    assert key.inputs["enableKeyRotation"] is True
    assert key.inputs["deletionWindowInDays"] == 30
    policy = json.loads(key.inputs["policy"])
    assert policy["Statement"][0]["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}
    alias = run.one("aws:kms/alias:Alias")
    assert alias.inputs["name"] == "alias/container-platform-test-ecr"
    encryption = run.one(REPOSITORY).inputs["encryptionConfigurations"]
    assert encryption == [{"encryptionType": "KMS", "kmsKey": key.outputs["arn"]}]


def test_existing_key_arn_is_used_as_is(run_component: ComponentRunner) -> None:
    arn = "arn:aws:kms:eu-west-1:123456789012:key/0b3c1f2e-1111-2222-3333-444455556666"
    run = _registry(run_component, kms_key=arn)
    assert run.of_type("aws:kms/key:Key") == []
    assert run.one(REPOSITORY).inputs["encryptionConfigurations"] == [{"encryptionType": "KMS", "kmsKey": arn}]


def test_build_cache_tag_is_the_only_exclusion_from_immutability(run_component: ComponentRunner) -> None:
    run = _registry(run_component, build_cache_tag="buildcache")
    repo = run.one(REPOSITORY)
    assert repo.inputs["imageTagMutability"] == "IMMUTABLE_WITH_EXCLUSION"
    # a literal tag, no wildcard: every build and release tag stays immutable
    assert repo.inputs["imageTagMutabilityExclusionFilters"] == [{"filter": "buildcache", "filterType": "WILDCARD"}]


# --------------------------------------------------------------------------------------------------
# Lifecycle policy
# --------------------------------------------------------------------------------------------------
def ecr_lifecycle_errors(document: dict[str, Any]) -> list[str]:
    """An independent reading of ECR's lifecycle policy rules (docs: lifecycle_policy_parameters)."""
    errors = []
    rules = document["rules"]
    priorities = [r["rulePriority"] for r in rules]
    if len(set(priorities)) != len(priorities):
        errors.append("duplicate rulePriority")
    for rule in rules:
        allowed_rule_keys = {"rulePriority", "description", "selection", "action"}
        if set(rule) - allowed_rule_keys or rule["action"] != {"type": "expire"}:
            errors.append(f"bad rule keys/action {rule}")
        sel = rule["selection"]
        status, count_type = sel["tagStatus"], sel["countType"]
        has_prefix, has_pattern = "tagPrefixList" in sel, "tagPatternList" in sel
        if status == "tagged" and has_prefix == has_pattern:
            errors.append(f"tagged rule needs exactly one of tagPrefixList/tagPatternList: {sel}")
        if status in ("untagged", "any") and (has_prefix or has_pattern):
            errors.append(f"{status} rule must omit tag lists: {sel}")
        if count_type == "sinceImagePushed" and sel.get("countUnit") != "days":
            errors.append(f"sinceImagePushed needs countUnit days: {sel}")
        if count_type == "imageCountMoreThan" and "countUnit" in sel:
            errors.append(f"imageCountMoreThan takes no countUnit: {sel}")
        if not (isinstance(sel["countNumber"], int) and sel["countNumber"] >= 1):
            errors.append(f"countNumber must be a positive integer: {sel}")
        if status == "any" and rule["rulePriority"] != max(priorities):
            errors.append("the 'any' rule must have the highest rulePriority")
    return errors


def test_default_lifecycle_policy_has_the_expected_rules_and_is_valid(run_component: ComponentRunner) -> None:
    run = _registry(run_component)
    text = run.one(LIFECYCLE).inputs["policy"]
    document = json.loads(text)
    assert document == {
        "rules": [
            {
                "rulePriority": 1,
                "description": "Expire untagged images after 7 days",
                "selection": {
                    "tagStatus": "untagged",
                    "countType": "sinceImagePushed",
                    "countUnit": "days",
                    "countNumber": 7,
                },
                "action": {"type": "expire"},
            },
            {
                "rulePriority": 2,
                "description": "Keep the last 20 images tagged v*",
                "selection": {
                    "tagStatus": "tagged",
                    "tagPrefixList": ["v"],
                    "countType": "imageCountMoreThan",
                    "countNumber": 20,
                },
                "action": {"type": "expire"},
            },
            {
                "rulePriority": 3,
                "description": "Keep the last 30 other images",
                "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 30},
                "action": {"type": "expire"},
            },
        ]
    }
    assert ecr_lifecycle_errors(document) == []
    assert_valid_request(
        "PutLifecyclePolicy", {"repositoryName": "container-platform/test/app", "lifecyclePolicyText": text}
    )


def test_several_release_prefixes_get_one_rule_each() -> None:
    # one rule with ["v", "release-"] would select only images carrying BOTH prefixes
    rules = default_lifecycle_rules(untagged_days=3, release_prefixes=("v", "release-"), keep_release=5, keep_any=9)
    document = json.loads(lifecycle_policy_document(rules))
    tagged = [r["selection"] for r in document["rules"] if r["selection"]["tagStatus"] == "tagged"]
    assert [s["tagPrefixList"] for s in tagged] == [["v"], ["release-"]]
    assert [r["rulePriority"] for r in document["rules"]] == [1, 2, 3, 4]
    assert document["rules"][-1]["selection"]["tagStatus"] == "any"
    assert ecr_lifecycle_errors(document) == []


def test_rules_are_rendered_in_priority_order_with_patterns() -> None:
    rules = [
        keep_last(50, priority=10),
        LifecycleRule(
            priority=5,
            description="Keep 3 release candidates",
            tag_status="tagged",
            tag_patterns=("v*-rc*",),
            count_type="imageCountMoreThan",
            count=3,
        ),
        expire_untagged(1, priority=1),
    ]
    document = json.loads(lifecycle_policy_document(rules))
    assert [r["rulePriority"] for r in document["rules"]] == [1, 5, 10]
    assert document["rules"][1]["selection"]["tagPatternList"] == ["v*-rc*"]
    assert ecr_lifecycle_errors(document) == []


def _tagged(**kwargs: Any) -> LifecycleRule:
    values: dict[str, Any] = {
        "priority": 2,
        "description": "bad",
        "tag_status": "tagged",
        "count_type": "imageCountMoreThan",
        "count": 5,
        "tag_prefixes": ("v",),
    }
    return LifecycleRule(**{**values, **kwargs})


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: _tagged(count=0), "selection.countNumber"),
        (lambda: _tagged(count=-3), "selection.countNumber"),
        (lambda: _tagged(priority=0), "rulePriority"),
        (lambda: _tagged(tag_prefixes=()), "selection.tagPrefixList/tagPatternList"),
        (lambda: _tagged(tag_patterns=("v*",)), "selection.tagPrefixList/tagPatternList"),
        (lambda: _tagged(tag_status="untagged"), "selection.tagPrefixList/tagPatternList"),
        (lambda: _tagged(tag_status="any"), "selection.tagPrefixList/tagPatternList"),
        (lambda: _tagged(tag_prefixes=(), tag_patterns=("*a*b*c*d*e",)), "selection.tagPatternList"),
        (lambda: _tagged(tag_prefixes=("v 1",)), "selection.tagPrefixList"),
        (lambda: _tagged(tag_status="all"), "selection.tagStatus"),
        (lambda: _tagged(count_type="sinceImagePulled"), "selection.countType"),
    ],
)
def test_bad_rules_are_rejected_naming_the_field(make: Any, field: str) -> None:
    with pytest.raises(InputError) as error:
        make()
    assert error.value.setting.startswith("lifecycle rule ")
    assert error.value.setting.endswith(f" (bad): {field}")
    assert "is not valid" in str(error.value)


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ([], "at least one rule"),
        ([expire_untagged(7, priority=1), keep_last(5, priority=1)], "unique priorities"),
        ([keep_last(5, priority=1), expire_untagged(7, priority=2)], "highest priority number"),
        ([keep_last(5, priority=3), keep_last(9, priority=4)], "at most one rule"),
    ],
)
def test_bad_rule_sets_are_rejected(rules: list[LifecycleRule], message: str) -> None:
    with pytest.raises(InputError, match=message):
        lifecycle_policy_document(rules)


def test_bad_rules_fail_before_anything_is_registered(run_component: ComponentRunner) -> None:
    with pytest.raises(InputError, match="unique priorities"):
        _args(lifecycle_rules=(expire_untagged(7, priority=1), keep_last_tagged(5, "v", priority=1)))


# --------------------------------------------------------------------------------------------------
# Registry scanning: per mode, filters covering the repositories, single ownership
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("mode", "scan_type", "frequency"),
    [
        ("basic-on-push", "BASIC", "SCAN_ON_PUSH"),
        ("enhanced-on-push", "ENHANCED", "SCAN_ON_PUSH"),
        ("enhanced-continuous", "ENHANCED", "CONTINUOUS_SCAN"),
    ],
)
def test_registry_scanning_per_mode_covers_the_repositories(
    run_component: ComponentRunner, mode: str, scan_type: str, frequency: str
) -> None:
    run = _registry(run_component, registry_settings=_owner(scanning=mode))
    scanning = run.one(SCANNING)
    assert scanning.inputs["scanType"] == scan_type
    [rule] = scanning.inputs["rules"]
    assert rule["scanFrequency"] == frequency
    filters = [f["filter"] for f in rule["repositoryFilters"]]
    assert {f["filterType"] for f in rule["repositoryFilters"]} == {"WILDCARD"}
    for repo in run.of_type(REPOSITORY):
        assert any(scan_filter_matches(f, repo.inputs["name"]) for f in filters)
    assert_valid_request("PutRegistryScanningConfiguration", {"scanType": scan_type, "rules": scanning.inputs["rules"]})


def test_registry_settings_are_locked_and_survive_their_owner(run_component: ComponentRunner) -> None:
    run = _registry(
        run_component,
        registry_settings=_owner(
            replication_destinations=[ReplicationDestination(region="eu-central-1")],
            replication_filters=("container-platform/",),
        ),
    )
    # (The destination region's own lock and scanning come with the creation templates: test_registry_replicas.)
    lock = run.one(LOCK, "reg-settings-lock")
    assert lock.inputs["name"] == OWNER_LOCK_PARAMETER
    assert lock.inputs["overwrite"] is False  # a second owner's create fails: ParameterAlreadyExists
    assert lock.inputs["insecureValue"] == "container-platform/test"
    for shared in (run.one(SCANNING, "reg-scanning"), run.one(REPLICATION)):
        assert lock.urn in shared.dependencies
        assert shared.options["retainOnDelete"] is True


def test_stack_that_does_not_own_the_registry_settings_creates_none(run_component: ComponentRunner) -> None:
    run = _registry(run_component)
    assert run.of_type(SCANNING) == run.of_type(REPLICATION) == run.of_type(LOCK) == []


def test_two_owners_in_one_program_are_refused(run_component: ComponentRunner) -> None:
    def program() -> None:
        Registry("one", _args(registry_settings=_owner()))
        Registry(
            "two",
            _registry_args(namespace="other", registry_settings=_owner(scan_filters=("other/*",))),
        )

    with pytest.raises(InputError, match="one owner per account and region"):
        run_component(program)


def test_two_owners_in_different_regions_are_fine(run_component: ComponentRunner) -> None:
    other_region = AwsContext(account_id="123456789012", region="eu-central-1")

    def program() -> None:
        Registry("one", _args(registry_settings=_owner()))
        Registry(
            "two",
            _registry_args(context=other_region, stack="dr", registry_settings=_owner()),
        )

    run = run_component(program)
    assert len(run.of_type(SCANNING)) == 2


def test_scan_filters_must_cover_the_repositories() -> None:
    with pytest.raises(InputError, match="cover container-platform/test/app"):
        _args(registry_settings=_owner(scan_filters=("other-project/*",)))


@pytest.mark.parametrize(
    ("pattern", "name", "matches"),
    [
        ("container-platform/*", "container-platform/dev/app", True),
        ("container-platform/*", "other/container-platform/app", False),
        ("*/app", "container-platform/dev/app", True),
        ("platform", "container-platform/dev/app", True),  # no wildcard: "contains"
        ("prod", "container-platform/dev/app", False),
    ],
)
def test_scan_filter_semantics(pattern: str, name: str, matches: bool) -> None:
    assert scan_filter_matches(pattern, name) is matches


@pytest.mark.parametrize("bad", ["Container/*", "a//b", "", "app?"])
def test_bad_scan_filters_are_rejected(bad: str) -> None:
    with pytest.raises(InputError, match="scan_filters"):
        _owner(scan_filters=(bad,))


# --------------------------------------------------------------------------------------------------
# Replication
# --------------------------------------------------------------------------------------------------
def test_replication_rules_destinations_and_filters(run_component: ComponentRunner) -> None:
    settings = _owner(
        replication_destinations=[
            ReplicationDestination.parse("eu-central-1"),
            ReplicationDestination.parse(f"us-east-1:{OTHER_ACCOUNT}"),
        ],
        replication_filters=("container-platform/prod/",),
    )
    run = _registry(run_component, registry_settings=settings)
    configuration = run.one(REPLICATION).inputs["replicationConfiguration"]
    [rule] = configuration["rules"]
    assert rule["destinations"] == [
        {"region": "eu-central-1", "registryId": "123456789012"},
        {"region": "us-east-1", "registryId": OTHER_ACCOUNT},
    ]
    assert rule["repositoryFilters"] == [{"filter": "container-platform/prod/", "filterType": "PREFIX_MATCH"}]
    assert_valid_request("PutReplicationConfiguration", {"replicationConfiguration": configuration})


def test_no_replication_without_destinations(run_component: ComponentRunner) -> None:
    run = _registry(run_component, registry_settings=_owner())
    assert run.of_type(REPLICATION) == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"replication_destinations": [ReplicationDestination(region="eu-central-1")]},
            "at least one repository prefix",
        ),
        (
            {"replication_destinations": [ReplicationDestination(region="eu-west-1")], "replication_filters": ("x/",)},
            "other than the source",
        ),
        (
            {
                "replication_destinations": [ReplicationDestination(region="eu-west-1", account_id="123456789012")],
                "replication_filters": ("x/",),
            },
            "other than the source",
        ),
        (
            {
                "replication_destinations": [ReplicationDestination(region="eu-central-1")] * 2,
                "replication_filters": ("x/",),
            },
            "no duplicates",
        ),
        (
            {
                "replication_destinations": [ReplicationDestination(region="eu-central-1")],
                "replication_filters": ("Bad/",),
            },
            "repository name prefix",
        ),
    ],
)
def test_bad_replication_is_rejected(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError, match=message):
        _args(registry_settings=_owner(**kwargs))


@pytest.mark.parametrize("bad", ["eu-central", "eu-central-1:123", "EU-CENTRAL-1", "eu-central-1:"])
def test_bad_replication_destinations_are_rejected(bad: str) -> None:
    if bad.endswith(":"):  # an empty account means this account
        assert ReplicationDestination.parse(bad) == ReplicationDestination(region="eu-central-1")
        return
    with pytest.raises(InputError, match="<region> or <region>:<12-digit account>"):
        ReplicationDestination.parse(bad)


# --------------------------------------------------------------------------------------------------
# Repository policy
# --------------------------------------------------------------------------------------------------
def test_repository_policy_grants_pull_to_named_principals_only(run_component: ComponentRunner) -> None:
    role = f"arn:aws:iam::{OTHER_ACCOUNT}:role/ecs-task-execution"
    run = _registry(run_component, pull_principals=(OTHER_ACCOUNT, role, "333333333333"))
    policy = json.loads(run.one(REPOSITORY_POLICY).inputs["policy"])
    [statement] = policy["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {
        "AWS": sorted([f"arn:aws:iam::{OTHER_ACCOUNT}:root", role, "arn:aws:iam::333333333333:root"])
    }
    assert statement["Action"] == list(PULL_ACTIONS)
    assert not any(
        a.startswith(("ecr:Put", "ecr:Delete", "ecr:Upload", "ecr:Initiate")) or "*" in a for a in statement["Action"]
    )
    assert run.one(REPOSITORY_POLICY).inputs["repository"] == "container-platform/test/app"
    assert_valid_request(
        "SetRepositoryPolicy",
        {"repositoryName": "container-platform/test/app", "policyText": run.one(REPOSITORY_POLICY).inputs["policy"]},
    )


def test_no_repository_policy_without_principals(run_component: ComponentRunner) -> None:
    assert _registry(run_component).of_type(REPOSITORY_POLICY) == []


@pytest.mark.parametrize(
    ("principal", "message"),
    [
        ("*", "12-digit account ID or an IAM role/user ARN"),
        ("arn:aws:iam::210987654321:group/devs", "12-digit account ID or an IAM role/user ARN"),
        ("12345", "12-digit account ID or an IAM role/user ARN"),
        ("123456789012", "other accounts only"),
    ],
)
def test_bad_pull_principals_are_rejected(principal: str, message: str) -> None:
    with pytest.raises(InputError, match=re.escape(message)):
        _args(pull_principals=(principal,))


@pytest.mark.parametrize(
    ("kwargs", "setting"),
    [
        ({"kms_key": "alias/aws/ecr"}, "kms_key"),
        ({"repositories": ()}, "repositories"),
        ({"repositories": ("App",)}, "repository name"),
        ({"build_cache_tag": "cache:latest"}, "build_cache_tag"),
    ],
)
def test_bad_arguments_name_the_setting(kwargs: dict[str, Any], setting: str) -> None:
    with pytest.raises(InputError) as error:
        _args(**kwargs)
    assert error.value.setting == setting


def test_outputs_are_known_at_preview_where_they_can_be(run_component: ComponentRunner) -> None:
    captured: dict[str, Registry] = {}

    def program() -> None:
        captured["registry"] = Registry("reg", _args(registry_settings=_owner(scanning="enhanced-continuous")))

    run = run_component(program, preview=True)
    registry = captured["registry"]
    assert registry.repository_arns == {
        "app": "arn:aws:ecr:eu-west-1:123456789012:repository/container-platform/test/app"
    }
    assert (registry.scan_type, registry.scan_frequency) == ("ENHANCED", "CONTINUOUS_SCAN")
    # the lifecycle policy and the scanning rules are plain values: policies can read them at preview
    assert json.loads(run.one(LIFECYCLE).inputs["policy"])["rules"]
    assert run.one(SCANNING).inputs["rules"][0]["repositoryFilters"][0]["filter"] == "container-platform/*"
