"""Keep the README's generated sections in step with the code.

    python -m offline.readme          # rewrite the sections in README.md
    python -m offline.readme --check  # exit 1 if README.md is stale (the tests run this)

Sections sit between ``<!-- BEGIN generated:NAME -->`` and ``<!-- END generated:NAME -->``:
``config`` (from the ``config:`` block of Pulumi.yaml and the committed stack files), ``outputs``
(from the constants and docstrings in stack/exports.py) and ``diagram`` (the dev stack's
architecture, generated from the captured resource graph).
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import sys
from collections.abc import Callable
from typing import Any, Final

import yaml

from mockcloud.runner import PROJECT_DIR, close_event_loop, committed_stacks, run_stack
from offline.diagram import mermaid
from stack.settings import declared_config, project_name

README: Final = PROJECT_DIR / "README.md"
EXPORTS: Final = PROJECT_DIR / "stack" / "exports.py"


def _cell(value: Any) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value)
    return "`" + text.replace("|", "\\|") + "`" if text != "" else '`""`'


def config_table() -> str:
    project = project_name()
    stacks = committed_stacks()
    stack_values = {
        s: (yaml.safe_load((PROJECT_DIR / f"Pulumi.{s}.yaml").read_text(encoding="utf-8")) or {}).get("config") or {}
        for s in stacks
    }
    header = "| Key | Type | Default | " + " | ".join(stacks) + " | Description |"
    rows = [header, "|" + "---|" * (4 + len(stacks))]
    for key, decl in declared_config().items():
        per_stack = [_cell(stack_values[s].get(f"{project}:{key}")) for s in stacks]
        default = _cell(decl["default"]) if "default" in decl else "*required*"
        kind = decl.get("type", "string") + (" (secret)" if decl.get("secret") else "")
        description = " ".join(str(decl.get("description", "")).split()).replace("|", "\\|")
        rows.append(f"| `{key}` | {kind} | {default} | " + " | ".join(per_stack) + f" | {description} |")
    return "\n".join(rows)


def exported_outputs() -> list[tuple[str, str]]:
    """(export key, docstring) for each constant in stack/exports.py, in file order."""
    tree = ast.parse(EXPORTS.read_text(encoding="utf-8"))
    found: list[tuple[str, str]] = []
    body = tree.body
    for i, node in enumerate(body):
        if isinstance(node, ast.AnnAssign | ast.Assign) and isinstance(node.value, ast.Constant):
            key = node.value.value
            if not isinstance(key, str):
                continue
            doc = ""
            if i + 1 < len(body):
                following = body[i + 1]
                if isinstance(following, ast.Expr) and isinstance(following.value, ast.Constant):
                    doc = " ".join(str(following.value.value).split())
            found.append((key, doc))
    return found


def outputs_table() -> str:
    rows = ["| Output | Description |", "|---|---|"]
    rows += [f"| `{key}` | {doc} |" for key, doc in exported_outputs()]
    return "\n".join(rows)


def diagram() -> str:
    return "```mermaid\n" + mermaid(run_stack("dev")) + "```"


SECTIONS: Final[dict[str, Callable[[], str]]] = {
    "config": config_table,
    "outputs": outputs_table,
    "diagram": diagram,
}


def render(text: str) -> str:
    for name, make in SECTIONS.items():
        pattern = re.compile(
            rf"(<!-- BEGIN generated:{name} -->\n)(?:.*?\n)?(<!-- END generated:{name} -->)", flags=re.DOTALL
        )
        if not pattern.search(text):
            raise LookupError(f"README.md has no generated:{name} section")
        content = make() + "\n"
        text = pattern.sub(lambda m, c=content: m.group(1) + c + m.group(2), text)  # type: ignore[misc]
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m offline.readme")
    parser.add_argument("--check", action="store_true", help="exit 1 if README.md is out of date")
    args = parser.parse_args(argv)
    current = README.read_text(encoding="utf-8")
    fresh = render(current)
    if args.check:
        if fresh != current:
            print("README.md is stale: run `uv run python -m offline.readme`", file=sys.stderr)
            return 1
        return 0
    README.write_text(fresh, encoding="utf-8")
    print("README.md updated" if fresh != current else "README.md already up to date")
    return 0


if __name__ == "__main__":
    try:
        code = main()
    finally:
        close_event_loop()
    sys.exit(code)
