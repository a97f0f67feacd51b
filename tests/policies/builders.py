"""Real pulumi_aws resources for policy tests, compliant with every guardrail unless told otherwise.

Each builder takes keyword overrides, so a violating case states exactly what it breaks.
"""

from __future__ import annotations

import json
from typing import Any, Final

import pulumi_aws as aws

ACCOUNT: Final = "123456789012"
REGION: Final = "eu-west-1"
REGISTRY: Final = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
TLS13: Final = "ELBSecurityPolicy-TLS13-1-2-2021-06"
CERTIFICATE: Final = f"arn:aws:acm:{REGION}:{ACCOUNT}:certificate/0e4a5b1c-1111-2222-3333-444455556666"
LIFECYCLE: Final = {
    "rules": [
        {
            "rulePriority": 1,
            "description": "expire untagged images after 7 days",
            "selection": {
                "tagStatus": "untagged",
                "countType": "sinceImagePushed",
                "countUnit": "days",
                "countNumber": 7,
            },
            "action": {"type": "expire"},
        }
    ]
}


def role_arn(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


def repository(name: str, *, lifecycle: bool = True, **overrides: Any) -> aws.ecr.Repository:
    args: dict[str, Any] = {
        "name": name,
        "image_tag_mutability": "IMMUTABLE",
        "image_scanning_configuration": {"scan_on_push": True},
        "encryption_configurations": [{"encryption_type": "KMS"}],
        **overrides,
    }
    repo = aws.ecr.Repository(name, **args)
    if lifecycle:
        aws.ecr.LifecyclePolicy(f"{name}-lifecycle", repository=repo.name, policy=json.dumps(LIFECYCLE))
    return repo


def container(name: str = "app", *, repo: str = "app", **overrides: Any) -> dict[str, Any]:
    """A hardened container definition (as the ECS API takes it)."""
    return {
        "name": name,
        "image": f"{REGISTRY}/{repo}:1.0.0",
        "essential": True,
        "user": "10001:10001",
        "readonlyRootFilesystem": True,
        "privileged": False,
        "portMappings": [{"containerPort": 8080, "protocol": "tcp"}],
        "environment": [{"name": "APP_ENV", "value": "prod"}, {"name": "DATABASE_SECRET_ARN", "value": "arn:x"}],
        "secrets": [{"name": "DATABASE_PASSWORD", "valueFrom": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:db"}],
        "healthCheck": {
            "command": [
                "CMD",
                "python",
                "-c",
                "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz')",
            ],
            "interval": 15,
            "timeout": 5,
            "retries": 3,
            "startPeriod": 30,
        },
        "logConfiguration": {
            "logDriver": "awslogs",
            "options": {"awslogs-group": "/ecs/app", "awslogs-region": REGION, "awslogs-stream-prefix": name},
        },
        **overrides,
    }


def task_definition(name: str, containers: list[dict[str, Any]], **overrides: Any) -> aws.ecs.TaskDefinition:
    args: dict[str, Any] = {
        "family": name,
        "container_definitions": json.dumps(containers),
        "requires_compatibilities": ["FARGATE"],
        "network_mode": "awsvpc",
        "cpu": "256",
        "memory": "512",
        "execution_role_arn": role_arn(f"{name}-execution"),
        "task_role_arn": role_arn(f"{name}-task"),
        **overrides,
    }
    return aws.ecs.TaskDefinition(name, **args)


HEALTH_CHECK: Final = {
    "enabled": True,
    "protocol": "HTTP",
    "path": "/healthz",
    "matcher": "200",
    "interval": 15,
    "timeout": 5,
    "healthy_threshold": 2,
    "unhealthy_threshold": 3,
}


def target_group(name: str, **overrides: Any) -> aws.lb.TargetGroup:
    args: dict[str, Any] = {
        "port": 8080,
        "protocol": "HTTP",
        "target_type": "ip",
        "vpc_id": "vpc-0123456789abcdef0",
        "health_check": dict(HEALTH_CHECK),
        **overrides,
    }
    return aws.lb.TargetGroup(name, **args)


def alb(name: str, **overrides: Any) -> aws.lb.LoadBalancer:
    args: dict[str, Any] = {
        "load_balancer_type": "application",
        "subnets": ["subnet-a", "subnet-b"],
        "drop_invalid_header_fields": True,
        "enable_deletion_protection": True,
        "access_logs": {"bucket": "platform-alb-logs", "enabled": True},
        **overrides,
    }
    return aws.lb.LoadBalancer(name, **args)


def https_listener(name: str, lb: aws.lb.LoadBalancer, group: aws.lb.TargetGroup, **overrides: Any) -> aws.lb.Listener:
    args: dict[str, Any] = {
        "load_balancer_arn": lb.arn,
        "port": 443,
        "protocol": "HTTPS",
        "ssl_policy": TLS13,
        "certificate_arn": CERTIFICATE,
        "default_actions": [{"type": "forward", "target_group_arn": group.arn}],
        **overrides,
    }
    return aws.lb.Listener(name, **args)


def redirect_listener(name: str, lb: aws.lb.LoadBalancer, **overrides: Any) -> aws.lb.Listener:
    args: dict[str, Any] = {
        "load_balancer_arn": lb.arn,
        "port": 80,
        "protocol": "HTTP",
        "default_actions": [
            {"type": "redirect", "redirect": {"protocol": "HTTPS", "port": "443", "status_code": "HTTP_301"}}
        ],
        **overrides,
    }
    return aws.lb.Listener(name, **args)


def service(
    name: str, task: aws.ecs.TaskDefinition, group: aws.lb.TargetGroup | None, **overrides: Any
) -> aws.ecs.Service:
    args: dict[str, Any] = {
        "cluster": f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/platform",
        "task_definition": task.arn,
        "desired_count": 2,
        "launch_type": "FARGATE",
        "network_configuration": {"subnets": ["subnet-a"], "security_groups": ["sg-0123"], "assign_public_ip": False},
        "deployment_circuit_breaker": {"enable": True, "rollback": True},
        **overrides,
    }
    if group is not None:
        args.setdefault(
            "load_balancers", [{"target_group_arn": group.arn, "container_name": "app", "container_port": 8080}]
        )
        args.setdefault("health_check_grace_period_seconds", 60)
    return aws.ecs.Service(name, **args)


def policy_document(*statements: dict[str, Any]) -> str:
    """An IAM or resource policy document, as the JSON string Pulumi inputs take."""
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def tls_only(bucket: str) -> dict[str, Any]:
    """The bucket-policy statement that denies every request not made over TLS."""
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
