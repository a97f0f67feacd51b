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


PHASE_2_PROD_FINDINGS: Final[frozenset[tuple[str, str]]] = frozenset(
    {
        # Customer-managed keys: the log groups the flow logs, the cache and the database write to.
        ("log-group-kms", "prod-flow-logs"),
        ("log-group-kms", "prod-cache-slow-log"),
        ("log-group-kms", "prod-cache-engine-log"),
        ("log-group-kms", "prod-db-postgresql-log"),
        ("log-group-kms", "prod-db-upgrade-log"),
        # Customer-managed keys: the cache at rest and its AUTH token secret.
        ("elasticache-cmk", "prod-cache-group"),
        ("secretsmanager-cmk", "prod-cache-auth-secret"),
        # Storage, Performance Insights and the RDS-managed master secret (dbKmsKeyArn is empty in prod).
        ("rds-cmk", "prod-db-instance"),
        # The database: enhanced monitoring with its role; IAM database authentication.
        ("rds-enhanced-monitoring", "prod-db-instance"),
        ("rds-iam-auth", "prod-db-instance"),
        # The cache AUTH token: IAM auth where the engine supports it, else a rotation schedule.
        ("secretsmanager-rotation", "prod-cache-auth-secret"),
    }
)
"""Mandatory findings of the prod stack that issue 17's phase 2 fixes (keys wired into every log group
and data store, RDS enhanced monitoring and IAM auth, no unrotated cache secret). The prod tests expect
exactly these, so each fix must remove its entry, and the list ends empty."""

PHASE_2_PROD_INSPECTION_FINDINGS: Final = PHASE_2_PROD_FINDINGS | {("log-group-kms", "prod-inspection-flow-logs")}
"""The same with the GWLB inspection VPC on (its own flow log group)."""


def findings(violations: Iterable[Violation]) -> set[tuple[str, str]]:
    """``(policy, resource name)`` of each violation."""
    return {(v.policy, v.urn.rsplit("::", 1)[-1]) for v in violations}


PACK_VERSION: Final = str(yaml.safe_load((GUARDRAILS_DIR / "PulumiPolicy.yaml").read_text(encoding="utf-8"))["version"])
"""The pack's version as PulumiPolicy.yaml states it (the CLI takes it from there)."""
