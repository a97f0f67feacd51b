"""Generated sections of a Markdown document: the text between ``<!-- BEGIN generated:<name> -->``
and ``<!-- END generated:<name> -->`` is replaced by what the section's function returns, so tables
and diagrams taken from the code cannot drift from it (used by offline.readme and offline.cost.docs)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping


def fill_sections(text: str, sections: Mapping[str, Callable[[], str]], document: str) -> str:
    """``text`` with every named section regenerated; LookupError names a section it lacks."""
    for name, make in sections.items():
        pattern = re.compile(
            rf"(<!-- BEGIN generated:{name} -->\n)(?:.*?\n)?(<!-- END generated:{name} -->)", flags=re.DOTALL
        )
        if not pattern.search(text):
            raise LookupError(f"{document} has no generated:{name} section")
        content = make() + "\n"
        text = pattern.sub(lambda m, c=content: m.group(1) + c + m.group(2), text)  # type: ignore[misc]
    return text
