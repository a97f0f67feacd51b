"""Per-stack config files: one per committed stack, naming real policies, with the agreed levels."""

from __future__ import annotations

import json

import pytest

from offline.policy import GUARDRAILS_DIR
from offline.policy.config import config_file, parse_config, reconcile
from offline.policy.pack import PolicyPackProcess
from tests.support import STACKS


def test_every_committed_stack_has_a_policy_config() -> None:
    assert sorted(p.stem for p in GUARDRAILS_DIR.glob("*.json")) == sorted(STACKS)


@pytest.mark.parametrize("stack", STACKS)
def test_config_names_only_existing_policies(policy_pack: PolicyPackProcess, stack: str) -> None:
    _, _, policies = policy_pack.info()
    named = set(json.loads(config_file(stack).read_text())) - {"all"}
    assert named <= set(policies), f"{stack}.json names unknown policies: {sorted(named - set(policies))}"


def _levels(policy_pack: PolicyPackProcess, stack: str) -> dict[str, str]:
    _, _, policies = policy_pack.info()
    effective = reconcile(policies.values(), parse_config(json.loads(config_file(stack).read_text())))
    return {name: str(effective[name].level) for name in policies}


def test_must_haves_are_mandatory_in_every_stack(policy_pack: PolicyPackProcess) -> None:
    _, _, policies = policy_pack.info()
    must_haves = {name for name, p in policies.items() if p.default_level == "mandatory"}
    assert must_haves == {
        "ecr-image-scanning",
        "ecr-images-from-scanned-repositories",
        "lb-target-group-health-check",
        "ecs-container-health-check",
        "ecs-service-grace-period",
        "ecs-service-behind-target-group",
        "target-group-has-listener",
        "load-balancer-has-listener",
        # Exposure: cost nothing to satisfy, and a dev account's data and credentials are real too.
        "iam-no-admin-policies",
        "iam-role-trust-policy",
        "resource-policy-no-public-access",
        "s3-public-access-block",
        "s3-no-public-acl",
        "ec2-no-secrets-in-user-data",
        # From the held-out red team of issue 17 (tests/policies/test_held_out_insecure.py).
        "iam-no-access-keys",
        "rds-snapshot-not-public",
    }
    for stack in STACKS:
        levels = _levels(policy_pack, stack)
        assert {name for name in must_haves if levels[name] != "mandatory"} == set(), stack


def test_guardrails_are_advisory_in_dev_and_mandatory_in_prod(policy_pack: PolicyPackProcess) -> None:
    _, _, policies = policy_pack.info()
    guardrails = {name for name, p in policies.items() if p.default_level != "mandatory"}
    # 30 before the peers' checks were added, plus alb-waf-association; waf-known-bad-inputs and
    # waf-logging and s3-abort-incomplete-uploads from the checkov run of issue 17; SNS, SQS, DynamoDB
    # EFS, Backup and Lambda from its held-out red team.
    assert len(guardrails) == 79
    assert {_levels(policy_pack, "dev")[name] for name in guardrails} == {"advisory"}
    assert {_levels(policy_pack, "prod")[name] for name in guardrails} == {"mandatory"}


def _documented_levels() -> dict[str, tuple[str, str]]:
    """``policy -> (dev, prod)`` from the policy tables of docs/policies.md (M/A columns)."""
    rows: dict[str, tuple[str, str]] = {}
    for line in (GUARDRAILS_DIR.parents[1] / "docs" / "policies.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip()[1:-1].split("|")]
        if len(cells) == 8 and cells[0].startswith("`") and cells[3] in ("M", "A") and cells[4] in ("M", "A"):
            rows[cells[0].split("`")[1]] = (cells[3], cells[4])
    return rows


def test_every_policy_has_a_docs_row_with_its_levels(policy_pack: PolicyPackProcess) -> None:
    """A policy added without its row in docs/policies.md (or with the wrong dev/prod level) fails here."""
    short = {"mandatory": "M", "advisory": "A"}
    dev, prod = _levels(policy_pack, "dev"), _levels(policy_pack, "prod")
    expected = {name: (short[dev[name]], short[prod[name]]) for name in dev}
    assert _documented_levels() == expected
