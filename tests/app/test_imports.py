"""The catalog package has no import cycle (not even one hidden behind TYPE_CHECKING)."""

from __future__ import annotations

from pathlib import Path

from tests.import_graph import find_cycle, import_graph

SRC = Path(__file__).resolve().parents[2] / "app" / "src"


def test_the_catalog_package_has_no_import_cycle() -> None:
    graph = import_graph({"catalog": SRC})
    assert "catalog.resources" in graph["catalog.routes.deps"]  # the old deps <-> app cycle is gone
    assert "catalog.app" not in graph["catalog.routes.deps"]
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph) or [])


def test_the_checker_finds_a_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
