"""Container policies on the Fargate service component's declared ``containerSpec``, decided at preview.

At preview a task definition's ``containerDefinitions`` is unknown (it embeds the image digest), so the
container policies also check the ``platform:ecs:FargateService`` component, whose ``containerSpec``
input is made of plain values. Every case here runs in preview mode: a finding on the component is a
definite violation, not a note about an unknown value.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import pulumi
import pulumi_aws as aws
import pytest

from components.aws_context import AwsContext
from components.ecs_cluster import CapacityProviderShare
from components.fargate_service import (
    COMPUTED,
    CONTAINER_SPEC,
    FARGATE_SERVICE_TYPE,
    AutoScaling,
    FargateService,
    FargateServiceArgs,
    LoadBalancerAttachment,
    SecretRef,
    TaskSize,
    container_spec,
)
from offline.policy.report import PolicyReport
from tests.policies.builders import ACCOUNT, REGION, REGISTRY, repository
from tests.policies.support import COMPONENT_CONTAINER_POLICIES, Analyze, flagged, messages
from tests.support import ComponentRunner

DIGEST: Final = "sha256:" + "ab" * 32
SECRET: Final = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:rds!db-0a1b2c3d-AbCdEf"


def _args(image: pulumi.Input[str] = f"{REGISTRY}/app@{DIGEST}", **overrides: Any) -> FargateServiceArgs:
    values: dict[str, Any] = {
        "context": AwsContext(account_id=ACCOUNT, region=REGION),
        "cluster_arn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/platform",
        "cluster_name": "platform",
        "service_name": "api",
        "vpc_id": "vpc-0123456789abcdef0",
        "subnet_ids": ["subnet-private-a", "subnet-private-b"],
        "image": image,
        "image_repository_arn": f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/app",
        "environment": {"APP_ENV": "prod", "PORT": "8080"},
        "secrets": {"DATABASE_PASSWORD": SecretRef(arn=SECRET, json_key="password")},
        "load_balancer": LoadBalancerAttachment(
            security_group_id="sg-0a1b0a1b0a1b0a1b0",
            target_group_arn=f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/api/0123456789abcdef",
            target_group_arn_suffix="targetgroup/api/0123456789abcdef",
            load_balancer_arn_suffix="app/web/fedcba9876543210",
        ),
        "size": TaskSize(cpu=256, memory=512),
        "autoscaling": AutoScaling(
            min_capacity=2, max_capacity=4, cpu_target_percent=60, memory_target_percent=70, requests_per_target=1000
        ),
        "capacity_provider_strategy": (CapacityProviderShare(provider="FARGATE", base=1, weight=1),),
        **overrides,
    }
    return FargateServiceArgs(**values)


class _DeclaredContainer(pulumi.ComponentResource):
    """Registers a ``containerSpec`` under FargateService's own type token, and nothing else.

    The violating cases need this: ``FargateServiceArgs`` has no way to ask for a privileged container
    or a writable root filesystem, and rejects a root user or a secret-looking plain variable before
    anything is created, so the real component cannot declare an insecure container. The specs below
    are the real component's spec (``container_spec``) with one setting broken each.
    """

    def __init__(self, name: str, spec: dict[str, Any] | None) -> None:
        props = {CONTAINER_SPEC: spec} if spec is not None else None
        super().__init__(FARGATE_SERVICE_TYPE, name, props)
        self.register_outputs(props or {})


def _spec(**overrides: Any) -> dict[str, Any]:
    """The real component's declared spec with ``overrides`` (a value of None removes the key)."""
    spec = {**container_spec(_args()), **overrides}
    return {k: v for k, v in spec.items() if v is not None}


def _violations() -> None:
    repository("app")
    repository("unscanned", image_scanning_configuration={"scan_on_push": False})
    hc = container_spec(_args())["healthCheck"]
    _DeclaredContainer("good", _spec())
    _DeclaredContainer("no-spec", None)
    _DeclaredContainer("no-health-check", _spec(healthCheck=None))
    _DeclaredContainer("bad-health-check", _spec(healthCheck={**hc, "command": ["curl", "-f", "x"], "interval": 3}))
    _DeclaredContainer("privileged", _spec(privileged=True))
    _DeclaredContainer("writable-root", _spec(readonlyRootFilesystem=False))
    _DeclaredContainer("root-user", _spec(user="0:0"))
    _DeclaredContainer("image-user", _spec(user=None))
    _DeclaredContainer(
        "plain-secrets",
        _spec(
            environment=[
                {"name": "DATABASE_PASSWORD", "value": COMPUTED},
                {"name": "DATABASE_URL", "value": "postgres://app:s3cret@db:5432/app"},
                {"name": "DATABASE_SECRET_ARN", "value": COMPUTED},
            ]
        ),
    )
    logs = container_spec(_args())["logConfiguration"]
    _DeclaredContainer(
        "ecs-creates-group",
        _spec(logConfiguration={**logs, "options": {**logs["options"], "awslogs-create-group": "true"}}),
    )
    _DeclaredContainer("sys-admin", _spec(linuxParameters={"capabilities": {"add": ["SYS_ADMIN"]}}))
    _DeclaredContainer("no-logs", _spec(logConfiguration=None))
    _DeclaredContainer("hub-image", _spec(imageRepository="docker.io/library/nginx"))
    _DeclaredContainer("unscanned-image", _spec(imageRepository=f"{REGISTRY}/unscanned"))
    _DeclaredContainer("unmanaged-image", _spec(imageRepository=f"{REGISTRY}/elsewhere"))


@pytest.fixture
def preview_report(run_component: ComponentRunner, analyze: Analyze) -> PolicyReport:
    return analyze(run_component(_violations, preview=True))


EXPECTED: Final[dict[str, set[str]]] = {
    "ecs-container-health-check": {"no-spec", "no-health-check", "bad-health-check"},
    "ecs-no-privileged-containers": {"no-spec", "privileged"},
    "ecs-read-only-root-filesystem": {"no-spec", "writable-root"},
    "ecs-non-root-user": {"no-spec", "root-user", "image-user"},
    "ecs-no-plaintext-secrets": {"no-spec", "plain-secrets"},
    "ecs-no-added-capabilities": {"no-spec", "sys-admin"},
    "ecs-container-logging": {"no-spec", "no-logs"},
    "log-group-retention": {"ecs-creates-group"},
    "ecr-images-from-scanned-repositories": {"hub-image", "unscanned-image", "unmanaged-image"},
}


def test_every_component_container_policy_has_cases() -> None:
    assert sorted(EXPECTED) == sorted(COMPONENT_CONTAINER_POLICIES)


@pytest.mark.parametrize("policy", COMPONENT_CONTAINER_POLICIES)
def test_a_violating_declared_container_is_flagged_at_preview(preview_report: PolicyReport, policy: str) -> None:
    assert flagged(preview_report, policy) == EXPECTED[policy]
    assert [v for v in preview_report.for_policy(policy) if v.unknown_at_preview] == []


def test_findings_name_the_container_and_never_echo_a_secret(preview_report: PolicyReport) -> None:
    health = messages(preview_report, "ecs-container-health-check", "bad-health-check")
    assert any("must start with CMD or CMD-SHELL" in m for m in health)
    assert any("healthCheck.interval=3 is outside 5..300" in m for m in health)
    assert any("declares no containerSpec" in m for m in messages(preview_report, "ecs-non-root-user", "no-spec"))
    leaked = messages(preview_report, "ecs-no-plaintext-secrets", "plain-secrets")
    assert [m.split(":", 1)[1].split(" looks", 1)[0].strip() for m in leaked] == [
        "environment variable DATABASE_PASSWORD",
        "environment variable DATABASE_URL",
    ]
    assert not any("s3cret" in m for m in leaked)
    (hub,) = messages(preview_report, "ecr-images-from-scanned-repositories", "hub-image")
    assert "'docker.io/library/nginx': not a private ECR image" in hub
    (unscanned,) = messages(preview_report, "ecr-images-from-scanned-repositories", "unscanned-image")
    assert "repository 'unscanned' is not scanned" in unscanned


def _real_service(image: Callable[[aws.ecr.Repository], pulumi.Input[str]]) -> Callable[[], None]:
    def program() -> None:
        repo = repository("app")
        FargateService("api", _args(image=image(repo)))

    return program


def _pushed(repo: aws.ecr.Repository) -> pulumi.Output[str]:
    """Like the program's image: computed from another resource, so unknown at preview."""
    return repo.repository_url.apply(lambda url: f"{url}@{DIGEST}")


@pytest.mark.parametrize("preview", [True, False], ids=["preview", "update"])
def test_the_real_component_complies_and_is_decided_at_preview(
    run_component: ComponentRunner, analyze: Analyze, preview: bool
) -> None:
    run = run_component(_real_service(_pushed), preview=preview)
    report = analyze(run)
    component = run.one(FARGATE_SERVICE_TYPE)
    on_component = [
        v for v in report.violations if v.urn == component.urn or f"FargateService({component.name})" in v.message
    ]
    assert on_component == []
    for policy in COMPONENT_CONTAINER_POLICIES:
        assert [f"{v.resource}: {v.detail}" for v in report.for_policy(policy) if not v.unknown_at_preview] == []
    # The task definition is the one that cannot be decided at preview; during the update it is.
    task_notes = {
        v.policy for v in report.unknown_notes() if "TaskDefinition" in v.resource or "TaskDefinition(" in v.message
    }
    assert task_notes == (set(COMPONENT_CONTAINER_POLICIES) if preview else set())
