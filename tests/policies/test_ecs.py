"""ECS policies: container health checks, hardened containers, services that deploy safely, separate roles."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest

from tests.policies.builders import container, role_arn, service, target_group, task_definition
from tests.policies.support import Analyze, flagged, messages, unknown_notes
from tests.support import ComponentRunner


def _containers() -> None:
    task_definition("good", [container(), container("sidecar")])
    task_definition("no-health-check", [container(healthCheck=None)])
    task_definition(
        "bad-health-check", [container(healthCheck={"command": ["curl", "-f", "localhost"], "interval": 3})]
    )
    task_definition("privileged", [container(privileged=True)])
    task_definition("writable-root", [container(readonlyRootFilesystem=False)])
    task_definition("root-user", [container(user="0:0")])
    task_definition("image-user", [container(user=None)])
    task_definition(
        "plain-secrets",
        [
            container(
                environment=[
                    {"name": "DATABASE_PASSWORD", "value": "hunter2-but-longer"},
                    {"name": "DATABASE_URL", "value": "postgres://app:s3cret@db:5432/app"},
                    {"name": "REDIS_AUTH_SECRET_ARN", "value": "arn:aws:secretsmanager:eu-west-1:1:secret:x"},
                ]
            )
        ],
    )


@pytest.fixture
def container_report(run_component: ComponentRunner, analyze: Analyze) -> Any:
    return analyze(run_component(_containers))


def test_every_container_has_a_health_check(container_report: Any) -> None:
    assert flagged(container_report, "ecs-container-health-check") == {"no-health-check", "bad-health-check"}
    bad = messages(container_report, "ecs-container-health-check", "bad-health-check")
    assert any("must start with CMD or CMD-SHELL" in m for m in bad)
    assert any("healthCheck.interval=3 is outside 5..300" in m for m in bad)


def test_containers_are_hardened(container_report: Any) -> None:
    assert flagged(container_report, "ecs-no-privileged-containers") == {"privileged"}
    assert flagged(container_report, "ecs-read-only-root-filesystem") == {"writable-root"}
    assert flagged(container_report, "ecs-non-root-user") == {"root-user", "image-user"}


def test_no_secret_looking_values_in_plain_environment(container_report: Any) -> None:
    assert flagged(container_report, "ecs-no-plaintext-secrets") == {"plain-secrets"}
    found = messages(container_report, "ecs-no-plaintext-secrets", "plain-secrets")
    assert [m.split(":", 1)[1].split(" looks", 1)[0].strip() for m in found] == [
        "environment variable DATABASE_PASSWORD",
        "environment variable DATABASE_URL",
    ]
    assert not any("hunter2" in m or "s3cret" in m for m in found), "the report must never echo a secret"


def _services() -> None:
    task = task_definition("task", [container()])
    group = target_group("web")
    service("good", task, group)
    service("no-grace", task, group, health_check_grace_period_seconds=None)
    service("public-ip", task, group, network_configuration={"subnets": ["subnet-a"], "assign_public_ip": True})
    service("no-rollback", task, group, deployment_circuit_breaker={"enable": True, "rollback": False})
    service("worker-no-lb", task, None)  # no load balancer: no grace period needed
    service("blue-green", task, group, deployment_controller={"type": "CODE_DEPLOY"}, deployment_circuit_breaker=None)
    aws.ecs.Cluster("insights", settings=[{"name": "containerInsights", "value": "enhanced"}])
    aws.ecs.Cluster("blind")


def test_services_deploy_safely_behind_load_balancers(run_component: ComponentRunner, analyze: Analyze) -> None:
    report = analyze(run_component(_services))
    assert flagged(report, "ecs-service-grace-period") == {"no-grace"}
    assert flagged(report, "ecs-no-public-ip") == {"public-ip"}
    assert flagged(report, "ecs-deployment-circuit-breaker") == {"no-rollback"}  # CODE_DEPLOY rolls back itself
    assert flagged(report, "ecs-container-insights") == {"blind"}


def _roles() -> None:
    trust = {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}
    assume = json.dumps({"Version": "2012-10-17", "Statement": [trust]})
    execution = aws.iam.Role("execution", assume_role_policy=assume)
    app = aws.iam.Role("app", assume_role_policy=assume)
    task_definition("separate", [container()], execution_role_arn=execution.arn, task_role_arn=app.arn)
    task_definition("shared", [container()], execution_role_arn=execution.arn, task_role_arn=execution.arn)
    task_definition("shared-literal", [container()], execution_role_arn=role_arn("x"), task_role_arn=role_arn("x"))
    task_definition("no-task-role", [container()], task_role_arn=None)


@pytest.mark.parametrize("preview", [False, True], ids=["update", "preview"])
def test_task_role_is_not_the_execution_role(run_component: ComponentRunner, analyze: Analyze, preview: bool) -> None:
    # At preview the role ARNs are unknown; the property dependencies still tell the roles apart.
    report = analyze(run_component(_roles, preview=preview))
    assert flagged(report, "ecs-task-role-separate") == {"shared", "shared-literal"}
    assert [n for n in unknown_notes(report) if "ecs-task-role-separate" in n] == []


def _unknown_container_definitions() -> None:
    group = aws.cloudwatch.LogGroup("logs", retention_in_days=30)
    definitions = pulumi.Output.json_dumps(
        [container(logConfiguration={"logDriver": "awslogs", "options": {"awslogs-group": group.name}})]
    )
    aws.ecs.TaskDefinition("opaque", family="opaque", container_definitions=definitions)


def test_container_checks_on_values_unknown_at_preview_become_notes_naming_the_property(
    run_component: ComponentRunner, analyze: Analyze
) -> None:
    """Why components keep container definitions known at preview: otherwise mandatory checks go soft."""
    report = analyze(run_component(_unknown_container_definitions, preview=True))
    notes = [v for v in report.unknown_notes() if v.policy == "ecs-container-health-check"]
    assert [(v.level, v.resource) for v in notes] == [("advisory", "aws:ecs/taskDefinition:TaskDefinition::opaque")]
    assert "string value at .containerDefinitions can't be known during preview" in notes[0].message
    # The same program after the update: known, checked, compliant.
    assert analyze(run_component(_unknown_container_definitions)).for_policy("ecs-container-health-check") == []
