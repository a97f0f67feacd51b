"""The caching strategies selected by CACHE_STRATEGY, and what a committed write tells them."""

from __future__ import annotations

from abc import ABC
from dataclasses import dataclass
from typing import ClassVar

from catalog.cache.codec import Entry
from catalog.cache.layer import CacheLayer, Loader
from catalog.cache.resilience import CacheUnavailableError
from catalog.settings import CacheStrategyName


@dataclass(frozen=True, slots=True)
class ProductChange:
    """A committed product write: the new entry (negative when deleted) and the logical keys it touches."""

    product_key: str
    """Logical key of the product itself."""
    derived_keys: list[str]
    """Aggregates and lists that include the product: always invalidated, never computed on write."""
    entry: Entry


class CacheStrategy(ABC):
    """How reads use the cache and how committed writes update it."""

    name: ClassVar[CacheStrategyName]

    def __init__(self, cache: CacheLayer) -> None:
        self.cache = cache

    async def read(self, key: str, entity: str, load: Loader) -> Entry:
        """The entry at `key`, loading it with `load` on a miss."""
        return await self.cache.get_or_load(key, entity, load)

    async def written(self, change: ProductChange) -> bool:
        """Called after the write committed and before the response is sent; True if the cache has it.

        False means an update was queued instead (the cache is unusable): the write's outbox row stays.
        """
        return await self.cache.invalidate([change.product_key, *change.derived_keys]) is not None


class CacheAside(CacheStrategy):
    """The application drives the cache: look up, on a miss read the database and fill; delete on write.

    The steps are spelled out here (rather than `get_or_load`) because that is the pattern: the
    cache never calls the database. Fills still go through a lease, which is what stops a slow
    reader from putting an old row back after a writer's delete.
    """

    name = "cache-aside"

    async def read(self, key: str, entity: str, load: Loader) -> Entry:
        try:
            cached = await self.cache.lookup(key, entity)
        except CacheUnavailableError:
            return await self.cache.load_uncached(key, entity, load)
        if cached is not None:
            return cached
        return await self.cache.load_on_miss(key, entity, load)


class ReadThrough(CacheStrategy):
    """The cache owns loading: callers ask the cache and it reads the database on a miss; delete on write."""

    name = "read-through"


class WriteThrough(CacheStrategy):
    """Reads as read-through; a write stores the product's new row (versioned) so the next read hits.

    Aggregates and lists are still invalidated: recomputing a category summary on every write would
    put the expensive read on the write path.
    """

    name = "write-through"

    async def written(self, change: ProductChange) -> bool:
        stored = await self.cache.put(change.product_key, change.entry)
        removed = await self.cache.invalidate(change.derived_keys)
        return stored is not None and removed is not None


STRATEGIES: dict[CacheStrategyName, type[CacheStrategy]] = {
    "cache-aside": CacheAside,
    "read-through": ReadThrough,
    "write-through": WriteThrough,
}
