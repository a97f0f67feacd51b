"""The import graph of some packages, and a cycle in it: what the import-cycle tests share.

``packages`` maps a top-level package name to the directory it is imported from. Any import
statement counts, also one inside a function or behind TYPE_CHECKING: a cycle hidden that way still
couples the modules.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from pathlib import Path


def _modules(packages: Mapping[str, Path]) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package, base in packages.items():
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


def import_graph(packages: Mapping[str, Path]) -> dict[str, set[str]]:
    """Module -> the project modules it imports (any import statement, at any depth; importing a
    module also imports the packages above it)."""
    modules = _modules(packages)
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


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle as a path of module names, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            # A package's own submodules import it implicitly; that is not a cycle.
            if node.startswith(nxt + "."):
                continue
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None
