"""Shared fixtures: the program run against the mock cloud, once per stack (and option set) per process."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from mockcloud.runner import StackConfig, StackRun, committed_stacks, run_program, run_stack

STACKS = committed_stacks()

_cache: dict[tuple[str, bool, tuple[tuple[str, str], ...]], StackRun] = {}


def cached_run(stack: str, *, preview: bool = False, **overrides: Any) -> StackRun:
    """Run a committed stack file through the mock cloud; identical calls share one run."""
    key = (stack, preview, tuple(sorted((k, repr(v)) for k, v in overrides.items())))
    if key not in _cache:
        _cache[key] = run_stack(stack, overrides=overrides or None, preview=preview)
    return _cache[key]


@pytest.fixture(params=STACKS)
def stack_run(request: pytest.FixtureRequest) -> StackRun:
    """The whole program for each committed stack file (Pulumi.<stack>.yaml)."""
    return cached_run(request.param)


@pytest.fixture
def dev_run() -> StackRun:
    return cached_run("dev")


@pytest.fixture
def prod_run() -> StackRun:
    return cached_run("prod")


ComponentRunner = Callable[..., StackRun]


@pytest.fixture
def run_component() -> Iterator[ComponentRunner]:
    """Run a function that builds components under the mock cloud, without the rest of the stack.

    ``run_component(lambda: Network("t", NetworkArgs(...)), preview=False, config={...})``
    """

    def run(program: Callable[[], Any], *, preview: bool = False, config: dict[str, str] | None = None) -> StackRun:
        values = {"aws:region": "eu-west-1", **(config or {})}
        return run_program(
            program,
            project="container-platform",
            stack="test",
            config=StackConfig(values=values, secret_keys=frozenset()),
            preview=preview,
        )

    yield run
