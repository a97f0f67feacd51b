"""The policy pack, started once per test session the way the Pulumi CLI starts it."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from mockcloud.runner import StackRun
from offline.policy.pack import PolicyPackProcess
from offline.policy.report import PolicyReport
from tests.policies.support import ALL_MANDATORY, Analyze


@pytest.fixture(scope="session")
def policy_pack() -> Iterator[PolicyPackProcess]:
    """One pack process for the session (a fresh one per xdist worker); always terminated."""
    with PolicyPackProcess() as pack:
        yield pack


@pytest.fixture
def analyze(policy_pack: PolicyPackProcess) -> Analyze:
    """Analyze a captured run; every policy mandatory unless a config (dict or stack file) is given."""

    def run(stack_run: StackRun, config: Mapping[str, Any] | Path = ALL_MANDATORY) -> PolicyReport:
        return policy_pack.analyze(stack_run, config=config)

    return run
