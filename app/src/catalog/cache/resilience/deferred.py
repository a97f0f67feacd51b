"""Invalidations that could not be delivered, kept until the cache answers again."""

from __future__ import annotations

from collections.abc import Iterable

MAX_PENDING_INVALIDATIONS = 10_000


class DeferredInvalidations:
    """Logical keys and logical prefixes whose invalidation is owed to the cache.

    More than `limit` keys collapse into one flush of the whole namespace (prefix ""): remembering
    every key of a long outage would cost memory, and a flush after an outage costs only misses.
    """

    def __init__(self, limit: int = MAX_PENDING_INVALIDATIONS) -> None:
        self.limit = limit
        self.keys: set[str] = set()
        self.prefixes: set[str] = set()

    def __len__(self) -> int:
        """Invalidations waiting (a pending namespace flush counts as one)."""
        return len(self.keys) + len(self.prefixes)

    def add_keys(self, logical_keys: Iterable[str]) -> None:
        """Owe the cache these keys."""
        self.keys.update(logical_keys)
        if len(self.keys) > self.limit:
            self.keys.clear()
            self.prefixes.add("")

    def add_prefix(self, logical_prefix: str) -> None:
        """Owe the cache every key under this prefix."""
        self.prefixes.add(logical_prefix)
