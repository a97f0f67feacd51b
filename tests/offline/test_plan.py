"""The offline plan CLI: tree, counts, outputs, JSON, diagram file, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from offline import plan


def test_plan_prints_tree_counts_and_simulated_outputs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert plan.main(["dev", "--out", str(tmp_path)]) == plan.EXIT_OK
    out = capsys.readouterr().out
    assert "pulumi:pulumi:Stack" in out
    assert "─ platform:network:Network" in out  # ├─ or └─: siblings are sorted by type
    assert "├─ aws:ec2:Subnet" in out
    assert "Counts per type:" in out
    assert "Outputs (simulated" in out
    document = json.loads((tmp_path / "plan-dev.json").read_text())
    assert document["simulated"] is True
    assert document["counts"]["aws:ec2/subnet:Subnet"] == 6
    vpc = next(r for r in document["resources"] if r["type"] == "aws:ec2/vpc:Vpc")
    assert vpc["inputs"]["cidrBlock"] == "10.0.0.0/16"
    assert vpc["outputs"]["id"] if "id" in vpc["outputs"] else vpc["id"].startswith("vpc-")
    assert (tmp_path / "architecture-dev.mmd").read_text().startswith("flowchart LR")


def test_prod_plan_in_preview_mode_marks_unknowns(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert plan.main(["prod", "--preview", "--out", str(tmp_path)]) == plan.EXIT_OK
    assert "vpcId: [unknown until deployed]" in capsys.readouterr().out
    document = json.loads((tmp_path / "plan-prod.json").read_text())
    vpc = next(r for r in document["resources"] if r["type"] == "aws:ec2/vpc:Vpc")
    assert vpc["outputs"]["arn"] == plan.UNKNOWN


def test_config_error_exits_2_naming_the_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert plan.main(["dev", "-c", "natGateways=two", "--out", str(tmp_path)]) == plan.EXIT_CONFIG_ERROR
    err = capsys.readouterr().err
    assert "container-platform:natGateways" in err
    assert "one of none, single, per-az" in err
    assert not (tmp_path / "plan-dev.json").exists(), "nothing is written for a rejected config"


def test_unknown_stack_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert plan.main(["staging"]) == plan.EXIT_CONFIG_ERROR
    assert "committed stack files: dev, prod" in capsys.readouterr().err


def test_summary_file_is_markdown_with_the_diagram(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    assert plan.main(["dev", "--out", str(tmp_path), "--summary-file", str(summary)]) == plan.EXIT_OK
    text = summary.read_text()
    assert text.startswith("## Offline plan: `dev`")
    assert "```mermaid\nflowchart LR" in text


def test_redact_masks_secrets_and_unknowns() -> None:
    from pulumi.runtime import rpc

    wire = {
        "a": {rpc._special_sig_key: rpc._special_secret_sig, "value": "hunter2"},
        "b": [rpc.UNKNOWN],
        "c": 1,
    }
    assert plan.redact(wire) == {"a": plan.SECRET, "b": [plan.UNKNOWN], "c": 1}


def test_config_error_is_reported_in_the_summary_file(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    code = plan.main(["dev", "-c", "azCount=9", "--out", str(tmp_path), "--summary-file", str(summary)])
    assert code == plan.EXIT_CONFIG_ERROR
    text = summary.read_text()
    assert "config error" in text
    assert "container-platform:azCount" in text
