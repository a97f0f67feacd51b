"""Invalidations that could not be delivered, kept until the cache answers again.

Each key carries the sequence number of the last time it was owed. Recovery takes a snapshot,
delivers it, and then forgets only the keys whose number did not change meanwhile: an invalidation
owed again *during* the delivery (a write that committed after the delete was sent) stays queued.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable

MAX_PENDING_INVALIDATIONS = 10_000


class DeferredInvalidations:
    """Logical keys and logical prefixes whose invalidation is owed to the cache.

    More than `limit` keys collapse into one flush of the whole namespace (prefix ""): remembering
    every key of a long outage would cost memory, and a flush after an outage costs only misses.
    """

    def __init__(self, limit: int = MAX_PENDING_INVALIDATIONS) -> None:
        self.limit = limit
        self.keys: dict[str, int] = {}
        self.prefixes: dict[str, int] = {}
        self._seq = itertools.count(1)

    def __len__(self) -> int:
        """Invalidations waiting (a pending namespace flush counts as one)."""
        return len(self.keys) + len(self.prefixes)

    def add_keys(self, logical_keys: Iterable[str]) -> None:
        """Owe the cache these keys."""
        seq = next(self._seq)
        for key in logical_keys:
            self.keys[key] = seq
        if len(self.keys) > self.limit:
            self.keys.clear()
            self.prefixes[""] = seq

    def add_prefix(self, logical_prefix: str) -> None:
        """Owe the cache every key under this prefix."""
        self.prefixes[logical_prefix] = next(self._seq)

    def snapshot(self) -> tuple[dict[str, int], dict[str, int]]:
        """(keys, prefixes) owed now, with their sequence numbers."""
        return dict(self.keys), dict(self.prefixes)

    def delivered(self, keys: dict[str, int], prefixes: dict[str, int]) -> None:
        """Forget what a snapshot delivered, except entries owed again since it was taken."""
        for key, seq in keys.items():
            if self.keys.get(key) == seq:
                del self.keys[key]
        for prefix, seq in prefixes.items():
            if self.prefixes.get(prefix) == seq:
                del self.prefixes[prefix]
