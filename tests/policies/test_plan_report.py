"""The offline plan prints the policy report by enforcement level and fails on a mandatory violation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mockcloud import plan
from mockcloud.policy_runner import PolicyReport, analyze_stack_run
from mockcloud.runner import StackRun
from tests.policies.support import PHASE_2_PROD_FINDINGS


def test_plan_prints_the_policy_report_of_the_stack(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    summary = tmp_path / "summary.md"
    assert plan.main(["dev", "--out", str(tmp_path), "--summary-file", str(summary)]) == plan.EXIT_OK
    out = capsys.readouterr().out
    assert "Policy pack container-platform-guardrails@v1.1.0, stack 'dev' (update), config dev.json" in out
    assert "Mandatory violations (block the deployment): 0" in out
    assert "Result: PASSED" in out
    assert "### Policy report: `container-platform-guardrails` on `dev` — passed" in summary.read_text()


def test_plan_exits_1_on_a_mandatory_violation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def every_policy_mandatory(run: StackRun, stack: str | None = None, **kwargs: Any) -> PolicyReport:
        report = analyze_stack_run(run, stack, config={"all": "mandatory"})
        assert report.mandatory, "dev has advisory findings that become mandatory here"
        return report

    monkeypatch.setattr(plan, "analyze_stack_run", every_policy_mandatory)
    assert plan.main(["dev", "--out", str(tmp_path)]) == plan.EXIT_POLICY_VIOLATION
    assert "Result: FAILED" in capsys.readouterr().out


def test_preview_report_says_what_covers_the_task_definitions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Until issue 17's phase 2 lands, prod draws the mandatory findings listed in PHASE_2_PROD_FINDINGS
    # (test_program.py pins exactly those); then this is EXIT_OK again.
    expected = plan.EXIT_POLICY_VIOLATION if PHASE_2_PROD_FINDINGS else plan.EXIT_OK
    assert plan.main(["prod", "--preview", "--out", str(tmp_path)]) == expected
    out = capsys.readouterr().out
    notes = out.split("Not checked at preview", 1)[1].split("Disabled policies", 1)[0]
    task_lines = [line for line in notes.splitlines() if "TaskDefinition::" in line]
    assert task_lines, "the task definitions' container checks are decided at `up`"
    assert all("[spec checked at preview on its FargateService]" in line for line in task_lines)
    assert "runs again with known values during `pulumi up`" in notes
