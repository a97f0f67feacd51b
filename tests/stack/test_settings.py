"""Bad stack settings fail before any resource is registered, with the key, value and allowed values."""

from __future__ import annotations

from typing import Any

import pytest

from mockcloud.runner import load_stack_config, run_stack
from stack.settings import ConfigError, declared_config
from tests.support import assert_config_rejected

BAD_VALUES = [
    ({"environment": "qa"}, "container-platform:environment", "one of dev, staging, prod"),
    ({"azCount": 9}, "container-platform:azCount", "from 2 to 6"),
    ({"azCount": "two"}, "container-platform:azCount", "a whole number"),
    ({"natGateways": "many"}, "container-platform:natGateways", "one of none, single, per-az"),
    ({"vpcCidr": "10.0.0.0/8"}, "container-platform:vpcCidr", "/16 to /22"),
    ({"vpcCidr": "8.8.0.0/16"}, "container-platform:vpcCidr", "private"),
    ({"vpcCidr": "banana"}, "container-platform:vpcCidr", "IPv4 CIDR"),
    ({"logRetentionDays": 10}, "container-platform:logRetentionDays", "one of 1, 3, 5, 7, 14"),
    ({"flowLogs": "yes"}, "container-platform:flowLogs", "true or false"),
    (
        {"existingPublicSubnetIds": ["subnet-1", "subnet-2"]},
        "container-platform:existingPublicSubnetIds",
        "empty unless",
    ),
    (
        {"existingVpcId": "vpc-1", "existingPublicSubnetIds": ["subnet-1"]},
        "container-platform:existingPublicSubnetIds",
        "exactly azCount",
    ),
    ({"existingVpcId": "my-vpc"}, "container-platform:existingVpcId", "a VPC ID"),
    (
        {"azCount": 3, "existingVpcId": "vpc-1", "existingPublicSubnetIds": ["a", "b", "c"]},
        "existingPublicSubnetIds",
        "subnet ID",
    ),
    (
        {"natgateways": "single"},
        "container-platform:natgateways",
        "did you mean 'container-platform:natGateways'",
    ),
]


@pytest.mark.parametrize(("overrides", "key", "allowed"), BAD_VALUES)
def test_bad_config_is_rejected_before_anything_is_registered(
    overrides: dict[str, Any], key: str, allowed: str
) -> None:
    assert_config_rejected("dev", overrides, key, allowed)


def test_more_azs_than_the_region_has_is_rejected() -> None:
    with pytest.raises(ConfigError, match=r"azCount' = 4 .*at most 3 \(the region's AZs"):
        run_stack("dev", overrides={"azCount": 4})


def test_every_committed_stack_key_is_declared() -> None:
    declared = declared_config()
    for stack in ("dev", "prod"):
        config = load_stack_config(stack)
        for key in config.values:
            namespace, _, name = key.partition(":")
            if namespace == "container-platform":
                assert name in declared, f"{stack}: {key} is not declared in Pulumi.yaml"


def test_every_declared_key_is_documented() -> None:
    for key, decl in declared_config().items():
        assert decl.get("type") in ("string", "integer", "boolean", "array"), key
        assert len(decl.get("description", "")) > 20, f"{key} needs a description"
