"""Shared fixtures: the program run against the mock cloud, once per stack (and option set) per process."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from mockcloud.runner import StackConfig, StackRun, run_program
from tests.support import STACKS, ComponentRunner, cached_run


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


@pytest.fixture
def run_component() -> ComponentRunner:
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

    return run
