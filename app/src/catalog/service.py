"""Catalog use cases: what to cache under which key, and which keys a write touches.

A write records the keys it changes in the outbox within its transaction, updates the cache after
the commit, and deletes its outbox row only once the cache confirmed the update (`cache/outbox.py`).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
from dataclasses import dataclass

from catalog.cache import CacheLayer, CacheStrategy, CacheUnavailableError, Entry, KeySpace, ProductChange
from catalog.errors import BadRequestError, CacheUnavailableForOpsError, DatabaseUnavailableError, NotFoundError
from catalog.models import (
    MAX_BIGINT,
    CacheStats,
    Product,
    ProductCreate,
    ProductPage,
    ProductUpdate,
    Review,
    ReviewCreate,
    WarmRequest,
    WarmResult,
)
from catalog.repository import CatalogRepository, Invalidations, ProductWrite

log = logging.getLogger(__name__)

READY_TIMEOUT_SECONDS = 2.0
"""The most a readiness check waits for PostgreSQL: well below an ALB health-check timeout."""
_CURSOR_PREFIX = "after:"


def encode_cursor(after_id: int) -> str:
    """An opaque cursor for the page after `after_id`."""
    return base64.urlsafe_b64encode(f"{_CURSOR_PREFIX}{after_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int:
    """The id a cursor points after (0 for the first page); 400 for anything we did not issue."""
    if not cursor:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
        if not text.startswith(_CURSOR_PREFIX):
            raise ValueError(text)
        after = int(text.removeprefix(_CURSOR_PREFIX))
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise BadRequestError(f"cursor {cursor[:40]!r} is not a cursor this API issued") from None
    if not 0 <= after <= MAX_BIGINT:
        raise BadRequestError(f"cursor {cursor[:40]!r} is out of range")
    return after


def _json_entry(model: Product | None) -> Entry:
    if model is None:
        return Entry(None)
    return Entry(model.model_dump_json().encode(), model.version)


@dataclass(frozen=True)
class Readiness:
    """What the readiness probe found."""

    database_ok: bool
    cache_ok: bool
    cache_breaker: str


class CatalogService:
    """Reads go through the configured strategy; writes commit first, then update the cache, then return."""

    def __init__(self, repository: CatalogRepository, cache: CacheLayer, strategy: CacheStrategy) -> None:
        self.repository = repository
        self.cache = cache
        self.strategy = strategy
        self.keys: KeySpace = cache.keys

    # ---------------------------------------------------------------- reads: JSON bytes served as stored

    async def product_json(self, product_id: int) -> bytes:
        """The product's JSON; 404 (cached as a negative entry) when it does not exist."""

        async def load() -> Entry:
            return _json_entry(await self.repository.get_product(product_id))

        key = self.keys.entry(self.keys.product(product_id))
        entry = await self.strategy.read(key, "product", load)
        if entry.payload is None:
            raise NotFoundError(f"product {product_id} does not exist")
        return entry.payload

    async def category_summary_json(self, category_id: int) -> bytes:
        """The category's aggregates; 404 (cached as a negative entry) when it does not exist."""

        async def load() -> Entry:
            summary = await self.repository.category_summary(category_id)
            return Entry(None) if summary is None else Entry(summary.model_dump_json().encode())

        key = self.keys.entry(self.keys.summary(category_id))
        entry = await self.strategy.read(key, "summary", load)
        if entry.payload is None:
            raise NotFoundError(f"category {category_id} does not exist")
        return entry.payload

    async def categories_json(self) -> bytes:
        """Every category with its product count."""

        async def load() -> Entry:
            categories = await self.repository.list_categories()
            return Entry(b"[" + b",".join(c.model_dump_json().encode() for c in categories) + b"]")

        entry = await self.strategy.read(self.keys.entry(self.keys.categories()), "categories", load)
        assert entry.payload is not None
        return entry.payload

    async def product_page_json(self, category_id: int | None, cursor: str | None, limit: int) -> bytes:
        """One page of products; list pages are keyed by a generation that every product write renews."""
        after = decode_cursor(cursor)

        async def load() -> Entry:
            items = await self.repository.list_products(category_id, after, limit + 1)
            next_cursor = encode_cursor(items[limit - 1].id) if len(items) > limit else None
            page = ProductPage(items=items[:limit], next_cursor=next_cursor)
            return Entry(page.model_dump_json().encode())

        scope = self.keys.list_scope(category_id)
        generation = await self.cache.generation(scope)
        if generation is None:
            # Without the generation we cannot know which pages are current: skip the cache.
            entry = await self.cache.load_uncached(self.keys.uncached_list_page(scope, after, limit), "list", load)
        else:
            key = self.keys.list_page(scope, generation, after, limit)
            entry = await self.strategy.read(key, "list", load)
        assert entry.payload is not None
        return entry.payload

    # ---------------------------------------------------------------- writes

    def _changed_keys(self, product_id: int, category_ids: frozenset[int]) -> list[str]:
        product_key, derived = self.keys.changed_by_product_write(product_id, category_ids)
        return [product_key, *derived]

    @property
    def _invalidations(self) -> Invalidations | None:
        """What a write records in the outbox (in its transaction), when the cache layer has one."""
        outbox = self.cache.outbox
        return None if outbox is None else Invalidations(outbox.namespace, self._changed_keys)

    async def _written(self, write: ProductWrite) -> None:
        entry = _json_entry(write.product) if write.product else Entry(None, write.version)
        product_key, derived = self.keys.changed_by_product_write(write.product_id, write.category_ids)
        delivered = await self.strategy.written(ProductChange(product_key, derived, entry))
        # Only a confirmed delivery drops the row: queued, failed, cancelled or killed, it stays for a drain.
        outbox = self.cache.outbox
        if delivered and outbox is not None and write.outbox_id is not None:
            outbox.delivered(write.outbox_id)

    async def create_product(self, data: ProductCreate) -> Product:
        """Insert; the new id's negative entry (if someone asked for it before) is replaced or deleted."""
        write = await self.repository.create_product(data, self._invalidations)
        await self._written(write)
        assert write.product is not None
        return write.product

    async def update_product(self, product_id: int, patch: ProductUpdate) -> Product:
        """Update; the cache reflects the write before this returns."""
        write = await self.repository.update_product(product_id, patch, self._invalidations)
        await self._written(write)
        assert write.product is not None
        return write.product

    async def delete_product(self, product_id: int) -> None:
        """Delete; later reads get 404 (write-through stores a versioned tombstone)."""
        write = await self.repository.delete_product(product_id, self._invalidations)
        await self._written(write)

    async def add_review(self, product_id: int, data: ReviewCreate) -> Review:
        """Add a review; the product's rating and its category's summary change."""
        review, write = await self.repository.add_review(product_id, data, self._invalidations)
        await self._written(write)
        return review

    # ---------------------------------------------------------------- ops

    async def invalidate_key(self, logical: str) -> int:
        """Delete one logical key (and its lease); `list:<scope>` renews the scope's generation."""
        return await self.cache.invalidate([logical]) or 0  # None: queued

    async def invalidate_prefix(self, logical_prefix: str) -> int:
        """Delete every key under a logical prefix; 503 when the cache is unusable (the flush is queued)."""
        if not self.cache.remote.supports_prefix(logical_prefix):
            raise BadRequestError(
                f"the {self.cache.backend_name} cache cannot invalidate prefix {logical_prefix!r}: it cannot "
                "enumerate keys (allowed: single keys, or prefix '' for the whole cache)"
            )
        try:
            return await self.cache.invalidate_prefix(logical_prefix)
        except CacheUnavailableError as exc:
            raise CacheUnavailableForOpsError(
                f"the cache is unavailable; the invalidation of prefix {logical_prefix!r} is queued ({exc})"
            ) from None

    async def warm(self, request: WarmRequest) -> WarmResult:
        """Load products (and category summaries) into the cache under leases, skipping keys being filled."""
        if request.product_ids is not None:
            ids = list(dict.fromkeys(request.product_ids))
        else:
            ids = await self.repository.first_product_ids(request.top) if request.top else []

        async def load_products(logical_keys: list[str]) -> dict[str, Entry]:
            wanted = [self.keys.product_id(key) for key in logical_keys]
            found = {p.id: p for p in await self.repository.get_products(wanted)}
            return {self.keys.product(pid): _json_entry(found.get(pid)) for pid in wanted}

        async def load_summaries(logical_keys: list[str]) -> dict[str, Entry]:
            entries = {}
            for key in logical_keys:
                summary = await self.repository.category_summary(self.keys.summary_category(key))
                entries[key] = Entry(None) if summary is None else Entry(summary.model_dump_json().encode())
            return entries

        products = await self.cache.warm([self.keys.product(pid) for pid in ids], load_products) if ids else 0
        summaries = wanted_summaries = 0
        if request.categories:
            category_ids = [c.id for c in await self.repository.list_categories()]
            wanted_summaries = len(category_ids)
            summaries = await self.cache.warm([self.keys.summary(cid) for cid in category_ids], load_summaries)
        skipped = len(ids) + wanted_summaries - products - summaries
        return WarmResult(products=products, categories=summaries, skipped=skipped)

    async def readiness(self) -> Readiness:
        """Whether PostgreSQL answers (bounded wait) and whether the cache does (it may only degrade)."""
        try:
            async with asyncio.timeout(READY_TIMEOUT_SECONDS):
                await self.repository.ping()
            database_ok = True
        except (DatabaseUnavailableError, TimeoutError):
            database_ok = False
        cache_ok = await self.cache.ping()
        return Readiness(database_ok, cache_ok, self.cache.breaker.state)

    async def stats(self) -> CacheStats:
        """This task's cache counters, the breaker state and the cache server's own statistics."""
        return CacheStats(
            strategy=self.strategy.name,
            backend=self.cache.backend_name,
            breaker=self.cache.breaker.state,
            counters=dict(self.cache.counters),
            database_queries=self.repository.query_count,
            pending_invalidations=self.cache.pending_invalidations,
            server=await self.cache.server_info(),
        )

    # ---------------------------------------------------------------- benchmark baselines

    async def bench_cache_get(self, logical: str) -> bytes | None:
        """Exactly one cache GET of a logical key's entry, bytes as stored."""
        return await self.cache.remote.raw(logical)

    async def bench_db_get(self, product_id: int) -> str | None:
        """Exactly one primary-key SELECT."""
        return await self.repository.bare_get(product_id)
