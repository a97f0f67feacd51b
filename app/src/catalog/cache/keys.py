"""Key layout: every physical key is `<prefix>{<logical key>}` plus an optional suffix.

The braces are a Redis Cluster hash tag, so an entry, its lease and (for lists) its generation and
pages live in one slot and one Lua script may touch them together.
"""

from __future__ import annotations

import re

_GLOB_SPECIAL = re.compile(r"([*?\[\]\\])")


def _glob_escape(text: str) -> str:
    return _GLOB_SPECIAL.sub(r"\\\1", text)


class KeySpace:
    """Maps logical keys (product:42, summary:3, list:all, categories:all) to Redis keys under one prefix."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def entry(self, logical: str) -> str:
        """The key holding the entry for `logical`."""
        return f"{self.prefix}{{{logical}}}"

    @staticmethod
    def lease(key: str) -> str:
        """The lease guarding fills of the entry at `key` (same hash slot)."""
        return f"{key}:lease"

    def generation(self, scope: str) -> str:
        """The generation token of a list scope; pages of older generations are never read again."""
        return f"{self.prefix}{{list:{scope}}}:gen"

    def list_page(self, scope: str, generation: str, after: int, limit: int) -> str:
        """One page of a product list."""
        return f"{self.prefix}{{list:{scope}}}:{generation}:{after}:{limit}"

    def match(self, logical_prefix: str) -> str:
        """A SCAN MATCH pattern for every key whose logical key starts with `logical_prefix`."""
        return f"{_glob_escape(self.prefix)}{{{_glob_escape(logical_prefix)}*"

    def product(self, product_id: int) -> str:
        """Logical key of a product."""
        return f"product:{product_id}"

    def summary(self, category_id: int) -> str:
        """Logical key of a category summary."""
        return f"summary:{category_id}"

    @staticmethod
    def list_scope(category_id: int | None) -> str:
        """The list scope of a category filter (`all` when unfiltered)."""
        return "all" if category_id is None else str(category_id)
