"""A captured run becomes the engine's Analyzer requests: options, parent, provider, dependencies."""

from __future__ import annotations

import json

from offline.policy.wire import analysis_input, duration_seconds
from tests.offline.policy.programs import task_and_cluster
from tests.support import ComponentRunner


def test_custom_timeouts_are_sent_in_seconds() -> None:
    assert duration_seconds("1h30m") == 5400
    assert duration_seconds("90s") == 90
    assert duration_seconds("") == 0


def test_requests_carry_options_parent_provider_and_dependencies(run_component: ComponentRunner) -> None:
    run = run_component(task_and_cluster, config={"aws:defaultTags": json.dumps({"tags": {"Project": "p"}})})
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
