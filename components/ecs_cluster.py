"""The ECS cluster the services run in: capacity providers, Container Insights, ECS Exec audit, Cloud Map."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal, get_args

import pulumi
import pulumi_aws as aws

from components.aws_context import AwsContext
from components.errors import in_range, one_of, require
from components.log_groups import check_retention

ContainerInsights = Literal["enhanced", "enabled", "disabled"]
CapacityProviderName = Literal["FARGATE", "FARGATE_SPOT"]

_CLUSTER_NAME: Final = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
_DNS_NAME: Final = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


@dataclass(frozen=True, kw_only=True)
class CapacityProviderShare:
    """One entry of a capacity provider strategy."""

    provider: CapacityProviderName
    """``FARGATE`` (on-demand) or ``FARGATE_SPOT`` (up to ~70% cheaper, reclaimable with 2 min notice)."""
    weight: int = 1
    """Relative share of tasks beyond the base (0-1000)."""
    base: int = 0
    """Tasks always placed on this provider first (0-100000; only one provider may have a base)."""

    def __post_init__(self) -> None:
        one_of("provider", self.provider, get_args(CapacityProviderName))
        in_range(f"{self.provider}.weight", self.weight, 0, 1000)
        in_range(f"{self.provider}.base", self.base, 0, 100_000, "tasks")


def validate_strategy(strategy: Sequence[CapacityProviderShare]) -> None:
    """The rules ECS applies to a capacity provider strategy, checked before anything is created."""
    setting = "capacity_provider_strategy"
    providers = [s.provider for s in strategy]
    require(bool(strategy), setting, providers, "at least one capacity provider")
    require(len(set(providers)) == len(providers), setting, providers, "each provider at most once")
    with_base = [s.provider for s in strategy if s.base > 0]
    require(len(with_base) <= 1, setting, with_base, "a base on one provider at most")
    require(any(s.weight > 0 for s in strategy), setting, providers, "at least one provider with a weight above 0")


@dataclass(frozen=True, kw_only=True)
class FargateCapacity:
    """How tasks split between Fargate on-demand and Fargate Spot: a base on on-demand, then weights."""

    base_tasks: int
    """Tasks always on on-demand Fargate first (0-100000)."""
    on_demand_weight: int
    """Share of the remaining tasks on FARGATE (0-1000)."""
    spot_weight: int
    """Share of the remaining tasks on FARGATE_SPOT (0-1000; up to ~70% cheaper, reclaimable)."""

    def __post_init__(self) -> None:
        in_range("base_tasks", self.base_tasks, 0, 100_000, "tasks")
        in_range("on_demand_weight", self.on_demand_weight, 0, 1000)
        in_range("spot_weight", self.spot_weight, 0, 1000)
        require(
            self.on_demand_weight > 0 or self.spot_weight > 0,
            "on_demand_weight",
            self.on_demand_weight,
            "above 0 when spot_weight is 0 too (no provider would take tasks)",
            refers=("spot_weight",),
        )

    @property
    def strategy(self) -> tuple[CapacityProviderShare, ...]:
        shares = []
        if self.base_tasks or self.on_demand_weight:
            shares.append(CapacityProviderShare(provider="FARGATE", base=self.base_tasks, weight=self.on_demand_weight))
        if self.spot_weight:
            shares.append(CapacityProviderShare(provider="FARGATE_SPOT", weight=self.spot_weight))
        return tuple(shares)


@dataclass(frozen=True, kw_only=True)
class EcsClusterSpec:
    """What the cluster is: its names, metrics and capacity. Plain values, validated."""

    cluster_name: str
    """Name of the cluster (explicit, so service and scaling IDs are known at preview)."""
    namespace_name: str
    """Private DNS namespace for service discovery, e.g. ``dev.platform.internal``."""
    container_insights: ContainerInsights
    """``enhanced`` adds task- and container-level metrics (prod); ``enabled`` is cluster/service level."""
    capacity_provider_strategy: Sequence[CapacityProviderShare]
    """Default strategy for services that do not set their own (e.g. ``FargateCapacity(...).strategy``)."""
    log_retention_days: int
    """Retention of the ECS Exec audit log group."""

    def __post_init__(self) -> None:
        require(
            _CLUSTER_NAME.match(self.cluster_name) is not None,
            "cluster_name",
            self.cluster_name,
            "1-255 of letters, digits, '-' and '_'",
        )
        require(
            _DNS_NAME.match(self.namespace_name) is not None,
            "namespace_name",
            self.namespace_name,
            "a DNS name (e.g. app.internal)",
        )
        one_of("container_insights", self.container_insights, get_args(ContainerInsights))
        validate_strategy(self.capacity_provider_strategy)
        check_retention("log_retention_days", self.log_retention_days)


@dataclass(frozen=True, kw_only=True)
class EcsClusterArgs:
    """Where the cluster's namespace lives, and what the cluster is (``spec``)."""

    context: AwsContext
    """Account, region and partition (plain values)."""
    vpc_id: pulumi.Input[str]
    """VPC of the Cloud Map private DNS namespace."""
    spec: EcsClusterSpec
    log_kms_key_arn: pulumi.Input[str] | None = None
    """The stack's logs key for the ECS Exec audit log group; None uses the cluster's exec key (whose
    policy admits CloudWatch Logs too). Sessions are always encrypted with the exec key."""


class EcsCluster(pulumi.ComponentResource):
    """A Fargate-only ECS cluster with ECS Exec auditing and a Cloud Map namespace.

    ECS Exec sessions are encrypted with a customer-managed KMS key and their commands and output are
    logged to an encrypted CloudWatch log group. Services register in a private DNS namespace
    (``<service>.<namespace_name>``), resolvable from anywhere in the VPC.
    """

    arn: pulumi.Output[str]
    """ARN of the cluster."""
    cluster_name: str
    """Name of the cluster (plain)."""
    capacity_provider_strategy: tuple[CapacityProviderShare, ...]
    """The default strategy (plain values), which services reuse."""
    namespace_id: pulumi.Output[str]
    """Cloud Map private DNS namespace ID."""
    namespace_arn: pulumi.Output[str]
    """Cloud Map namespace ARN."""
    namespace_name: str
    """Its DNS name (plain)."""
    exec_kms_key_arn: pulumi.Output[str]
    """KMS key that encrypts ECS Exec sessions and the task log groups."""
    exec_kms_key_alias: str
    """``alias/...`` of that key (plain): task roles are granted the key through the alias, which keeps
    their policies known at preview."""
    exec_log_group_name: str
    """Log group receiving ECS Exec session logs (plain)."""
    exec_log_group_arn: str
    """Its ARN (plain, composed from the explicit name)."""

    def __init__(self, name: str, args: EcsClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("platform:ecs:EcsCluster", name, None, opts)
        ctx = args.context
        child = pulumi.ResourceOptions(parent=self)
        self.cluster_name = args.spec.cluster_name
        self.capacity_provider_strategy = tuple(args.spec.capacity_provider_strategy)
        self.namespace_name = args.spec.namespace_name

        key = aws.kms.Key(
            f"{name}-exec-key",
            description=f"ECS Exec sessions and task logs of cluster {args.spec.cluster_name}",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            policy=json.dumps(_key_policy(ctx)),
            opts=child,
        )
        self.exec_kms_key_alias = f"alias/{args.spec.cluster_name}-exec"
        aws.kms.Alias(f"{name}-exec-key-alias", name=self.exec_kms_key_alias, target_key_id=key.key_id, opts=child)
        self.exec_kms_key_arn = key.arn

        self.exec_log_group_name = f"/aws/ecs/{args.spec.cluster_name}/exec"
        self.exec_log_group_arn = ctx.arn("logs", f"log-group:{self.exec_log_group_name}")
        exec_logs = aws.cloudwatch.LogGroup(
            f"{name}-exec-logs",
            name=self.exec_log_group_name,
            retention_in_days=args.spec.log_retention_days,
            kms_key_id=args.log_kms_key_arn if args.log_kms_key_arn is not None else key.arn,
            opts=child,
        )

        cluster = aws.ecs.Cluster(
            f"{name}-cluster",
            name=args.spec.cluster_name,
            settings=[aws.ecs.ClusterSettingArgs(name="containerInsights", value=args.spec.container_insights)],
            configuration=aws.ecs.ClusterConfigurationArgs(
                execute_command_configuration=aws.ecs.ClusterConfigurationExecuteCommandConfigurationArgs(
                    kms_key_id=key.arn,
                    logging="OVERRIDE",
                    log_configuration=aws.ecs.ClusterConfigurationExecuteCommandConfigurationLogConfigurationArgs(
                        cloud_watch_log_group_name=exec_logs.name,
                        cloud_watch_encryption_enabled=True,
                    ),
                ),
            ),
            opts=child,
        )
        self.arn = cluster.arn

        aws.ecs.ClusterCapacityProviders(
            f"{name}-capacity-providers",
            cluster_name=cluster.name,
            capacity_providers=["FARGATE", "FARGATE_SPOT"],
            default_capacity_provider_strategies=[
                aws.ecs.ClusterCapacityProvidersDefaultCapacityProviderStrategyArgs(
                    capacity_provider=s.provider, weight=s.weight, base=s.base
                )
                for s in args.spec.capacity_provider_strategy
            ],
            opts=child,
        )

        namespace = aws.servicediscovery.PrivateDnsNamespace(
            f"{name}-namespace",
            name=args.spec.namespace_name,
            vpc=args.vpc_id,
            description=f"Service discovery for cluster {args.spec.cluster_name}",
            opts=child,
        )
        self.namespace_id = namespace.id
        self.namespace_arn = namespace.arn

        self.register_outputs(
            {
                "arn": self.arn,
                "clusterName": self.cluster_name,
                "namespaceId": self.namespace_id,
                "execLogGroupName": self.exec_log_group_name,
            }
        )


def _key_policy(ctx: AwsContext) -> dict[str, object]:
    """Account administrators manage the key (IAM policies grant use); CloudWatch Logs may use it for
    this account's log groups only."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AccountAdministersThroughIam",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:{ctx.partition}:iam::{ctx.account_id}:root"},
                "Action": "kms:*",
                "Resource": "*",
            },
            {
                "Sid": "CloudWatchLogsEncryptsThisAccountsGroups",
                "Effect": "Allow",
                "Principal": {"Service": f"logs.{ctx.region}.{ctx.dns_suffix}"},
                "Action": [
                    "kms:Encrypt",
                    "kms:Decrypt",
                    "kms:ReEncryptFrom",
                    "kms:ReEncryptTo",
                    "kms:GenerateDataKey",
                    "kms:GenerateDataKeyWithoutPlaintext",
                    "kms:DescribeKey",
                ],
                "Resource": "*",
                "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": ctx.arn("logs", "log-group:*")}},
            },
        ],
    }
