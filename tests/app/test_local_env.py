"""The image test's local stand-ins for the task's AWS values are settings the app accepts (no Docker needed)."""

from __future__ import annotations

from catalog.settings import load_settings

from tools.containers.image_test import local_values
from tools.containers.task import container_run, rendered_task_definition


def test_the_image_tests_local_values_are_settings_the_app_accepts() -> None:
    task = rendered_task_definition("dev", "api")
    run = container_run(task, image="img", name="t", values=local_values("catalog_test"))
    env = dict(args.split("=", 1) for flag, args in zip(run.args, run.args[1:], strict=False) if flag == "--env")
    assert env["DATABASE_AUTH"] == "password"  # the task says iam; the local server has trust auth
    settings = load_settings(env)
    assert (settings.database_auth, settings.redis_auth_mode) == ("password", "none")
    assert settings.database_app_user is None  # no app login role created on the shared server
