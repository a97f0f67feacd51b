"""The whole program through the pack, per committed stack, the way `pulumi preview --policy-pack` runs it."""

from __future__ import annotations

import pytest

from mockcloud.policy_runner import PolicyPackProcess
from mockcloud.runner import StackRun
from tests.support import STACKS, cached_run


def test_no_mandatory_violation_with_the_stacks_config(policy_pack: PolicyPackProcess, stack_run: StackRun) -> None:
    report = policy_pack.analyze(stack_run)
    assert report.config == f"{stack_run.stack}.json"
    assert [f"{v.policy} on {v.resource}: {v.detail}" for v in report.mandatory] == []


@pytest.mark.parametrize("stack", STACKS)
def test_at_preview_no_mandatory_check_is_weakened_by_unknown_values(
    policy_pack: PolicyPackProcess, stack: str
) -> None:
    """pulumi-policy turns a check that reads an unknown value into an advisory note, even when the policy
    is mandatory. The components keep every property the mandatory policies read known at preview."""
    report = policy_pack.analyze(cached_run(stack, preview=True))
    weakened = [
        f"{v.policy} on {v.resource}: {v.detail}"
        for v in report.unknown_notes()
        if report.levels[v.policy] == "mandatory"
    ]
    assert weakened == []
    assert [f"{v.policy} on {v.resource}: {v.detail}" for v in report.mandatory] == []
