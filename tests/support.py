"""Helpers shared by the tests: cached stack runs and the component runner type."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

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
