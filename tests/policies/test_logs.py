"""Log retention: every log group expires its events; ECS never creates log groups on its own."""

from __future__ import annotations

import pulumi_aws as aws

from tests.policies.builders import container, task_definition
from tests.policies.support import Analyze, flagged, messages
from tests.support import ComponentRunner


def _logs() -> None:
    aws.cloudwatch.LogGroup("kept-30-days", retention_in_days=30)
    aws.cloudwatch.LogGroup("forever")
    aws.cloudwatch.LogGroup("thirteen-days", retention_in_days=13)
    task_definition("own-group", [container()])
    options = {"awslogs-group": "/ecs/x", "awslogs-region": "eu-west-1", "awslogs-create-group": "true"}
    task_definition("ecs-creates-group", [container(logConfiguration={"logDriver": "awslogs", "options": options})])


def test_log_groups_have_a_retention(run_component: ComponentRunner, analyze: Analyze) -> None:
    report = analyze(run_component(_logs))
    assert flagged(report, "log-group-retention") == {"forever", "thirteen-days", "ecs-creates-group"}
    assert "not a value CloudWatch Logs accepts" in messages(report, "log-group-retention", "thirteen-days")[0]
