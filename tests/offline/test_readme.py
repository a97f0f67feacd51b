"""The README's generated sections (config table, outputs table, diagram) match the code."""

from __future__ import annotations

from offline import readme
from stack.settings import declared_config


def test_readme_generated_sections_are_up_to_date() -> None:
    current = readme.README.read_text(encoding="utf-8")
    assert readme.render(current) == current, "README.md is stale: run `uv run python -m offline.readme`"


def test_docs_generated_sections_are_up_to_date() -> None:
    for path, sections in readme.DOCUMENTS.items():
        current = path.read_text(encoding="utf-8")
        assert readme.render(current, sections, path.name) == current, f"{path.name} is stale"


def test_the_cache_doc_tabulates_every_cache_key_from_pulumi_yaml() -> None:
    table = readme.config_table(readme.cache_keys)
    cache_keys = [key for key in declared_config() if key.startswith("cache")]
    assert cache_keys
    assert all(f"| `{key}` |" in table for key in cache_keys)
    assert "| `vpcCidr` |" not in table


def test_every_config_key_and_export_is_documented() -> None:
    table = readme.config_table()
    for key in declared_config():
        assert f"| `{key}` |" in table
    for key, doc in readme.exported_outputs():
        assert doc, f"export {key!r} needs a docstring in stack/exports.py"
