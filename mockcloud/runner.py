"""Run the real Pulumi program for a stack file under the SDK's mock runtime and capture everything."""

from __future__ import annotations

import asyncio
import contextlib
import json
import runpy
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import pulumi
import yaml
from pulumi.runtime import settings as runtime_settings
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from mockcloud.mocks import AwsMocks
from mockcloud.monitor import STACK_TYPE, CapturedResource, RecordingMonitor

PROJECT_DIR: Final = Path(__file__).resolve().parent.parent
REGION_KEY: Final = "aws:region"


def _project(project_dir: Path) -> dict[str, Any]:
    return dict(yaml.safe_load((project_dir / "Pulumi.yaml").read_text(encoding="utf-8")))


def committed_stacks(project_dir: Path = PROJECT_DIR) -> list[str]:
    """Stack names that have a committed ``Pulumi.<stack>.yaml``."""
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in project_dir.glob("Pulumi.*.yaml"))


def _wire(value: Any) -> str:
    # The engine hands every config value to the program as a string; structured ones as JSON.
    return value if isinstance(value, str) else json.dumps(value)


class StackConfigError(ValueError):
    """The stack's config cannot be run: a setting the engine or the AWS provider needs is missing."""


@dataclass(frozen=True)
class StackConfig:
    """Config as the engine would pass it to the program: fully qualified keys, string values."""

    values: dict[str, str]
    secret_keys: frozenset[str]

    @property
    def region(self) -> str:
        """``aws:region``. Required, as for the AWS provider: the mock cloud has no region of its own."""
        region = self.values.get(REGION_KEY)
        if not region:
            raise StackConfigError(
                f"{REGION_KEY} is not set: the AWS provider needs a region; set it in the stack file "
                f"(`pulumi config set {REGION_KEY} <region>`)"
            )
        return region


def load_stack_config(
    stack: str, *, overrides: Mapping[str, Any] | None = None, project_dir: Path = PROJECT_DIR
) -> StackConfig:
    """Project defaults from Pulumi.yaml, then the stack file, then ``overrides`` (bare keys = project).

    The defaults are read from the ``config:`` block of Pulumi.yaml, their one home, as the Pulumi CLI
    applies them; nothing here supplies a value of its own.
    """
    project = _project(project_dir)
    name = project["name"]
    stack_file = project_dir / f"Pulumi.{stack}.yaml"
    if not stack_file.exists():
        known = ", ".join(committed_stacks(project_dir)) or "none"
        raise FileNotFoundError(f"no stack file {stack_file.name}; committed stacks: {known}")

    def qualify(key: str) -> str:
        return key if ":" in key else f"{name}:{key}"

    values: dict[str, str] = {}
    secret_keys: set[str] = set()
    for key, decl in (project.get("config") or {}).items():
        if isinstance(decl, dict) and "default" in decl:
            values[qualify(key)] = _wire(decl["default"])
    stack_values = (yaml.safe_load(stack_file.read_text(encoding="utf-8")) or {}).get("config") or {}
    for key, value in {**stack_values, **(overrides or {})}.items():
        if isinstance(value, dict) and set(value) == {"secure"}:
            # Encrypted with the stack's secrets provider, which is not here: a marked stand-in.
            values[qualify(key)] = f"offline-placeholder-for-{qualify(key)}"
            secret_keys.add(qualify(key))
        else:
            values[qualify(key)] = _wire(value)
    return StackConfig(values=values, secret_keys=frozenset(secret_keys))


@dataclass
class StackRun:
    """What one run of the program registered, and its stack outputs."""

    project: str
    stack: str
    preview: bool
    config: StackConfig
    resources: list[CapturedResource]
    outputs: dict[str, Any] = field(default_factory=dict)
    secret_outputs: set[str] = field(default_factory=set)
    unknown_outputs: set[str] = field(default_factory=set)

    @property
    def stack_urn(self) -> str:
        return next(r.urn for r in self.resources if r.type == STACK_TYPE)

    def of_type(self, type_: str) -> list[CapturedResource]:
        return [r for r in self.resources if r.type == type_]

    def one(self, type_: str, name: str | None = None) -> CapturedResource:
        found = [r for r in self.of_type(type_) if name is None or r.name == name]
        if len(found) != 1:
            raise LookupError(f"expected one {type_} {name or ''}, found {[r.name for r in found]}")
        return found[0]

    def by_urn(self, urn: str) -> CapturedResource:
        return next(r for r in self.resources if r.urn == urn)

    def children(self, urn: str) -> list[CapturedResource]:
        return [r for r in self.resources if r.parent == urn]

    def descendants(self, urn: str) -> list[CapturedResource]:
        found: list[CapturedResource] = []
        for child in self.children(urn):
            found.append(child)
            found.extend(self.descendants(child.urn))
        return found

    def by_id(self, resource_id: str) -> CapturedResource | None:
        return next((r for r in self.resources if r.id and r.id == resource_id), None)


def run_stack(
    stack: str,
    *,
    overrides: Mapping[str, Any] | None = None,
    preview: bool = False,
    project_dir: Path = PROJECT_DIR,
) -> StackRun:
    """Run ``__main__.py`` for ``stack`` against the mock cloud; raise whatever the program raises.

    Safe to call many times in one process: each run resets the runtime and uses a fresh monitor.
    """
    config = load_stack_config(stack, overrides=overrides, project_dir=project_dir)
    project = _project(project_dir)["name"]
    return run_program(
        lambda: runpy.run_path(str(project_dir / "__main__.py"), run_name="__main__"),
        project=project,
        stack=stack,
        config=config,
        preview=preview,
    )


def run_program(program: Any, *, project: str, stack: str, config: StackConfig, preview: bool = False) -> StackRun:
    """Run any Pulumi program function (a component test, or the whole stack) and capture it."""
    _ensure_event_loop()
    runtime_settings.reset_options(project=project, stack=stack, preview=preview)
    pulumi.runtime.set_all_config(dict(config.values), list(config.secret_keys))
    monitor = RecordingMonitor(AwsMocks(config.region), preview=preview)
    run = StackRun(project=project, stack=stack, preview=preview, config=config, resources=monitor.captured)
    pulumi.runtime.set_mocks(monitor.mocks, project=project, stack=stack, preview=preview, monitor=monitor)

    runtime_settings.SETTINGS.rpc_manager.clear()
    runtime_settings.SETTINGS.outputs.clear()
    _sync_await(run_pulumi_func(program))

    root = runtime_settings.get_root_resource()
    for name, value in getattr(root, "outputs", {}).items():
        output = pulumi.Output.from_input(value)
        if not _sync_await(output.is_known()):
            run.unknown_outputs.add(name)
            run.outputs[name] = None
            continue
        if _sync_await(output.is_secret()):
            run.secret_outputs.add(name)
        run.outputs[name] = _sync_await(output.future())
    return run


def _ensure_event_loop() -> None:
    """The SDK drives its futures with the thread's current loop; make sure one is set and open.

    Another library in the same process (pytest-asyncio, say) may have closed it or unset it.
    """
    try:
        loop = asyncio.get_event_loop()
    except RuntimeError:
        loop = None
    if loop is None or loop.is_closed():
        asyncio.set_event_loop(asyncio.new_event_loop())


def close_event_loop() -> None:
    """Close the loop the SDK ran on; call once before a CLI exits (avoids a noisy GC-time error)."""

    with contextlib.suppress(RuntimeError):
        loop = asyncio.get_event_loop()
        if not loop.is_closed():
            loop.run_until_complete(loop.shutdown_default_executor())
            loop.close()
