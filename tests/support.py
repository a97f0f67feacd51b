"""Helpers shared by the tests: cached stack runs and the component runner type."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from google.protobuf import struct_pb2
from pulumi.runtime import rpc
from pulumi.runtime import settings as runtime_settings

from mockcloud.monitor import STACK_TYPE
from mockcloud.runner import StackRun, committed_stacks, run_stack
from stack.settings import ConfigError, ConfigReader, KeyTable, project_name

STACKS = committed_stacks()
PROJECT = project_name()

_cache: dict[tuple[str, bool, tuple[tuple[str, str], ...]], StackRun] = {}


def cached_run(stack: str, *, preview: bool = False, **overrides: Any) -> StackRun:
    """Run a committed stack file through the mock cloud; identical calls share one run."""
    key = (stack, preview, tuple(sorted((k, repr(v)) for k, v in overrides.items())))
    if key not in _cache:
        _cache[key] = run_stack(stack, overrides=overrides or None, preview=preview)
    return _cache[key]


ComponentRunner = Callable[..., StackRun]
"""``run_component(program, preview=False, config=None) -> StackRun`` (see the fixture in conftest)."""


def unknown_paths(value: struct_pb2.Struct | struct_pb2.Value, path: str = "") -> list[str]:
    """Paths (``.containerSpec.environment[0].value``) of the values unknown at preview in wire form."""
    if isinstance(value, struct_pb2.Struct):
        return [p for key, inner in value.fields.items() for p in unknown_paths(inner, f"{path}.{key}")]
    kind = value.WhichOneof("kind")
    if kind == "string_value":
        return [path] if value.string_value == rpc.UNKNOWN else []
    if kind == "struct_value":
        return unknown_paths(value.struct_value, path)
    if kind == "list_value":
        return [p for i, inner in enumerate(value.list_value.values) for p in unknown_paths(inner, f"{path}[{i}]")]
    return []


def assert_config_rejected(stack: str, overrides: dict[str, Any], key: str, allowed: str) -> ConfigError:
    """Running ``stack`` with ``overrides`` fails with a ConfigError naming ``key`` and ``allowed``,
    before any resource but the stack itself is registered. Returns the error for further checks."""
    with pytest.raises(ConfigError) as error:
        run_stack(stack, overrides=overrides)
    qualified = key if ":" in key else f"{PROJECT}:{key}"
    assert error.value.key == qualified, str(error.value)
    assert allowed in str(error.value), str(error.value)
    captured = runtime_settings.SETTINGS.monitor.captured
    assert [r.type for r in captured] == [STACK_TYPE], "nothing but the stack itself may be registered"
    return error.value


def config_defaults(table: KeyTable, spec: Callable[..., Any]) -> dict[str, Any]:
    """The fields of ``spec`` that config feeds, at Pulumi.yaml's defaults (the one home of defaults),
    read through the settings' own key table. Tests build specs from these plus their overrides, so
    a component's own error (naming its field) reaches them unchanged."""
    return table.values(spec, ConfigReader(values={}))
