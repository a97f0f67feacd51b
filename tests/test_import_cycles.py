"""No import cycles anywhere in the project: the program, the mock cloud, the offline tools, the
contracts, the pack, the container tools and the benchmarks (the app has its own test,
tests/app/test_imports.py; both use tests/import_graph.py).

    .venv/bin/python -m pytest tests/test_import_cycles.py tests/app/test_imports.py

An import inside a function still counts: a cycle hidden that way still couples the modules.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.import_graph import find_cycle, import_graph

ROOT = Path(__file__).resolve().parents[1]
# Package -> the directory its modules are imported from (a package's name is its first dotted part).
PACKAGES = {
    "components": ROOT,
    "stack": ROOT,
    "mockcloud": ROOT,
    "offline": ROOT,
    "tools": ROOT,
    "bench": ROOT,
    "platform_contracts": ROOT / "contracts" / "src",
    "guardrails": ROOT / "policies" / "guardrails",
}


def test_the_graph_covers_the_project() -> None:
    graph = import_graph(PACKAGES)
    for package in PACKAGES:
        assert any(m == package or m.startswith(package + ".") for m in graph), package
    assert "stack.settings" in graph["stack.program"], "the graph follows imports"
    assert "guardrails.resource_types" in graph["guardrails.ecs"], "relative imports are resolved"


def test_no_module_imports_itself_through_others() -> None:
    cycle = find_cycle(import_graph(PACKAGES))
    if cycle:
        pytest.fail("import cycle: " + " -> ".join(cycle))


def test_a_cycle_would_be_found() -> None:
    graph = import_graph(PACKAGES)
    graph["components.errors"] = {*graph["components.errors"], "stack.program"}  # errors -> program -> ... -> errors
    assert find_cycle(graph) is not None
