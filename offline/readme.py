"""Keep the generated sections of the README and the docs in step with the code.

    python -m offline.readme          # rewrite the sections in README.md and docs/
    python -m offline.readme --check  # exit 1 if one is stale (the tests run this)

Sections sit between ``<!-- BEGIN generated:NAME -->`` and ``<!-- END generated:NAME -->``:
``config`` (from the ``config:`` block of Pulumi.yaml and the committed stack files), ``outputs``
(from the constants and docstrings in stack/exports.py) and ``diagram`` (the dev stack's
architecture, generated from the captured resource graph) in README.md; ``cache-config`` (the
cache's keys, the same table cut to them) in docs/caching.md; ``checkov-accepted`` (the checkov
findings the platform accepts, from tools/checkov_plan.py) in docs/policies.md. Defaults and per-stack values are
never written by hand anywhere: Pulumi.yaml and the stack files are their one home.
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

import yaml

from mockcloud.runner import PROJECT_DIR, close_event_loop, committed_stacks, run_stack
from offline.diagram import mermaid
from offline.generated import fill_sections
from stack.settings import declared_config, project_name
from tools.checkov_plan import accepted_table

README: Final = PROJECT_DIR / "README.md"
EXPORTS: Final = PROJECT_DIR / "stack" / "exports.py"


def _cell(value: Any) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value)
    return "`" + text.replace("|", "\\|") + "`" if text != "" else '`""`'


def config_table(keys: Callable[[str], bool] = lambda key: True) -> str:
    """The config keys (those ``keys`` selects) with type, default, value per stack and description."""
    project = project_name()
    stacks = committed_stacks()
    stack_values = {
        s: (yaml.safe_load((PROJECT_DIR / f"Pulumi.{s}.yaml").read_text(encoding="utf-8")) or {}).get("config") or {}
        for s in stacks
    }
    header = "| Key | Type | Default | " + " | ".join(stacks) + " | Description |"
    rows = [header, "|" + "---|" * (4 + len(stacks))]
    for key, decl in declared_config().items():
        if not keys(key):
            continue
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


def cache_keys(key: str) -> bool:
    """The keys docs/caching.md tabulates: the cache's own, and the alarm topic it notifies."""
    return key.startswith("cache") or key == "alarmTopicArn"


SECTIONS: Final[dict[str, Callable[[], str]]] = {
    "config": config_table,
    "outputs": outputs_table,
    "diagram": diagram,
}
DOCUMENTS: Final[dict[Path, dict[str, Callable[[], str]]]] = {
    README: SECTIONS,
    PROJECT_DIR / "docs" / "caching.md": {"cache-config": lambda: config_table(cache_keys)},
    PROJECT_DIR / "docs" / "policies.md": {"checkov-accepted": accepted_table},
}


def render(text: str, sections: dict[str, Callable[[], str]] = SECTIONS, document: str = "README.md") -> str:
    return fill_sections(text, sections, document)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m offline.readme")
    parser.add_argument("--check", action="store_true", help="exit 1 if a generated section is out of date")
    args = parser.parse_args(argv)
    stale = []
    for path, sections in DOCUMENTS.items():
        current = path.read_text(encoding="utf-8")
        fresh = render(current, sections, path.name)
        if fresh == current:
            continue
        stale.append(path.relative_to(PROJECT_DIR).as_posix())
        if not args.check:
            path.write_text(fresh, encoding="utf-8")
    if args.check and stale:
        print(f"stale: {', '.join(stale)}: run `uv run python -m offline.readme`", file=sys.stderr)
        return 1
    print(f"updated: {', '.join(stale)}" if stale else "generated sections already up to date")
    return 0


if __name__ == "__main__":
    try:
        code = main()
    finally:
        close_event_loop()
    sys.exit(code)
