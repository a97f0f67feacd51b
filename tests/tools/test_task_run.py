"""The ECS task definition -> ``docker run`` translation of the image test, on the program's own task."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tools.containers.task import container_run, health_check_exec, rendered_task_definition

LOCAL = {
    "DATABASE_HOST": "127.0.0.1",
    "DATABASE_SSL": "false",
    # The task logs in with IAM tokens; locally the password paths stand in (trust auth, no Redis AUTH).
    "DATABASE_AUTH": "password",
    "DATABASE_APP_USER": "",
    "DATABASE_PASSWORD": "",
    "REDIS_HOST": "127.0.0.1",
    "REDIS_TLS": "false",
    "REDIS_AUTH": "none",
    "REDIS_USER": "",
    "REDIS_CACHE_NAME": "",
}


@pytest.fixture(scope="module")
def task() -> dict[str, Any]:
    """The dev stack's API task definition, as the program renders it under the mock runtime."""
    return rendered_task_definition("dev", "api")


def _pairs(args: tuple[str, ...], flag: str) -> list[str]:
    return [args[i + 1] for i, arg in enumerate(args) if arg == flag]


def test_every_runtime_setting_of_the_task_reaches_docker_run(task: dict[str, Any]) -> None:
    spec = task["containerDefinitions"][0]
    run = container_run(task, image="catalog-service:local", name="t", values=LOCAL)
    args = run.args
    assert _pairs(args, "--user") == [spec["user"]] == ["10001:10001"]
    assert "--read-only" in args
    assert spec["readonlyRootFilesystem"] is True
    assert "--init" in args
    assert spec["linuxParameters"]["initProcessEnabled"] is True
    assert "--privileged" not in args
    mounts = _pairs(args, "--mount")
    assert [m.split("dst=")[1] for m in mounts] == [p["containerPath"] for p in spec["mountPoints"]]
    assert all(m.startswith("type=volume,src=t-") for m in mounts)
    assert run.volumes == tuple(f"t-{p['sourceVolume']}" for p in spec["mountPoints"])
    assert run.port == spec["portMappings"][0]["containerPort"] == 8080
    assert _pairs(args, "--stop-timeout") == [str(spec["stopTimeout"])]
    assert _pairs(args, "--cpus") == [f"{int(task['cpu']) / 1024:g}"]
    assert _pairs(args, "--memory") == [f"{task['memory']}m"]
    assert _pairs(args, "--network") == ["host"]


def test_environment_names_are_the_tasks_with_local_values(task: dict[str, Any]) -> None:
    spec = task["containerDefinitions"][0]
    run = container_run(task, image="img", name="t", values=LOCAL)
    env = dict(pair.split("=", 1) for pair in _pairs(run.args, "--env"))
    names = {e["name"] for e in spec["environment"]} | {s["name"] for s in spec["secrets"]}
    assert set(env) == names
    assert env["DATABASE_HOST"] == "127.0.0.1"
    assert env["SERVICE_ROLE"] == "api"  # not pointing at AWS: the task's own value
    assert env["RUN_MIGRATIONS"] == "true"


def test_settings_that_cannot_be_the_same_here_are_listed(task: dict[str, Any]) -> None:
    run = container_run(task, image="img", name="t", values=LOCAL, extra_env={"HOST": "127.0.0.1"})
    settings = {d.setting for d in run.deviations}
    assert {"HOST", "logConfiguration", "healthCheck", "networkMode"} <= settings


def test_secrets_need_local_values_and_unknown_names_are_refused(task: dict[str, Any]) -> None:
    without_secret = {k: v for k, v in LOCAL.items() if k != "DATABASE_PASSWORD"}
    with pytest.raises(ValueError, match="DATABASE_PASSWORD"):
        container_run(task, image="img", name="t", values=without_secret)
    with pytest.raises(ValueError, match="NOT_IN_TASK"):
        container_run(task, image="img", name="t", values={**LOCAL, "NOT_IN_TASK": "x"})
    with pytest.raises(ValueError, match="extra_env 'PORT'"):
        container_run(task, image="img", name="t", values=LOCAL, extra_env={"PORT": "1"})


def test_capabilities_entry_point_and_command_follow_ecs(task: dict[str, Any]) -> None:
    changed = copy.deepcopy(task)
    spec = changed["containerDefinitions"][0]
    spec["linuxParameters"]["capabilities"] = {"add": ["NET_BIND_SERVICE"], "drop": ["ALL"]}
    spec["entryPoint"] = ["catalog", "--verbose"]
    spec["command"] = ["migrate"]
    run = container_run(changed, image="img", name="t", values=LOCAL)
    assert "--cap-add=NET_BIND_SERVICE" in run.args
    assert "--cap-drop=ALL" in run.args
    assert _pairs(run.args, "--entrypoint") == ["catalog"]
    assert run.command[-3:] == ["img", "--verbose", "migrate"]


def test_host_volumes_are_refused(task: dict[str, Any]) -> None:
    changed = copy.deepcopy(task)
    changed["volumes"][0]["host"] = {"sourcePath": "/srv"}
    with pytest.raises(ValueError, match="only task-scoped volumes"):
        container_run(changed, image="img", name="t", values=LOCAL)


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (["CMD", "python3", "-c", "print(1)"], ["python3", "-c", "print(1)"]),
        (["CMD-SHELL", "curl -f http://127.0.0.1:8080/healthz || exit 1"],
         ["/bin/sh", "-c", "curl -f http://127.0.0.1:8080/healthz || exit 1"]),
    ],
)  # fmt: skip
def test_health_check_commands_run_as_ecs_runs_them(command: list[str], expected: list[str]) -> None:
    assert health_check_exec({"healthCheck": {"command": command}}) == expected


def test_the_tasks_own_health_check_is_an_exec_form(task: dict[str, Any]) -> None:
    spec = task["containerDefinitions"][0]
    assert health_check_exec(spec)[0] == "python3"  # runs without a shell or curl
    with pytest.raises(ValueError, match="CMD or CMD-SHELL"):
        health_check_exec({"healthCheck": {"command": ["NONE"]}})
