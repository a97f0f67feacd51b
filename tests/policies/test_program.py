"""The whole program through the pack, per committed stack, the way `pulumi preview --policy-pack` runs it."""

from __future__ import annotations

import re

import pytest

from mockcloud.policy_runner import PolicyPackProcess, Violation
from mockcloud.runner import StackRun
from tests.support import STACKS, cached_run


def test_no_mandatory_violation_with_the_stacks_config(policy_pack: PolicyPackProcess, stack_run: StackRun) -> None:
    report = policy_pack.analyze(stack_run)
    assert report.config == f"{stack_run.stack}.json"
    assert [f"{v.policy} on {v.resource}: {v.detail}" for v in report.mandatory] == []


def _why_unknown(run: StackRun, note: Violation) -> str:
    """Which property is unknown, and which resources' outputs flow into it (for the owner to fix)."""
    path = note.message.split("during preview: ", 1)[-1].replace(" can't be known during preview", "")
    where = run.by_urn(note.urn) if note.urn else None
    if where is None:  # a stack policy names the resource in the path: .TaskDefinition(name).property...
        match = re.search(r"\.\w+\(([^)]+)\)\.(\w+)", path)
        where = next((r for r in run.resources if match and r.name == match[1]), None)
        prop = match[2] if match else ""
    else:
        prop = path.split(" at .", 1)[-1].split(".", 1)[0]
    sources = sorted(
        f"{run.by_urn(urn).type.rsplit(':', 1)[-1]}::{run.by_urn(urn).name}"
        for urn in (where.property_dependencies.get(prop, []) if where else [])
    )
    return f"{note.policy} on {note.resource}: {path}; computed from {', '.join(sources) or '?'}"


@pytest.mark.parametrize("stack", STACKS)
def test_at_preview_no_mandatory_check_is_weakened_by_unknown_values(
    policy_pack: PolicyPackProcess, stack: str
) -> None:
    """pulumi-policy turns a check that reads an unknown value into an advisory note, even when the policy
    is mandatory. The components keep every property the mandatory policies read known at preview."""
    run = cached_run(stack, preview=True)
    report = policy_pack.analyze(run)
    weakened = [_why_unknown(run, v) for v in report.unknown_notes() if report.levels[v.policy] == "mandatory"]
    assert weakened == [], "mandatory checks pulumi-policy could not run at preview:\n" + "\n".join(weakened)
    assert [f"{v.policy} on {v.resource}: {v.detail}" for v in report.mandatory] == []
