"""Helpers shared by the tests: cached stack runs and the component runner type."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from google.protobuf import struct_pb2
from pulumi.runtime import rpc

from mockcloud.runner import StackRun, committed_stacks, run_stack

STACKS = committed_stacks()

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
