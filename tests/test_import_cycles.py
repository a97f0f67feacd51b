"""No import cycles anywhere in the project: the program, the mock cloud, the offline tools, the
contracts, the pack, the container tools and the benchmarks (the app has its own test,
tests/app/test_imports.py, which this one reuses the cycle search of).

    .venv/bin/python -m pytest tests/test_import_cycles.py tests/app/test_imports.py

An import inside a function still counts: a cycle hidden that way still couples the modules.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.app.test_imports import find_cycle

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


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package, base in PACKAGES.items():
        for path in (base / package).rglob("*.py"):
            parts = list(path.relative_to(base).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _resolve(module: str, node: ast.ImportFrom) -> str:
    """The absolute module a ``from . import x`` names."""
    if node.level == 0:
        return node.module or ""
    base = module.split(".")[: -node.level] if not module.endswith("__init__") else module.split(".")
    return ".".join([*base, node.module] if node.module else base)


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package_init = path.name == "__init__.py"
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                origin = f"{name}.__init__" if package_init else name
                base = _resolve(origin, node)
                candidates = [base] + [f"{base}.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                candidates = [alias.name for alias in node.names]
            else:
                continue
            targets |= {c for c in candidates if c in modules and c != name}
        for target in list(targets):
            parts = target.split(".")
            targets |= {".".join(parts[:i]) for i in range(1, len(parts)) if ".".join(parts[:i]) in modules}
        graph[name] = targets - {name}
    return graph


def test_the_graph_covers_the_project() -> None:
    graph = import_graph()
    for package in PACKAGES:
        assert any(m == package or m.startswith(package + ".") for m in graph), package
    assert "stack.settings" in graph["stack.program"], "the graph follows imports"
    assert "guardrails.resource_types" in graph["guardrails.ecs"], "relative imports are resolved"


def test_no_module_imports_itself_through_others() -> None:
    cycle = find_cycle(import_graph())
    if cycle:
        pytest.fail("import cycle: " + " -> ".join(cycle))


def test_a_cycle_would_be_found() -> None:
    graph = import_graph()
    graph["components.errors"] = {*graph["components.errors"], "stack.program"}  # errors -> program -> ... -> errors
    assert find_cycle(graph) is not None
