"""ECR policies: scanning (repository or registry level), images from scanned repositories, tags, lifecycle, KMS."""

from __future__ import annotations

import json
from typing import Final

import pulumi_aws as aws

from tests.policies.builders import REGISTRY, container, repository, task_definition
from tests.policies.support import ALL_MANDATORY, Analyze, flagged, messages, unknown_notes
from tests.support import ComponentRunner


def _repositories() -> None:
    repository("good")
    repository("platform/app")
    aws.ecr.Repository(
        "bad", name="bad", image_tag_mutability="MUTABLE", image_scanning_configuration={"scan_on_push": False}
    )
    aws.ecr.LifecyclePolicy("empty-lifecycle", repository="platform/app-empty", policy=json.dumps({"rules": []}))
    repository("platform/app-empty", lifecycle=False)
    task_definition("good-task", [container(repo="good"), container("sidecar", repo="platform/app")])
    task_definition("hub-task", [container(image="nginx:1.27")])
    task_definition("unscanned-task", [container(repo="bad")])
    task_definition("unmanaged-task", [container(image=f"{REGISTRY}/elsewhere:1.0.0")])
    task_definition("public-ecr-task", [container(image="public.ecr.aws/aws-observability/aws-otel-collector:v0.40.0")])


def test_repositories_scan_on_push(run_component: ComponentRunner, analyze: Analyze) -> None:
    report = analyze(run_component(_repositories))
    assert flagged(report, "ecr-image-scanning") == {"bad"}
    assert "scanOnPush is not true" in messages(report, "ecr-image-scanning", "bad")[0]


def test_services_run_images_from_scanned_repositories_of_this_stack(
    run_component: ComponentRunner, analyze: Analyze
) -> None:
    report = analyze(run_component(_repositories))
    assert flagged(report, "ecr-images-from-scanned-repositories") == {
        "hub-task",
        "unscanned-task",
        "unmanaged-task",
        "public-ecr-task",
    }
    assert "not a private ECR image" in messages(report, "ecr-images-from-scanned-repositories", "hub-task")[0]
    assert "is not scanned" in messages(report, "ecr-images-from-scanned-repositories", "unscanned-task")[0]
    assert "not managed in this stack" in messages(report, "ecr-images-from-scanned-repositories", "unmanaged-task")[0]


def test_images_scanned_elsewhere_can_be_allowed_by_config(run_component: ComponentRunner, analyze: Analyze) -> None:
    config = {**ALL_MANDATORY, "ecr-images-from-scanned-repositories": {"allowedImages": ["public.ecr.aws/*"]}}
    report = analyze(run_component(_repositories), config=config)
    assert "public-ecr-task" not in flagged(report, "ecr-images-from-scanned-repositories")


def test_tags_immutable_lifecycle_and_kms(run_component: ComponentRunner, analyze: Analyze) -> None:
    report = analyze(run_component(_repositories))
    assert flagged(report, "ecr-immutable-tags") == {"bad"}
    assert flagged(report, "ecr-kms-encryption") == {"bad"}
    # "bad" has no lifecycle policy; the empty one is reported on the policy itself.
    assert flagged(report, "ecr-lifecycle-policy") == {"bad", "empty-lifecycle"}


def _enhanced_registry() -> None:
    aws.ecr.RegistryScanningConfiguration(
        "registry-scanning",
        scan_type="ENHANCED",
        rules=[
            {
                "scan_frequency": "CONTINUOUS_SCAN",
                "repository_filters": [{"filter": "platform/*", "filter_type": "WILDCARD"}],
            },
            # Without a wildcard, a filter matches every repository whose name contains it.
            {
                "scan_frequency": "SCAN_ON_PUSH",
                "repository_filters": [{"filter": "billing", "filter_type": "WILDCARD"}],
            },
        ],
    )
    repository("apps/billing-worker", image_scanning_configuration={"scan_on_push": False})
    # Covered by the registry rule: its own scanOnPush flag does not matter.
    repository("platform/api", image_scanning_configuration={"scan_on_push": False})
    # Not covered: with ENHANCED scanning, ECR ignores the repository-level flag.
    repository("tools/migrate", image_scanning_configuration={"scan_on_push": True})
    task_definition("api-task", [container(repo="platform/api")])
    task_definition("migrate-task", [container(repo="tools/migrate")])


def test_enhanced_registry_scanning_covers_matching_repositories_only(
    run_component: ComponentRunner, analyze: Analyze
) -> None:
    report = analyze(run_component(_enhanced_registry))
    assert flagged(report, "ecr-image-scanning") == {"tools/migrate"}
    assert "ENHANCED" in messages(report, "ecr-image-scanning", "tools/migrate")[0]
    assert flagged(report, "ecr-images-from-scanned-repositories") == {"migrate-task"}


def _autonamed_repositories() -> None:
    kept = aws.ecr.Repository("kept", image_scanning_configuration={"scan_on_push": True})
    aws.ecr.LifecyclePolicy("kept-lifecycle", repository=kept.name, policy=json.dumps({"rules": [{"rulePriority": 1}]}))
    aws.ecr.Repository("forgotten", image_scanning_configuration={"scan_on_push": True})


def test_at_preview_lifecycle_policies_are_matched_by_property_dependency(
    run_component: ComponentRunner, analyze: Analyze
) -> None:
    # Auto-named repositories: their names are unknown at preview, the dependency is not.
    report = analyze(run_component(_autonamed_repositories, preview=True))
    assert flagged(report, "ecr-lifecycle-policy") == {"forgotten"}
    assert flagged(report, "ecr-image-scanning") == set()
    assert unknown_notes(report) == []


CENTRAL: Final = "210987654321.dkr.ecr.eu-west-1.amazonaws.com"
"""A central registry account whose stack owns and scans the shared repositories."""


def _central_registry_images() -> None:
    repository("app")
    task_definition("central-task", [container(image=f"{CENTRAL}/platform/base:1.4.2")])
    task_definition("central-other-task", [container(image=f"{CENTRAL}/tools/migrate@sha256:{'ab' * 32}")])
    task_definition("local-unmanaged-task", [container(image=f"{REGISTRY}/elsewhere:1.0.0")])
    task_definition("hub-task", [container(image="nginx:1.27")])


def _trusting(*entries: str) -> dict[str, object]:
    return {**ALL_MANDATORY, "ecr-images-from-scanned-repositories": {"trustedRepositories": list(entries)}}


def test_a_central_registry_image_fails_unless_it_is_trusted(run_component: ComponentRunner, analyze: Analyze) -> None:
    run = run_component(_central_registry_images)
    untrusted = analyze(run)
    assert flagged(untrusted, "ecr-images-from-scanned-repositories") == {
        "central-task",
        "central-other-task",
        "local-unmanaged-task",
        "hub-task",
    }
    (hint,) = messages(untrusted, "ecr-images-from-scanned-repositories", "central-task")
    assert "trustedRepositories" in hint
    # A whole registry: every repository in it.
    trusted = analyze(run, config=_trusting(CENTRAL))
    assert flagged(trusted, "ecr-images-from-scanned-repositories") == {"local-unmanaged-task", "hub-task"}


def test_trusted_repositories_are_exact_or_namespaces(run_component: ComponentRunner, analyze: Analyze) -> None:
    run = run_component(_central_registry_images)
    exact = analyze(run, config=_trusting(f"{CENTRAL}/platform/base"))
    assert "central-task" not in flagged(exact, "ecr-images-from-scanned-repositories")
    assert "central-other-task" in flagged(exact, "ecr-images-from-scanned-repositories")
    namespace = analyze(run, config=_trusting(f"{CENTRAL}/tools/*"))
    assert flagged(namespace, "ecr-images-from-scanned-repositories") >= {"central-task", "hub-task"}
    assert "central-other-task" not in flagged(namespace, "ecr-images-from-scanned-repositories")
    # Another account's registry, or a prefix that is not a path segment, covers nothing.
    other = analyze(run, config=_trusting("999999999999.dkr.ecr.eu-west-1.amazonaws.com", f"{CENTRAL}/plat"))
    assert {"central-task", "central-other-task"} <= flagged(other, "ecr-images-from-scanned-repositories")


def test_trusted_entries_must_be_ecr_registries_or_repositories() -> None:
    import re

    from policies.guardrails.guardrails.ecr import TRUSTED_REPOSITORY, trusted_covers

    valid = [CENTRAL, f"{CENTRAL}/platform/base", f"{CENTRAL}/platform/*"]
    invalid = ["*", "docker.io/library/nginx", "210987654321", f"{CENTRAL}/*/x", f"https://{CENTRAL}"]
    assert [e for e in valid if re.match(TRUSTED_REPOSITORY, e)] == valid
    assert [e for e in invalid if re.match(TRUSTED_REPOSITORY, e)] == []
    assert not trusted_covers("*", CENTRAL, "platform/base")
