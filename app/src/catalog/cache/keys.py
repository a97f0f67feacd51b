"""Key layout, the one home of every key format: logical keys and the physical keys they map to.

Callers name what they cache with the logical-key builders (`product(42)`, `summary(3)`,
`categories()`, `list_scope(None)`); only this module knows how those become strings, and how a
logical key becomes a physical key: `<prefix>{<logical key>}` plus an optional suffix.

The braces are a Redis Cluster hash tag, so an entry, its lease and (for lists) its generation and
pages live in one slot and one Lua script may touch them together. Memcached keys may contain
braces too (any printable character but space, up to 250 bytes), so both backends share the layout.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_GLOB_SPECIAL = re.compile(r"([*?\[\]\\])")

LOGICAL_KEY_PATTERN = r"^(product|summary|list|categories):[a-z0-9]{1,20}$"
"""What an operator may name in `/ops/cache/invalidate` (the request model validates with it)."""
LOGICAL_PREFIX_PATTERN = r"^[a-z0-9:]{0,40}$"
"""A prefix of logical keys ("" is the whole namespace)."""
LOGICAL_KEY_EXAMPLES = ["product:42", "summary:3", "list:all", "list:3", "categories:all"]
LOGICAL_PREFIX_EXAMPLES = ["product:", "summary:", ""]

_PRODUCT = "product:"
_SUMMARY = "summary:"
_LIST = "list:"
_CATEGORIES = "categories:all"
_ALL_SCOPE = "all"


def _glob_escape(text: str) -> str:
    return _GLOB_SPECIAL.sub(r"\\\1", text)


class KeySpace:
    """Maps logical keys (product:42, summary:3, list:all, categories:all) to cache keys under one prefix."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    # ---------------------------------------------------------------- logical keys

    @staticmethod
    def product(product_id: int) -> str:
        """Logical key of a product."""
        return f"{_PRODUCT}{product_id}"

    @staticmethod
    def summary(category_id: int) -> str:
        """Logical key of a category summary."""
        return f"{_SUMMARY}{category_id}"

    @staticmethod
    def categories() -> str:
        """Logical key of the category list."""
        return _CATEGORIES

    @staticmethod
    def list_scope(category_id: int | None) -> str:
        """The list scope of a category filter (`all` when unfiltered)."""
        return _ALL_SCOPE if category_id is None else str(category_id)

    @staticmethod
    def list_key(scope: str) -> str:
        """Logical key of a list scope (invalidating it renews the scope's generation)."""
        return f"{_LIST}{scope}"

    @staticmethod
    def product_id(logical: str) -> int:
        """The id in a product's logical key."""
        return int(logical.removeprefix(_PRODUCT))

    @staticmethod
    def summary_category(logical: str) -> int:
        """The category id in a summary's logical key."""
        return int(logical.removeprefix(_SUMMARY))

    @staticmethod
    def scope_of(logical: str) -> str | None:
        """The list scope a logical key names, or None when it is not a list key."""
        return logical.removeprefix(_LIST) if logical.startswith(_LIST) else None

    def changed_by_product_write(self, product_id: int, category_ids: Iterable[int]) -> tuple[str, list[str]]:
        """(the product's own key, the aggregates and lists that include it) for a committed write."""
        derived = [self.list_key(_ALL_SCOPE), self.categories()]
        for category_id in sorted(set(category_ids)):
            derived += [self.summary(category_id), self.list_key(str(category_id))]
        return self.product(product_id), derived

    # ---------------------------------------------------------------- physical keys

    def entry(self, logical: str) -> str:
        """The key holding the entry for `logical`."""
        return f"{self.prefix}{{{logical}}}"

    @staticmethod
    def lease(key: str) -> str:
        """The lease guarding fills of the entry at `key` (same hash slot; Redis only)."""
        return f"{key}:lease"

    def generation(self, scope: str) -> str:
        """The generation token of a list scope; pages of older generations are never read again."""
        return f"{self.prefix}{{{_LIST}{scope}}}:gen"

    def list_page(self, scope: str, generation: str, after: int, limit: int) -> str:
        """One page of a product list."""
        return f"{self.prefix}{{{_LIST}{scope}}}:{generation}:{after}:{limit}"

    def uncached_list_page(self, scope: str, after: int, limit: int) -> str:
        """The in-process flight key of a list page read while the cache is unusable (never stored)."""
        return f"{self.prefix}{{{_LIST}{scope}}}:uncached:{after}:{limit}"

    def list_scope_keys(self, scope: str) -> str:
        """The start every physical key of a list scope shares (generation, pages, uncached flights)."""
        return f"{self.prefix}{{{_LIST}{scope}}}"

    def match(self, logical_prefix: str) -> str:
        """A SCAN MATCH pattern for every key whose logical key starts with `logical_prefix`."""
        return f"{_glob_escape(self.prefix)}{{{_glob_escape(logical_prefix)}*"
