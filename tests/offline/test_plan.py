"""The offline plan CLI: tree and summary by default, counts and outputs on request, JSON, diagram, exits."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from offline import plan, plan_output


def test_plan_prints_tree_counts_and_simulated_outputs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert plan.main(["dev", "--counts", "--outputs", "--out", str(tmp_path)]) == plan.EXIT_OK
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
    assert plan.main(["prod", "--preview", "--outputs", "--out", str(tmp_path)]) == plan.EXIT_OK
    assert "vpcId: [unknown until deployed]" in capsys.readouterr().out
    document = json.loads((tmp_path / "plan-prod.json").read_text())
    vpc = next(r for r in document["resources"] if r["type"] == "aws:ec2/vpc:Vpc")
    assert vpc["outputs"]["arn"] == plan_output.UNKNOWN


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
    assert plan_output.redact(wire) == {"a": plan_output.SECRET, "b": [plan_output.UNKNOWN], "c": 1}


def test_config_error_is_reported_in_the_summary_file(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    code = plan.main(["dev", "-c", "azCount=9", "--out", str(tmp_path), "--summary-file", str(summary)])
    assert code == plan.EXIT_CONFIG_ERROR
    text = summary.read_text()
    assert "config error" in text
    assert "container-platform:azCount" in text


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_default_output_is_the_tree_and_a_short_summary(
    stack: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert plan.main([stack, "--out", str(tmp_path)]) == plan.EXIT_OK
    lines = capsys.readouterr().out.splitlines()
    tree = [line for line in lines if line.startswith(" +   ")]
    document = json.loads((tmp_path / f"plan-{stack}.json").read_text())
    assert len(tree) == len(document["resources"]), "every registration is in the tree"
    summary = lines[lines.index("Summary") :]
    replace = _replace_section(lines)
    assert len(lines) - len(tree) - len(replace) < 30, "besides the tree: a header and a short summary"
    # The stack file's example values, one line each (prod's placeholders; dev has none).
    assert [line.split(" = ")[0].strip() for line in replace[2:]] == (
        ["nlbIngressCidrs", "nlbIngressCidrs", "domainName", "hostedZoneName"] if stack == "prod" else []
    )
    assert summary[1].startswith(f"  Resources: + {sum(document['counts'].values())} to create, in ")
    # What happens to the data stores comes right after the resources (offline/replacements.py).
    assert summary[2].startswith("  Data:      no previous plan to compare with;")
    assert any(line.startswith("  Policies:  PASSED, 0 mandatory and ") for line in summary)
    assert any(line.startswith(f"  Outputs:   {len(document['outputs'])} stack outputs") for line in summary)
    assert not any(
        line.startswith(("Counts per type:", "Outputs (simulated", "Mandatory violations")) for line in lines
    )
    assert "--counts" in summary[-1]
    assert "--outputs" in summary[-1]
    assert "--policy-report" in summary[-1]


def _replace_section(lines: list[str]) -> list[str]:
    """The "Replace before the first `pulumi up`" section: its two heading lines and one line a value."""
    starts = [i for i, line in enumerate(lines) if line.startswith("Replace before the first `pulumi up`")]
    if not starts:
        return []
    (start,) = starts
    end = lines.index("", start)
    return lines[start:end]


def test_the_markdown_summary_lists_the_example_values_to_replace(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    plan.main(["prod", "--out", str(tmp_path), "--summary-file", str(summary)])
    text = summary.read_text()
    assert "**Replace before the first `pulumi up`**" in text
    assert "- `hostedZoneName` = `example.com`: example.com is reserved for documentation (RFC 2606)" in text
    assert "- `nlbIngressCidrs` = `203.0.113.0/24`: inside 203.0.113.0/24" in text


def test_no_output_line_is_a_screen_wide_json_value(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert plan.main(["dev", "--outputs", "--out", str(tmp_path)]) == plan.EXIT_OK
    out = capsys.readouterr().out
    section = out.split("Outputs (simulated", 1)[1].split("\n\n", 1)[0].splitlines()[1:]
    objects = [line for line in section if ": {" in line or ": [" in line]
    assert all(len(line) <= 100 for line in objects), "objects and lists longer than a line are one entry a line"
    registry = section.index("    registrySettings:")
    assert section[registry + 1].startswith("      ownsRegistrySettings: ")


def test_preview_says_it_is_what_a_pull_request_sees(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert plan.main(["dev", "--preview", "--out", str(tmp_path)]) == plan.EXIT_OK
    out = capsys.readouterr().out
    assert out.startswith("Offline preview of stack 'dev' (project container-platform): what `pulumi preview` shows")
    assert "unknown until deployed" in out.split("\n\n", 1)[0]
    summary = out.split("\nSummary\n", 1)[1]
    assert "unknown until deployed" in summary.split("  Outputs:   ", 1)[1].splitlines()[0]
    assert json.loads((tmp_path / "plan-dev.json").read_text())["mode"] == "preview"
