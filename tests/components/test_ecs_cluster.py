"""The ECS cluster alone: Container Insights, capacity providers, ECS Exec audit logging, Cloud Map."""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

import pytest

from components.aws_context import AwsContext
from components.ecs_cluster import (
    CapacityProviderShare,
    EcsCluster,
    EcsClusterArgs,
    EcsClusterSpec,
    FargateCapacity,
)
from components.errors import InputError
from mockcloud.runner import StackRun
from stack.settings import CAPACITY, ECS_CLUSTER
from tests.support import ComponentRunner, config_defaults

CONTEXT = AwsContext(account_id="123456789012", region="eu-west-1")
SPOT_MIX = (
    CapacityProviderShare(provider="FARGATE", base=1, weight=1),
    CapacityProviderShare(provider="FARGATE_SPOT", weight=3),
)


SPEC_FIELDS = {f.name for f in dataclasses.fields(EcsClusterSpec)}


def _args(**overrides: Any) -> EcsClusterArgs:
    """Args at Pulumi.yaml's defaults (capacity included); overrides by field name."""
    spec: dict[str, Any] = {
        **config_defaults(ECS_CLUSTER, EcsClusterSpec),
        "capacity_provider_strategy": FargateCapacity(**config_defaults(CAPACITY, FargateCapacity)).strategy,
        "cluster_name": "platform-dev",
        "namespace_name": "dev.platform.internal",
        **{k: v for k, v in overrides.items() if k in SPEC_FIELDS},
    }
    wiring = {k: v for k, v in overrides.items() if k not in SPEC_FIELDS}
    return EcsClusterArgs(
        **{"context": CONTEXT, "vpc_id": "vpc-0123456789abcdef0", **wiring}, spec=EcsClusterSpec(**spec)
    )


def _cluster(run_component: ComponentRunner, **overrides: Any) -> StackRun:
    return run_component(lambda: EcsCluster("ecs", _args(**overrides)))


@pytest.mark.parametrize("insights", ["enhanced", "enabled", "disabled"])
def test_container_insights_setting(run_component: ComponentRunner, insights: str) -> None:
    run = _cluster(run_component, container_insights=insights)
    cluster = run.one("aws:ecs/cluster:Cluster")
    assert cluster.inputs["name"] == "platform-dev"
    assert cluster.inputs["settings"] == [{"name": "containerInsights", "value": insights}]
    assert cluster.id == "arn:aws:ecs:eu-west-1:123456789012:cluster/platform-dev"


def test_capacity_providers_and_default_strategy(run_component: ComponentRunner) -> None:
    run = _cluster(run_component, capacity_provider_strategy=SPOT_MIX)
    providers = run.one("aws:ecs/clusterCapacityProviders:ClusterCapacityProviders").inputs
    assert providers["clusterName"] == "platform-dev"
    assert sorted(providers["capacityProviders"]) == ["FARGATE", "FARGATE_SPOT"]
    assert providers["defaultCapacityProviderStrategies"] == [
        {"capacityProvider": "FARGATE", "base": 1, "weight": 1},
        {"capacityProvider": "FARGATE_SPOT", "base": 0, "weight": 3},
    ]


def test_exec_sessions_are_encrypted_and_logged(run_component: ComponentRunner) -> None:
    run = _cluster(run_component, log_retention_days=365)
    key = run.one("aws:kms/key:Key")
    assert key.inputs["enableKeyRotation"] is True
    alias = run.one("aws:kms/alias:Alias").inputs
    assert alias["name"] == "alias/platform-dev-exec"
    assert alias["targetKeyId"] == key.outputs["keyId"]
    group = run.one("aws:cloudwatch/logGroup:LogGroup")
    assert group.inputs["name"] == "/aws/ecs/platform-dev/exec"
    assert group.inputs["retentionInDays"] == 365
    assert group.inputs["kmsKeyId"] == key.outputs["arn"]
    execute = run.one("aws:ecs/cluster:Cluster").inputs["configuration"]["executeCommandConfiguration"]
    assert execute["kmsKeyId"] == key.outputs["arn"]
    assert execute["logging"] == "OVERRIDE"
    assert execute["logConfiguration"] == {
        "cloudWatchLogGroupName": "/aws/ecs/platform-dev/exec",
        "cloudWatchEncryptionEnabled": True,
    }


def test_key_policy_lets_logs_use_the_key_for_this_account_only(run_component: ComponentRunner) -> None:
    run = _cluster(run_component)
    policy = json.loads(run.one("aws:kms/key:Key").inputs["policy"])
    logs = next(s for s in policy["Statement"] if s["Principal"] == {"Service": "logs.eu-west-1.amazonaws.com"})
    assert not [a for a in logs["Action"] if "*" in a]
    assert logs["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"] == (
        "arn:aws:logs:eu-west-1:123456789012:log-group:*"
    )


def test_cloud_map_private_dns_namespace_in_the_vpc(run_component: ComponentRunner) -> None:
    run = _cluster(run_component)
    namespace = run.one("aws:servicediscovery/privateDnsNamespace:PrivateDnsNamespace")
    assert namespace.inputs["name"] == "dev.platform.internal"
    assert namespace.inputs["vpc"] == "vpc-0123456789abcdef0"
    assert namespace.id.startswith("ns-")


def test_plain_outputs_for_consumers(run_component: ComponentRunner) -> None:
    captured: dict[str, EcsCluster] = {}
    run_component(lambda: captured.setdefault("c", EcsCluster("ecs", _args())))
    cluster = captured["c"]
    assert cluster.cluster_name == "platform-dev"
    assert cluster.exec_log_group_arn == "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/ecs/platform-dev/exec"
    assert cluster.exec_kms_key_alias == "alias/platform-dev-exec"
    assert cluster.namespace_name == "dev.platform.internal"


def test_children_are_parented_and_prefixed(run_component: ComponentRunner) -> None:
    run = _cluster(run_component)
    component = run.one("platform:ecs:EcsCluster")
    assert all(r.parent == component.urn and r.name.startswith("ecs-") for r in run.resources if r.custom)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"container_insights": "on"},
            r"'container_insights' = 'on' is not valid; allowed: one of enhanced, enabled, disabled",
        ),
        ({"cluster_name": "bad name"}, r"'cluster_name' = 'bad name' is not valid"),
        ({"namespace_name": "Not_A_Domain"}, r"'namespace_name' = 'Not_A_Domain' is not valid; allowed: a DNS name"),
        ({"capacity_provider_strategy": ()}, r"allowed: at least one capacity provider"),
        (
            {
                "capacity_provider_strategy": (
                    CapacityProviderShare(provider="FARGATE", base=1),
                    CapacityProviderShare(provider="FARGATE_SPOT", base=1),
                )
            },
            r"= \['FARGATE', 'FARGATE_SPOT'\] is not valid; allowed: a base on one provider at most",
        ),
        (
            {"capacity_provider_strategy": (CapacityProviderShare(provider="FARGATE", weight=0),)},
            r"at least one provider with a weight above 0",
        ),
        (
            {
                "capacity_provider_strategy": (
                    CapacityProviderShare(provider="FARGATE"),
                    CapacityProviderShare(provider="FARGATE"),
                )
            },
            r"each provider at most once",
        ),
    ],
)
def test_args_reject_bad_values(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError, match=message):
        _args(**overrides)


def test_capacity_provider_share_ranges() -> None:
    with pytest.raises(
        InputError, match=r"'FARGATE.weight' = 1001 is not valid; allowed: a whole number from 0 to 1000"
    ):
        CapacityProviderShare(provider="FARGATE", weight=1001)
    with pytest.raises(InputError, match=r"'provider' = 'EC2' is not valid; allowed: one of FARGATE, FARGATE_SPOT"):
        CapacityProviderShare(provider="EC2")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("capacity", "strategy"),
    [
        ((1, 1, 0), [("FARGATE", 1, 1)]),
        ((0, 0, 1), [("FARGATE_SPOT", 0, 1)]),
        ((3, 0, 2), [("FARGATE", 3, 0), ("FARGATE_SPOT", 0, 2)]),
    ],
)
def test_fargate_capacity_is_a_base_on_demand_then_weights(
    capacity: tuple[int, int, int], strategy: list[tuple[str, int, int]]
) -> None:
    base, on_demand, spot = capacity
    shares = FargateCapacity(base_tasks=base, on_demand_weight=on_demand, spot_weight=spot).strategy
    assert [(s.provider, s.base, s.weight) for s in shares] == strategy


def test_fargate_capacity_needs_a_provider_that_takes_tasks() -> None:
    with pytest.raises(
        InputError, match=re.escape("'on_demand_weight' = 0 is not valid; allowed: above 0 when spot_weight")
    ):
        FargateCapacity(base_tasks=0, on_demand_weight=0, spot_weight=0)


def test_exec_logs_take_the_stacks_logs_key_and_sessions_keep_the_exec_key(run_component: ComponentRunner) -> None:
    key = "arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-0000-0000-00000000000a"
    run = _cluster(run_component, log_kms_key_arn=key)
    assert run.one("aws:cloudwatch/logGroup:LogGroup").inputs["kmsKeyId"] == key
    exec_key = run.one("aws:kms/key:Key", "ecs-exec-key")
    configuration = run.one("aws:ecs/cluster:Cluster").inputs["configuration"]["executeCommandConfiguration"]
    assert configuration["kmsKeyId"] == exec_key.outputs["arn"]
    default = _cluster(run_component)
    assert (
        default.one("aws:cloudwatch/logGroup:LogGroup").inputs["kmsKeyId"]
        == default.one("aws:kms/key:Key", "ecs-exec-key").outputs["arn"]
    )
