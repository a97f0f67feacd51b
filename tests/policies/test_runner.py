"""The runner speaks to the pack like the Pulumi CLI: process, port, protocol, config reconciliation."""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path

import pulumi
import pulumi_aws as aws
import pytest

from mockcloud.policy_runner import (
    GUARDRAILS_DIR,
    PolicyConfigError,
    PolicyInfo,
    PolicyPackProcess,
    analysis_input,
    config_file,
    duration_seconds,
    format_report,
    markdown_report,
    pack_python,
    parse_config,
    reconcile,
)
from policies.guardrails.guardrails import PACK_NAME, all_policies
from tests.policies.builders import container, task_definition
from tests.policies.support import Analyze
from tests.support import ComponentRunner


def test_pack_runs_as_its_own_process_and_is_always_terminated() -> None:
    pack = PolicyPackProcess()
    with pack:
        assert pack.running
        name, version, policies = pack.info()
        assert (name, version) == ("container-platform-guardrails", "1.1.0")  # version from PulumiPolicy.yaml
        assert len(policies) == len(all_policies())
    assert (pack.running, pack.pid) == (False, None)


def test_the_interpreter_is_the_packs_virtualenv_when_it_exists(tmp_path: Path) -> None:
    (tmp_path / "PulumiPolicy.yaml").write_text("runtime:\n  name: python\n  options:\n    virtualenv: venv\n")
    assert pack_python(tmp_path) == sys.executable  # not created yet: the current interpreter
    python = tmp_path / "venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.symlink_to(sys.executable)
    assert pack_python(tmp_path) == str(python.resolve())


def test_a_pack_that_cannot_start_fails_with_its_stderr(tmp_path: Path) -> None:
    (tmp_path / "PulumiPolicy.yaml").write_text("runtime: python\n")
    (tmp_path / "__main__.py").write_text("raise SystemExit('broken pack')\n")
    with pytest.raises(Exception, match="did not print its port"):
        PolicyPackProcess(tmp_path, startup_timeout=20).start()


def test_policies_import_without_starting_a_server() -> None:
    names = [p.name for p in all_policies()]
    assert len(names) == len(set(names)) == 83
    assert PACK_NAME == "container-platform-guardrails"


def test_main_only_builds_the_pack() -> None:
    tree = ast.parse((GUARDRAILS_DIR / "__main__.py").read_text())
    calls = [n for n in tree.body if isinstance(n, ast.Expr)]
    assert [ast.unparse(c.value.func) for c in calls if isinstance(c.value, ast.Call)] == ["PolicyPack"]
    assert not [n for n in tree.body if isinstance(n, ast.FunctionDef | ast.ClassDef)]


def _info(name: str, level: str, schema: dict[str, object] | None = None) -> PolicyInfo:
    return PolicyInfo(name, "", level, "resource", "low", schema or {})  # type: ignore[arg-type]


def test_config_is_reconciled_like_the_engine() -> None:
    policies = [
        _info("a", "mandatory"),
        _info("b", "advisory", {"properties": {"limit": {"type": "integer", "default": 3}}}),
        _info("c", "advisory"),
    ]
    given = parse_config({"all": "disabled", "b": {"enforcementLevel": "advisory", "limit": 5}, "c": "mandatory"})
    result = reconcile(policies, given)
    assert {k: (v.level, v.properties) for k, v in result.items()} == {
        "a": ("disabled", {}),
        "b": ("advisory", {"limit": 5}),
        "c": ("mandatory", {}),
        "all": ("disabled", {}),
    }
    assert reconcile(policies, None)["b"].properties == {"limit": 3}  # schema default filled in


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"a": "blocking"}, "'blocking' is not one of mandatory, advisory, remediate, disabled"),
        ({"a": 1}, "must be a string or object"),
        ({"b": {"limit": "five"}}, "b.limit: 'five' is not of type integer"),
    ],
)
def test_bad_config_is_rejected_naming_the_entry(document: dict[str, object], message: str) -> None:
    policies = [_info("a", "advisory"), _info("b", "advisory", {"properties": {"limit": {"type": "integer"}}})]
    with pytest.raises(PolicyConfigError, match=message):
        reconcile(policies, parse_config(document))


def test_a_stack_without_a_config_file_is_named() -> None:
    with pytest.raises(PolicyConfigError, match=r"no policy config staging.json .* have: dev, prod"):
        config_file("staging")


def test_custom_timeouts_are_sent_in_seconds() -> None:
    assert duration_seconds("1h30m") == 5400
    assert duration_seconds("90s") == 90
    assert duration_seconds("") == 0


def _program() -> None:
    task_definition("task", [container()], opts=pulumi.ResourceOptions(protect=True, ignore_changes=["tags"]))
    aws.ecs.Cluster("cluster", settings=[{"name": "containerInsights", "value": "enabled"}])


def test_requests_carry_options_parent_provider_and_dependencies(run_component: ComponentRunner) -> None:
    run = run_component(_program, config={"aws:defaultTags": json.dumps({"tags": {"Project": "p"}})})
    inputs = analysis_input(run)
    requests = {r.name: r for r in inputs.analyze_requests()}
    default = requests["default_7_51_1"]
    assert default.type == "pulumi:providers:aws"
    assert dict(default.properties)["region"] == "eu-west-1"
    assert json.loads(default.properties["defaultTags"]) == {"tags": {"Project": "p"}}
    task = requests["task"]
    assert task.options.protect is True
    assert list(task.options.ignoreChanges) == ["tags"]
    assert task.options.parent == run.stack_urn
    assert task.provider.urn == default.urn
    assert json.loads(task.properties["containerDefinitions"])[0]["name"] == "app"
    stack = {r.name: r for r in inputs.stack_request().resources}
    assert stack["task"].parent == run.stack_urn
    assert not stack[run.one("pulumi:pulumi:Stack").name].HasField("provider")  # components get none


def test_report_groups_by_level_policy_and_resource(run_component: ComponentRunner, analyze: Analyze) -> None:
    report = analyze(run_component(_program), config={"all": "advisory", "ecs-container-insights": "disabled"})
    assert report.passed
    text = format_report(report)
    assert "Mandatory violations (block the deployment): 0" in text
    assert (
        "  required-tags (1)\n    - pulumi:providers:aws::default_7_51_1: The AWS provider's defaultTags lack" in text
    )
    assert "Disabled policies: 1\n  ecs-container-insights" in text
    assert "Result: PASSED" in text
    assert "| advisory | `required-tags` | `pulumi:providers:aws::default_7_51_1` |" in markdown_report(report)
