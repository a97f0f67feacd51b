"""The runner passes config as the engine does: defaults from Pulumi.yaml only, the region from the stack."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from mockcloud.runner import PROJECT_DIR, StackConfig, StackConfigError, load_stack_config


def _project_copy(tmp_path: Path) -> Path:
    for name in ("Pulumi.yaml", "Pulumi.dev.yaml"):
        shutil.copy(PROJECT_DIR / name, tmp_path / name)
    return tmp_path


def test_defaults_come_from_the_config_block_of_pulumi_yaml(tmp_path: Path) -> None:
    project_dir = _project_copy(tmp_path)
    project = yaml.safe_load((project_dir / "Pulumi.yaml").read_text(encoding="utf-8"))
    stack_keys = set(yaml.safe_load((project_dir / "Pulumi.dev.yaml").read_text(encoding="utf-8"))["config"])
    name = project["name"]
    config = load_stack_config("dev", project_dir=project_dir)
    for key, declaration in project["config"].items():
        if "default" in declaration and f"{name}:{key}" not in stack_keys:
            default = declaration["default"]
            wire = default if isinstance(default, str) else json.dumps(default)  # the engine's string form
            assert config.values.get(f"{name}:{key}") == wire, f"{key}: its Pulumi.yaml default is not applied"

    # Change a default in Pulumi.yaml: the runner follows, because it has no copy of its own.
    assert f"{name}:ecsExec" not in stack_keys
    project["config"]["ecsExec"]["default"] = False
    (project_dir / "Pulumi.yaml").write_text(yaml.safe_dump(project), encoding="utf-8")
    assert load_stack_config("dev", project_dir=project_dir).values[f"{name}:ecsExec"] == "false"


def test_the_region_comes_from_the_stack_and_has_no_fallback() -> None:
    assert load_stack_config("dev").region == "eu-west-1"
    with pytest.raises(StackConfigError, match=r"aws:region is not set: .*pulumi config set aws:region"):
        _ = StackConfig(values={}, secret_keys=frozenset()).region
