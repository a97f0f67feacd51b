"""The offline plan CLI: tree, counts, outputs, JSON, diagram, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pulumi
import pulumi_aws as aws
import pytest

from mockcloud import plan
from mockcloud.diagram import mermaid
from tests.policies.support import PHASE_2_PROD_FINDINGS
from tests.support import ComponentRunner


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
    # Prod draws the mandatory findings issue 17's phase 2 fixes (tests/policies/support.py) until it lands.
    expected = plan.EXIT_POLICY_VIOLATION if PHASE_2_PROD_FINDINGS else plan.EXIT_OK
    assert plan.main(["prod", "--preview", "--out", str(tmp_path)]) == expected
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


class _Box(pulumi.ComponentResource):
    """A component with one security group, for diagram tests."""

    def __init__(self, name: str, kind: str) -> None:
        super().__init__(f"test:diagram:{kind}", name)
        self.sg = aws.ec2.SecurityGroup(f"{name}-sg", vpc_id="vpc-1", opts=pulumi.ResourceOptions(parent=self))
        self.register_outputs({})


def test_diagram_draws_traffic_from_security_group_rules(run_component: ComponentRunner) -> None:
    def program() -> None:
        edge, app, data = _Box("edge", "Edge"), _Box("app", "App"), _Box("data", "Data")
        aws.vpc.SecurityGroupIngressRule(
            "web-in", security_group_id=edge.sg.id, cidr_ipv4="0.0.0.0/0", ip_protocol="tcp",
            from_port=443, to_port=443, opts=pulumi.ResourceOptions(parent=edge),
        )  # fmt: skip
        aws.vpc.SecurityGroupIngressRule(
            "app-in", security_group_id=app.sg.id, referenced_security_group_id=edge.sg.id,
            ip_protocol="tcp", from_port=8080, to_port=8080, opts=pulumi.ResourceOptions(parent=app),
        )  # fmt: skip
        aws.vpc.SecurityGroupIngressRule(
            "data-in", security_group_id=data.sg.id, referenced_security_group_id=app.sg.id,
            ip_protocol="tcp", from_port=6379, to_port=6379, opts=pulumi.ResourceOptions(parent=app),
        )  # fmt: skip

    diagram = mermaid(run_component(program))
    lines = diagram.splitlines()
    assert "  internet((Internet))" in lines
    assert any(line.startswith('  internet -->|"tcp 443"| c_edge') for line in lines)
    assert any(line.startswith("  c_edge") and '-->|"tcp 8080"| c_app' in line for line in lines)
    assert any(line.startswith("  c_app") and '-->|"tcp 6379"| c_data' in line for line in lines)
    assert diagram == mermaid(run_component(program)), "the diagram is deterministic"


def test_config_error_is_reported_in_the_summary_file(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    code = plan.main(["dev", "-c", "azCount=9", "--out", str(tmp_path), "--summary-file", str(summary)])
    assert code == plan.EXIT_CONFIG_ERROR
    text = summary.read_text()
    assert "config error" in text
    assert "container-platform:azCount" in text


def test_diagram_of_the_real_stack_is_identical_across_runs() -> None:
    # Components built concurrently register in varying order; the README embeds this diagram.
    from mockcloud.runner import run_stack

    first = mermaid(run_stack("dev"))
    assert all(mermaid(run_stack("dev")) == first for _ in range(4))
