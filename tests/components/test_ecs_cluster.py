"""The ECS cluster alone: Container Insights, capacity providers, ECS Exec audit logging, Cloud Map."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.aws_context import AwsContext
from components.ecs_cluster import CapacityProviderShare, EcsCluster, EcsClusterArgs
from mockcloud.runner import StackRun
from tests.support import ComponentRunner

CONTEXT = AwsContext(account_id="123456789012", region="eu-west-1")
SPOT_MIX = (
    CapacityProviderShare(provider="FARGATE", base=1, weight=1),
    CapacityProviderShare(provider="FARGATE_SPOT", weight=3),
)


def _args(**overrides: Any) -> EcsClusterArgs:
    values: dict[str, Any] = {
        "context": CONTEXT,
        "vpc_id": "vpc-0123456789abcdef0",
        "cluster_name": "platform-dev",
        "namespace_name": "dev.platform.internal",
        **overrides,
    }
    return EcsClusterArgs(**values)


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
        ({"container_insights": "on"}, r"container_insights: 'on'; allowed: enhanced, enabled, disabled"),
        ({"cluster_name": "bad name"}, r"cluster_name: 'bad name'"),
        ({"namespace_name": "Not_A_Domain"}, r"namespace_name: 'Not_A_Domain' is not a DNS name"),
        ({"capacity_provider_strategy": ()}, r"at least one provider is required"),
        (
            {
                "capacity_provider_strategy": (
                    CapacityProviderShare(provider="FARGATE", base=1),
                    CapacityProviderShare(provider="FARGATE_SPOT", base=1),
                )
            },
            r"only one provider may have a base; FARGATE, FARGATE_SPOT do",
        ),
        (
            {"capacity_provider_strategy": (CapacityProviderShare(provider="FARGATE", weight=0),)},
            r"at least one provider needs a weight above 0",
        ),
        (
            {
                "capacity_provider_strategy": (
                    CapacityProviderShare(provider="FARGATE"),
                    CapacityProviderShare(provider="FARGATE"),
                )
            },
            r"duplicate providers",
        ),
    ],
)
def test_args_reject_bad_values(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _args(**overrides)


def test_capacity_provider_share_ranges() -> None:
    with pytest.raises(ValueError, match=r"FARGATE.weight: 1001; allowed: 0 to 1000"):
        CapacityProviderShare(provider="FARGATE", weight=1001)
    with pytest.raises(ValueError, match=r"capacity provider: 'EC2'; allowed: FARGATE, FARGATE_SPOT"):
        CapacityProviderShare(provider="EC2")  # type: ignore[arg-type]
