"""Helpers for the policy tests: the config that makes every policy mandatory, and who got flagged."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final

import yaml

from offline.policy import GUARDRAILS_DIR
from offline.policy.report import PolicyReport, Violation

ALL_MANDATORY: Final[Mapping[str, Any]] = {"all": "mandatory"}
"""Every policy mandatory, so a test sees each violation at one level whatever the stack files say."""

COMPONENT_CONTAINER_POLICIES: Final = (
    "ecs-container-health-check",
    "ecs-no-privileged-containers",
    "ecs-read-only-root-filesystem",
    "ecs-non-root-user",
    "ecs-no-plaintext-secrets",
    "ecs-no-added-capabilities",
    "ecs-container-logging",
    "log-group-retention",
    "ecr-images-from-scanned-repositories",
)
"""The policies that check a Fargate service component's declared ``containerSpec`` at preview as well
as the task definition's ``containerDefinitions`` (proven one by one in test_fargate_component.py)."""

Analyze = Callable[..., PolicyReport]
"""``analyze(run, config=ALL_MANDATORY) -> PolicyReport`` (the fixture in conftest)."""


def flagged(report: PolicyReport, policy: str) -> set[str]:
    """Names of the resources ``policy`` reported (unknown-at-preview notes excluded)."""
    return {v.urn.rsplit("::", 1)[-1] for v in report.for_policy(policy) if not v.unknown_at_preview}


def messages(report: PolicyReport, policy: str, name: str) -> list[str]:
    """The details ``policy`` reported about the resource called ``name``."""
    return [v.detail for v in report.for_policy(policy) if v.urn.rsplit("::", 1)[-1] == name]


def unknown_notes(report: PolicyReport) -> list[str]:
    return [f"{v.policy} on {v.resource}: {v.detail}" for v in report.unknown_notes()]


def findings(violations: Iterable[Violation]) -> set[tuple[str, str]]:
    """``(policy, resource name)`` of each violation."""
    return {(v.policy, v.urn.rsplit("::", 1)[-1]) for v in violations}


PACK_VERSION: Final = str(yaml.safe_load((GUARDRAILS_DIR / "PulumiPolicy.yaml").read_text(encoding="utf-8"))["version"])
"""The pack's version as PulumiPolicy.yaml states it (the CLI takes it from there)."""
