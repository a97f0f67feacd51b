"""The offline plan prints the policy report by enforcement level and fails on a mandatory violation."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from mockcloud.runner import StackRun
from offline import plan
from offline.policy import GUARDRAILS_DIR
from offline.policy.pack import analyze_stack_run
from offline.policy.report import PolicyReport
from stack.settings import declared_config
from tests.policies.support import PACK_VERSION


def test_plan_prints_the_policy_report_of_the_stack(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    summary = tmp_path / "summary.md"
    args = ["dev", "--policy-report", "--out", str(tmp_path), "--summary-file", str(summary)]
    assert plan.main(args) == plan.EXIT_OK
    out = capsys.readouterr().out
    assert f"Policy pack container-platform-guardrails@v{PACK_VERSION}, stack 'dev' (update), config dev.json" in out
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
    assert plan.main(["dev", "--policy-report", "--out", str(tmp_path)]) == plan.EXIT_POLICY_VIOLATION
    out = capsys.readouterr().out
    assert "Result: FAILED" in out
    summary = out.split("\nSummary\n", 1)[1]
    assert "  Policies:  FAILED, " in summary
    assert "    mandatory " in summary, "each mandatory violation is listed in the summary"


def test_preview_report_says_what_covers_the_task_definitions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert plan.main(["prod", "--preview", "--policy-report", "--out", str(tmp_path)]) == plan.EXIT_OK
    out = capsys.readouterr().out
    notes = out.split("Not checked at preview", 1)[1].split("Disabled policies", 1)[0]
    task_lines = [line for line in notes.splitlines() if "TaskDefinition::" in line]
    assert task_lines, "the task definitions' container checks are decided at `up`"
    assert all("[spec checked at preview on its FargateService]" in line for line in task_lines)
    assert "runs again with known values during `pulumi up`" in notes
    summary = out.split("\nSummary\n", 1)[1]
    left = re.search(
        r"not checked at preview: (\d+) \((\d+) mandatory\), values unknown until `pulumi up` runs them;", summary
    )
    assert left is not None, summary
    assert int(left[1]) == int(left[2]) >= 12, "prod: every check left for `up` is a mandatory one"
    covered = re.search(
        r"(\d+) are FargateService task definitions, whose container spec was checked at preview", summary
    )
    assert covered is not None, summary
    assert 12 <= int(covered[1]) <= int(left[1])


def test_the_summary_names_the_config_key_a_finding_is_fixed_with(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert plan.main(["dev", "--out", str(tmp_path)]) == plan.EXIT_OK
    summary = capsys.readouterr().out.split("\nSummary\n", 1)[1]
    assert (
        "advisory alb-deletion-protection on dev-alb-alb: enableDeletionProtection is not true "
        "(config key deletionProtection)" in summary
    )
    # The summary names a handful of advisory policies; the full report names every finding.
    assert plan.main(["dev", "--policy-report", "--out", str(tmp_path)]) == plan.EXIT_OK
    report = capsys.readouterr().out
    assert "rds-deletion-protection" in report
    assert (
        "deletionProtection is not true (config key deletionProtection)"
        in report.split("rds-deletion-protection", 1)[1]
    )


def test_every_config_key_a_policy_message_names_is_declared_in_pulumi_yaml() -> None:
    named = {
        key
        for module in (GUARDRAILS_DIR / "guardrails").glob("*.py")
        for key in re.findall(r"config key (\w+)", module.read_text(encoding="utf-8"))
    }
    assert named >= {"deletionProtection", "logRetentionDays", "cacheSnapshotRetentionDays", "albSslPolicy"}
    assert named <= set(declared_config()), f"not in Pulumi.yaml: {sorted(named - set(declared_config()))}"
