"""A small program for the policy runner's tests: a task definition with options, and a cluster."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from tests.policies.builders import container, task_definition


def task_and_cluster() -> None:
    task_definition("task", [container()], opts=pulumi.ResourceOptions(protect=True, ignore_changes=["tags"]))
    aws.ecs.Cluster("cluster", settings=[{"name": "containerInsights", "value": "enabled"}])
