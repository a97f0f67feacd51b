"""Registry and image config: read into validated settings, bad values stopped before anything exists."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.aws_context import AwsContext
from components.registry import RegistryArgs, ReplicationDestination
from mockcloud.runner import load_stack_config, run_program
from stack.settings import load_settings
from tests.support import assert_config_rejected

P = "container-platform"

BAD_VALUES = [
    ({"ecrScanning": "manual"}, "ecrScanning", "one of basic-on-push, enhanced-on-push, enhanced-continuous"),
    ({"ecrScanFilters": ["Upper/*"]}, "ecrScanFilters", "repository name filter"),
    ({"ecrScanFilters": ["other-project/*"]}, "ecrScanFilters", f"cover {P}/dev/app"),
    ({"ecrReplicationDestinations": ["mars-north-1a"]}, "ecrReplicationDestinations", "<region>:<12-digit account>"),
    ({"ecrReplicationDestinations": ["eu-west-1"]}, "ecrReplicationDestinations", "other than the source"),
    (
        {"ecrRegistrySettingsOwner": False, "ecrReplicationDestinations": ["eu-central-1"]},
        "ecrReplicationDestinations",
        "empty unless ecrRegistrySettingsOwner is true",
    ),
    ({"ecrReplicationFilters": ["UPPER/"]}, "ecrReplicationFilters", "repository name prefix"),
    ({"ecrKmsKey": "mine"}, "ecrKmsKey", "aws-managed, customer-managed, or a KMS key ARN"),
    ({"ecrUntaggedExpiryDays": 0}, "ecrUntaggedExpiryDays", "from 1 to 3650"),
    ({"ecrKeepImages": 0}, "ecrKeepImages", "from 1 to 10000"),
    ({"ecrKeepReleaseImages": -1}, "ecrKeepReleaseImages", "from 1 to 10000"),
    ({"ecrReleaseTagPrefixes": ["v", "v"]}, "ecrReleaseTagPrefixes", "distinct prefixes"),
    ({"ecrReleaseTagPrefixes": ["re lease"]}, "ecrReleaseTagPrefixes", "a tag prefix"),
    ({"ecrPullPrincipals": ["*"]}, "ecrPullPrincipals", "12-digit account ID or an IAM role/user ARN"),
    ({"ecrBuildCacheTag": "cache:latest"}, "ecrBuildCacheTag", "a Docker tag"),
    ({"ecrBuildCacheTag": "v-cache"}, "ecrBuildCacheTag", "outside build-* and the release prefixes"),
    ({"imagePlatform": "linux/386"}, "imagePlatform", "one of linux/amd64, linux/arm64"),
    ({"imageTag": "v1.0+build"}, "imageTag", "a Docker tag"),
    ({"imageTag": "buildcache"}, "imageTag", "other than ecrBuildCacheTag"),
]


@pytest.mark.parametrize(("overrides", "key", "allowed"), BAD_VALUES)
def test_bad_registry_config_is_rejected_before_anything_is_registered(
    overrides: dict[str, Any], key: str, allowed: str
) -> None:
    assert_config_rejected("dev", overrides, key, allowed)


def _settings(stack: str = "dev", **overrides: Any) -> RegistryArgs:
    """The registry as the program reads it for a committed stack file (plus overrides)."""
    captured: dict[str, RegistryArgs] = {}
    config = load_stack_config(stack, overrides=overrides or None)

    def program() -> None:
        captured["registry"] = load_settings(AwsContext.current()).registry

    run_program(program, project=P, stack=stack, config=config)
    return captured["registry"]


def test_dev_scans_on_push_with_basic_and_owns_its_registry() -> None:
    settings = _settings("dev")
    assert settings.registry_settings is not None
    assert (settings.registry_settings.scan_type, settings.registry_settings.scan_frequency) == (
        "BASIC",
        "SCAN_ON_PUSH",
    )
    assert tuple(settings.registry_settings.scan_filters) == (f"{P}/*",)
    assert settings.kms_key == "aws-managed"
    assert settings.build_cache_tag == "buildcache"


def test_prod_scans_continuously_with_a_customer_key_and_replicates() -> None:
    settings = _settings("prod")
    wide = settings.registry_settings
    assert wide is not None
    assert (wide.scan_type, wide.scan_frequency) == ("ENHANCED", "CONTINUOUS_SCAN")
    assert settings.kms_key == "customer-managed"
    assert settings.build_cache_tag is None  # strictly IMMUTABLE
    assert tuple(wide.replication_destinations) == (ReplicationDestination(region="eu-central-1"),)
    assert tuple(wide.replication_filters) == (f"{P}/",)


def test_lifecycle_rules_follow_the_config() -> None:
    settings = _settings(
        ecrUntaggedExpiryDays=2,
        ecrReleaseTagPrefixes=["v", "release-"],
        ecrKeepReleaseImages=4,
        ecrKeepImages=6,
    )
    selections = [(r.priority, r.tag_status, r.tag_prefixes, r.count) for r in settings.lifecycle_rules]
    assert selections == [
        (1, "untagged", (), 2),
        (2, "tagged", ("v",), 4),
        (3, "tagged", ("release-",), 4),
        (4, "any", (), 6),
    ]


def test_a_stack_that_does_not_own_the_registry_settings() -> None:
    settings = _settings(ecrRegistrySettingsOwner=False, ecrScanning="enhanced-continuous")
    assert settings.registry_settings is None


def test_config_arrays_accept_json_strings() -> None:
    # `pulumi config set --path` and the engine hand arrays to the program as JSON text
    settings = _settings(ecrPullPrincipals=json.dumps(["210987654321"]))
    assert settings.pull_principals == ("210987654321",)
