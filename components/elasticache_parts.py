"""What both ElastiCache components (Valkey/Redis replication group, Memcached cluster) are made of:
a security group that starts with no rules, a subnet group in the isolated subnets, and CloudWatch
alarms with one shape."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import pulumi
import pulumi_aws as aws

from components.errors import require

IDENTIFIER: Final = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
"""ElastiCache cluster / replication group IDs: lowercase letters, digits, single hyphens."""
MAX_IDENTIFIER_LENGTH: Final = 40

ALARM_PERIOD_SECONDS: Final = 300
ALARM_PERIODS: Final = 3
"""Every alarm must breach for three 5-minute periods: one slow minute is not a page."""


def check_identifier(setting: str, identifier: str) -> None:
    """An explicit cluster / replication group ID, as ElastiCache accepts it."""
    require(
        1 <= len(identifier) <= MAX_IDENTIFIER_LENGTH and IDENTIFIER.match(identifier) is not None,
        setting,
        identifier,
        f"1-{MAX_IDENTIFIER_LENGTH} lowercase letters, digits and single hyphens, starting with a letter",
    )


def check_node_type(setting: str, node_type: str) -> None:
    """Both engines take the same node types, named ``cache.<family>.<size>``."""
    require(node_type.startswith("cache."), setting, node_type, "an ElastiCache node type (cache.*)")


def check_placement(subnet_ids: Sequence[object], availability_zones: Sequence[str]) -> None:
    """One isolated subnet per AZ, in the same order (nodes are spread over the AZs round-robin)."""
    require(
        bool(subnet_ids) and len(subnet_ids) == len(availability_zones),
        "subnet_ids",
        f"{len(subnet_ids)} subnets for {len(availability_zones)} availability_zones",
        "one subnet per AZ (as many as availability_zones, at least one)",
        refers=("availability_zones",),
    )


@dataclass(frozen=True)
class Placement:
    """The security group (no rules: clients add theirs) and the subnet group of a cache."""

    security_group: aws.ec2.SecurityGroup
    subnet_group: aws.elasticache.SubnetGroup


def create_placement(
    name: str,
    *,
    vpc_id: pulumi.Input[str],
    subnet_ids: Sequence[pulumi.Input[str]],
    description: str,
    identifier: str,
    parent: pulumi.Resource,
) -> Placement:
    child = pulumi.ResourceOptions(parent=parent)
    sg = aws.ec2.SecurityGroup(
        f"{name}-sg",
        vpc_id=vpc_id,
        description=f"{description}: clients add their own ingress",
        tags={"Name": f"{name}-sg"},
        opts=child,
    )
    subnet_group = aws.elasticache.SubnetGroup(
        f"{name}-subnets",
        subnet_ids=list(subnet_ids),
        description=f"Isolated subnets of {identifier}",
        opts=child,
    )
    return Placement(security_group=sg, subnet_group=subnet_group)


def create_alarm(
    name: str,
    *,
    metric: str,
    threshold: float,
    dimensions: dict[str, str],
    description: str,
    alarm_topic_arn: str | None,
    parent: pulumi.Resource,
    statistic: str = "Average",
) -> aws.cloudwatch.MetricAlarm:
    """An AWS/ElastiCache alarm above ``threshold``; missing data (a node being replaced) is not a breach."""
    actions = [alarm_topic_arn] if alarm_topic_arn else []
    return aws.cloudwatch.MetricAlarm(
        name,
        namespace="AWS/ElastiCache",
        metric_name=metric,
        dimensions=dimensions,
        statistic=statistic,
        period=ALARM_PERIOD_SECONDS,
        evaluation_periods=ALARM_PERIODS,
        datapoints_to_alarm=ALARM_PERIODS,
        comparison_operator="GreaterThanThreshold",
        threshold=threshold,
        treat_missing_data="notBreaching",
        alarm_description=description,
        alarm_actions=actions,
        ok_actions=actions,
        opts=pulumi.ResourceOptions(parent=parent),
    )
