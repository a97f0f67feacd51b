"""The pack's entry point only builds the pack; the policies import without starting a server."""

from __future__ import annotations

import ast

from offline.policy import GUARDRAILS_DIR
from policies.guardrails.guardrails import PACK_NAME, all_policies


def test_policies_import_without_starting_a_server() -> None:
    names = [p.name for p in all_policies()]
    assert len(names) == len(set(names)) >= 38  # unique; the pack only grows (38 at the edge release)
    assert PACK_NAME == "container-platform-guardrails"


def test_main_only_builds_the_pack() -> None:
    tree = ast.parse((GUARDRAILS_DIR / "__main__.py").read_text())
    calls = [n for n in tree.body if isinstance(n, ast.Expr)]
    assert [ast.unparse(c.value.func) for c in calls if isinstance(c.value, ast.Call)] == ["PolicyPack"]
    assert not [n for n in tree.body if isinstance(n, ast.FunctionDef | ast.ClassDef)]
