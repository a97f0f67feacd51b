"""All SQL of the service, behind one class that counts every statement it runs."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg

from catalog.db import unavailable_as_503
from catalog.errors import ConflictError, InvalidReferenceError, NotFoundError
from catalog.metrics import Metrics
from catalog.models import (
    Category,
    CategoryRef,
    CategorySummary,
    PriceStats,
    Product,
    ProductCreate,
    ProductUpdate,
    Rating,
    Review,
    ReviewCreate,
    Stock,
    StockStats,
    TopProduct,
)

_PRODUCT_SELECT = """
SELECT p.id, p.sku, p.name, p.description, p.price_cents, p.currency, p.version, p.created_at, p.updated_at,
       c.id AS category_id, c.slug AS category_slug, c.name AS category_name,
       COALESCE(inv.total, 0)::bigint AS stock_total,
       COALESCE(inv.warehouses, '{}') AS warehouses,
       COALESCE(inv.quantities, '{}') AS quantities,
       rv.review_count, rv.rating_avg
FROM products p
JOIN categories c ON c.id = p.category_id
LEFT JOIN LATERAL (
    SELECT sum(i.quantity) AS total,
           array_agg(i.warehouse ORDER BY i.warehouse) AS warehouses,
           array_agg(i.quantity ORDER BY i.warehouse) AS quantities
    FROM inventory i WHERE i.product_id = p.id
) inv ON true
LEFT JOIN LATERAL (
    SELECT count(*) AS review_count, round(avg(r.rating), 2)::float8 AS rating_avg
    FROM reviews r WHERE r.product_id = p.id
) rv ON true
"""
_GET_PRODUCT = _PRODUCT_SELECT + "WHERE p.id = $1"
_GET_PRODUCTS = _PRODUCT_SELECT + "WHERE p.id = ANY($1::bigint[]) ORDER BY p.id"
_LIST_ALL = _PRODUCT_SELECT + "WHERE p.id > $1 ORDER BY p.id LIMIT $2"
_LIST_CATEGORY = _PRODUCT_SELECT + "WHERE p.category_id = $1 AND p.id > $2 ORDER BY p.id LIMIT $3"

# The expensive read: every product of a category with its inventory and reviews, aggregated.
_CATEGORY_SUMMARY = """
WITH cp AS (
    SELECT p.id, p.name, p.price_cents FROM products p WHERE p.category_id = $1
), st AS (
    SELECT i.product_id, sum(i.quantity) AS qty
    FROM inventory i JOIN cp ON cp.id = i.product_id GROUP BY i.product_id
), rv AS (
    SELECT r.product_id, count(*) AS n, avg(r.rating) AS avg
    FROM reviews r JOIN cp ON cp.id = r.product_id GROUP BY r.product_id
)
SELECT c.id, c.slug, c.name,
       (SELECT count(*) FROM cp) AS product_count,
       (SELECT min(price_cents) FROM cp) AS price_min,
       (SELECT max(price_cents) FROM cp) AS price_max,
       (SELECT round(avg(price_cents), 2)::float8 FROM cp) AS price_avg,
       (SELECT COALESCE(sum(qty), 0) FROM st)::bigint AS stock_total,
       (SELECT count(*) FROM cp LEFT JOIN st ON st.product_id = cp.id WHERE COALESCE(st.qty, 0) = 0)
           AS out_of_stock,
       (SELECT COALESCE(sum(n), 0) FROM rv)::bigint AS review_count,
       (SELECT round(sum(avg * n) / NULLIF(sum(n), 0), 2)::float8 FROM rv) AS rating_avg,
       (SELECT COALESCE(json_agg(t), '[]'::json)::text FROM (
            SELECT cp.id, cp.name, round(rv.avg, 2)::float8 AS average, rv.n AS count
            FROM cp JOIN rv ON rv.product_id = cp.id
            ORDER BY rv.avg DESC, rv.n DESC, cp.id LIMIT 5
       ) t) AS top_rated
FROM categories c WHERE c.id = $1
"""
_LIST_CATEGORIES = """
SELECT c.id, c.slug, c.name, count(p.id) AS product_count
FROM categories c LEFT JOIN products p ON p.category_id = c.id
GROUP BY c.id ORDER BY c.id
"""
_INSERT_PRODUCT = """
INSERT INTO products (sku, name, description, category_id, price_cents, currency)
VALUES ($1, $2, $3, $4, $5, $6) RETURNING id
"""
_UPSERT_STOCK = """
INSERT INTO inventory (product_id, warehouse, quantity)
SELECT $1, w, q FROM unnest($2::text[], $3::int[]) AS t (w, q)
ON CONFLICT (product_id, warehouse) DO UPDATE SET quantity = EXCLUDED.quantity
"""
_LOCK_PRODUCT = "SELECT category_id, version FROM products WHERE id = $1 FOR UPDATE"
# Nulls are refused by validation, so COALESCE means "not given": one static statement for any patch.
_UPDATE_PRODUCT = """
UPDATE products SET
    name = COALESCE($2, name),
    description = COALESCE($3, description),
    category_id = COALESCE($4, category_id),
    price_cents = COALESCE($5, price_cents),
    currency = COALESCE($6, currency),
    version = version + 1,
    updated_at = now()
WHERE id = $1
"""
_TOUCH_PRODUCT = "UPDATE products SET version = version + 1, updated_at = now() WHERE id = $1 RETURNING category_id"
_DELETE_PRODUCT = "DELETE FROM products WHERE id = $1 RETURNING category_id, version"
_INSERT_OUTBOX = "INSERT INTO cache_outbox (namespace, keys) VALUES ($1, $2::text[]) RETURNING id"
# SKIP LOCKED: rows another task is delivering right now are its business; nobody waits on them.
_CLAIM_OUTBOX = """
SELECT id, keys FROM cache_outbox
WHERE namespace = $1 AND created_at <= clock_timestamp() - make_interval(secs => $3)
ORDER BY id LIMIT $2
FOR UPDATE SKIP LOCKED
"""
_DELETE_OUTBOX = "DELETE FROM cache_outbox WHERE id = ANY($1::bigint[])"
# A drain that holds a row is delivering it and will delete it: do not wait for its transaction.
_FORGET_OUTBOX = """
DELETE FROM cache_outbox
WHERE id IN (SELECT id FROM cache_outbox WHERE id = ANY($1::bigint[]) FOR UPDATE SKIP LOCKED)
"""
_COUNT_OUTBOX = "SELECT count(*) FROM cache_outbox WHERE namespace = $1"
_INSERT_REVIEW = """
INSERT INTO reviews (product_id, rating, body) VALUES ($1, $2, $3)
RETURNING id, product_id, rating, body, created_at
"""


_BACKGROUND = "outbox_"
"""Statements that run off the request path (drains, deleting delivered rows): in `queries` and the
metrics, not in `query_count`, which counts what requests cost (the write's own INSERT is counted)."""


class _NotDeliveredError(Exception):
    """Carries the cache's error out of a drain's transaction (rolled back) past `unavailable_as_503`."""

    def __init__(self, error: Exception) -> None:
        super().__init__(repr(error))
        self.error = error


@dataclass(frozen=True)
class Invalidations:
    """What a write records in the outbox, in its own transaction: the cache keys it changed."""

    namespace: str
    """The cache key prefix the keys live under."""
    keys_of: Callable[[int, frozenset[int]], Sequence[str]]
    """The logical keys a write of (product id, categories whose aggregates changed) makes stale."""


@dataclass(frozen=True)
class ProductWrite:
    """The result of a committed product write."""

    product: Product | None
    """The product after the write; None when it was deleted."""
    product_id: int
    category_ids: frozenset[int]
    """Categories whose aggregates changed (old and new when the product moved)."""
    version: int
    """The version the cache should remember (deleted: one past the last version, a tombstone)."""
    outbox_id: int | None = None
    """The outbox row committed with the write (None when the write recorded none)."""


def _product(row: asyncpg.Record) -> Product:
    return Product(
        id=row["id"],
        sku=row["sku"],
        name=row["name"],
        description=row["description"],
        category=CategoryRef(id=row["category_id"], slug=row["category_slug"], name=row["category_name"]),
        price_cents=row["price_cents"],
        currency=row["currency"],
        stock=Stock(total=row["stock_total"], warehouses=dict(zip(row["warehouses"], row["quantities"], strict=True))),
        rating=Rating(average=row["rating_avg"], count=row["review_count"]),
        version=row["version"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


class CatalogRepository:
    """PostgreSQL access. `query_count` counts every statement sent, for tests and benchmarks."""

    def __init__(self, pool: asyncpg.Pool, metrics: Metrics | None = None, acquire_timeout: float = 5.0) -> None:
        self.pool = pool
        self.metrics = metrics or Metrics()
        self.acquire_timeout = acquire_timeout
        self.query_count = 0
        self.queries: Counter[str] = Counter()
        """Statements by name (get_product, category_summary, ...)."""

    def _count(self, name: str, started: float) -> None:
        if not name.startswith(_BACKGROUND):
            self.query_count += 1
        self.queries[name] += 1
        self.metrics.db_queries.labels(name).inc()
        self.metrics.db_query_seconds.labels(name).observe(time.perf_counter() - started)

    async def _fetch(self, conn: Any, name: str, sql: str, *args: object) -> list[asyncpg.Record]:
        started = time.perf_counter()
        try:
            return list(await conn.fetch(sql, *args))
        finally:
            self._count(name, started)

    async def _fetchrow(self, conn: Any, name: str, sql: str, *args: object) -> asyncpg.Record | None:
        started = time.perf_counter()
        try:
            row: asyncpg.Record | None = await conn.fetchrow(sql, *args)
            return row
        finally:
            self._count(name, started)

    async def _execute(self, conn: Any, name: str, sql: str, *args: object) -> str:
        started = time.perf_counter()
        try:
            status: str = await conn.execute(sql, *args)
            return status
        finally:
            self._count(name, started)

    # ---------------------------------------------------------------- reads

    async def ping(self) -> None:
        """One round trip; raises `DatabaseUnavailableError` when the database cannot answer."""
        with unavailable_as_503():
            async with self.pool.acquire(timeout=self.acquire_timeout) as conn:
                await conn.fetchval("SELECT 1")

    async def get_product(self, product_id: int) -> Product | None:
        """One product with its category, inventory and review aggregate."""
        with unavailable_as_503():
            async with self.pool.acquire(timeout=self.acquire_timeout) as conn:
                row = await self._fetchrow(conn, "get_product", _GET_PRODUCT, product_id)
        return _product(row) if row else None

    async def get_products(self, product_ids: Sequence[int]) -> list[Product]:
        """Several products in one statement (cache warm-up)."""
        with unavailable_as_503():
            async with self.pool.acquire(timeout=self.acquire_timeout) as conn:
                rows = await self._fetch(conn, "get_products", _GET_PRODUCTS, list(product_ids))
        return [_product(r) for r in rows]

    async def first_product_ids(self, limit: int) -> list[int]:
        """The lowest `limit` product ids (what warm-up loads by default)."""
        with unavailable_as_503():
            async with self.pool.acquire(timeout=self.acquire_timeout) as conn:
                rows = await self._fetch(
                    conn, "first_product_ids", "SELECT id FROM products ORDER BY id LIMIT $1", limit
                )
        return [r["id"] for r in rows]

    async def list_products(self, category_id: int | None, after_id: int, limit: int) -> list[Product]:
        """Products with id > after_id in id order, optionally of one category."""
        with unavailable_as_503():
            async with self.pool.acquire(timeout=self.acquire_timeout) as conn:
                if category_id is None:
                    rows = await self._fetch(conn, "list_products", _LIST_ALL, after_id, limit)
                else:
                    rows = await self._fetch(conn, "list_products", _LIST_CATEGORY, category_id, after_id, limit)
        return [_product(r) for r in rows]

    async def category_summary(self, category_id: int) -> CategorySummary | None:
        """Aggregates over every product of the category (the expensive read)."""
        with unavailable_as_503():
            async with self.pool.acquire(timeout=self.acquire_timeout) as conn:
                row = await self._fetchrow(conn, "category_summary", _CATEGORY_SUMMARY, category_id)
        if row is None:
            return None
        top = [
            TopProduct(id=t["id"], name=t["name"], rating=Rating(average=t["average"], count=t["count"]))
            for t in json.loads(row["top_rated"])
        ]
        return CategorySummary(
            category=CategoryRef(id=row["id"], slug=row["slug"], name=row["name"]),
            product_count=row["product_count"],
            price_cents=PriceStats(min=row["price_min"], max=row["price_max"], average=row["price_avg"]),
            stock=StockStats(total=row["stock_total"], out_of_stock_products=row["out_of_stock"]),
            reviews=Rating(average=row["rating_avg"], count=row["review_count"]),
            top_rated=top,
        )

    async def list_categories(self) -> list[Category]:
        """Every category with its product count."""
        with unavailable_as_503():
            async with self.pool.acquire(timeout=self.acquire_timeout) as conn:
                rows = await self._fetch(conn, "list_categories", _LIST_CATEGORIES)
        return [Category(id=r["id"], slug=r["slug"], name=r["name"], product_count=r["product_count"]) for r in rows]

    # ---------------------------------------------------------------- writes (one transaction each)

    async def _record(
        self, conn: Any, invalidations: Invalidations | None, product_id: int, categories: frozenset[int]
    ) -> int | None:
        """The write's outbox row, inside its transaction (so it commits, or not, with the change)."""
        if invalidations is None:
            return None
        keys = list(invalidations.keys_of(product_id, categories))
        row = await self._fetchrow(conn, "insert_outbox", _INSERT_OUTBOX, invalidations.namespace, keys)
        assert row is not None
        row_id: int = row["id"]
        return row_id

    async def create_product(self, data: ProductCreate, invalidations: Invalidations | None = None) -> ProductWrite:
        """Insert a product and its stock; all or nothing (the outbox row included)."""
        with unavailable_as_503():
            async with self.pool.acquire(timeout=self.acquire_timeout) as conn, conn.transaction():
                try:
                    row = await self._fetchrow(
                        conn,
                        "insert_product",
                        _INSERT_PRODUCT,
                        data.sku,
                        data.name,
                        data.description,
                        data.category_id,
                        data.price_cents,
                        data.currency,
                    )
                except asyncpg.UniqueViolationError:
                    raise ConflictError(f"a product with sku {data.sku!r} already exists") from None
                except asyncpg.ForeignKeyViolationError:
                    raise InvalidReferenceError(f"category {data.category_id} does not exist") from None
                assert row is not None
                product_id: int = row["id"]
                await self._write_stock(conn, product_id, data.stock)
                product = await self._reload(conn, product_id)
                categories = frozenset({product.category.id})
                outbox_id = await self._record(conn, invalidations, product_id, categories)
        return ProductWrite(product, product_id, categories, product.version, outbox_id)

    async def _write_stock(self, conn: Any, product_id: int, stock: dict[str, int]) -> None:
        """Upsert per-warehouse quantities (a seam tests use to fail a write half-way)."""
        if stock:
            warehouses = sorted(stock)
            await self._execute(
                conn, "upsert_stock", _UPSERT_STOCK, product_id, warehouses, [stock[w] for w in warehouses]
            )

    async def _reload(self, conn: Any, product_id: int) -> Product:
        # Labelled apart from get_product so the read metric counts only reads that serve a request.
        row = await self._fetchrow(conn, "reload_product", _GET_PRODUCT, product_id)
        assert row is not None
        return _product(row)

    async def update_product(
        self, product_id: int, patch: ProductUpdate, invalidations: Invalidations | None = None
    ) -> ProductWrite:
        """Apply a patch under a row lock; 404 when missing, 409 when expected_version is stale."""
        with unavailable_as_503():
            async with self.pool.acquire(timeout=self.acquire_timeout) as conn, conn.transaction():
                current = await self._fetchrow(conn, "lock_product", _LOCK_PRODUCT, product_id)
                if current is None:
                    raise NotFoundError(f"product {product_id} does not exist")
                if patch.expected_version is not None and patch.expected_version != current["version"]:
                    raise ConflictError(
                        f"product {product_id} is at version {current['version']}, "
                        f"not expected_version {patch.expected_version}"
                    )
                changes = patch.changes()
                if changes:
                    try:
                        await self._execute(
                            conn,
                            "update_product",
                            _UPDATE_PRODUCT,
                            product_id,
                            changes.get("name"),
                            changes.get("description"),
                            changes.get("category_id"),
                            changes.get("price_cents"),
                            changes.get("currency"),
                        )
                    except asyncpg.ForeignKeyViolationError:
                        raise InvalidReferenceError(f"category {patch.category_id} does not exist") from None
                else:
                    await self._execute(conn, "touch_product", _TOUCH_PRODUCT, product_id)
                await self._write_stock(conn, product_id, patch.stock or {})
                product = await self._reload(conn, product_id)
                categories = frozenset({current["category_id"], product.category.id})
                outbox_id = await self._record(conn, invalidations, product_id, categories)
        return ProductWrite(product, product_id, categories, product.version, outbox_id)

    async def delete_product(self, product_id: int, invalidations: Invalidations | None = None) -> ProductWrite:
        """Delete a product with its stock and reviews; 404 when missing."""
        with unavailable_as_503():
            async with self.pool.acquire(timeout=self.acquire_timeout) as conn, conn.transaction():
                row = await self._fetchrow(conn, "delete_product", _DELETE_PRODUCT, product_id)
                if row is None:
                    raise NotFoundError(f"product {product_id} does not exist")
                categories = frozenset({row["category_id"]})
                outbox_id = await self._record(conn, invalidations, product_id, categories)
        return ProductWrite(None, product_id, categories, row["version"] + 1, outbox_id)

    async def add_review(
        self, product_id: int, data: ReviewCreate, invalidations: Invalidations | None = None
    ) -> tuple[Review, ProductWrite]:
        """Insert a review and bump the product's version (its rating aggregate changed)."""
        with unavailable_as_503():
            async with self.pool.acquire(timeout=self.acquire_timeout) as conn, conn.transaction():
                touched = await self._fetchrow(conn, "touch_product", _TOUCH_PRODUCT, product_id)
                if touched is None:
                    raise NotFoundError(f"product {product_id} does not exist")
                row = await self._fetchrow(conn, "insert_review", _INSERT_REVIEW, product_id, data.rating, data.body)
                assert row is not None
                product = await self._reload(conn, product_id)
                categories = frozenset({product.category.id})
                outbox_id = await self._record(conn, invalidations, product_id, categories)
        review = Review(
            id=row["id"],
            product_id=row["product_id"],
            rating=row["rating"],
            body=row["body"],
            created_at=row["created_at"],
        )
        return review, ProductWrite(product, product_id, categories, product.version, outbox_id)

    # ---------------------------------------------------------------- the invalidation outbox

    async def deliver_outbox(
        self, namespace: str, limit: int, min_age_seconds: float, deliver: Callable[[list[str]], Awaitable[object]]
    ) -> int:
        """Claim up to `limit` rows older than `min_age_seconds`, `deliver` their keys, delete them; return how many.

        One transaction: if `deliver` raises (the cache failed), it rolls back, the rows stay, and the
        cache's own error propagates unchanged (never mistaken for the database's: both may be an OSError).
        """
        try:
            with unavailable_as_503():
                async with self.pool.acquire(timeout=self.acquire_timeout) as conn, conn.transaction():
                    rows = await self._fetch(
                        conn, f"{_BACKGROUND}claim", _CLAIM_OUTBOX, namespace, limit, float(min_age_seconds)
                    )
                    if not rows:
                        return 0
                    try:
                        await deliver(list(dict.fromkeys(key for row in rows for key in row["keys"])))
                    except Exception as exc:
                        raise _NotDeliveredError(exc) from exc
                    await self._execute(conn, f"{_BACKGROUND}delete", _DELETE_OUTBOX, [row["id"] for row in rows])
        except _NotDeliveredError as failed:
            raise failed.error from None
        return len(rows)

    async def forget_outbox_rows(self, row_ids: list[int]) -> int:
        """Delete rows their writers delivered, except those a drain holds (that drain deletes them)."""
        with unavailable_as_503():
            async with self.pool.acquire(timeout=self.acquire_timeout) as conn:
                status = await self._execute(conn, f"{_BACKGROUND}forget", _FORGET_OUTBOX, row_ids)
        return int(status.split()[-1])

    async def outbox_rows(self, namespace: str) -> int:
        """Rows waiting in the outbox of `namespace`."""
        with unavailable_as_503():
            async with self.pool.acquire(timeout=self.acquire_timeout) as conn:
                count: int = await conn.fetchval(_COUNT_OUTBOX, namespace)
        return count

    async def bare_get(self, product_id: int) -> str | None:
        """One primary-key SELECT of one column: the baseline the benchmark compares the cache against."""
        with unavailable_as_503():
            async with self.pool.acquire(timeout=self.acquire_timeout) as conn:
                row = await self._fetchrow(conn, "bare_get", "SELECT name FROM products WHERE id = $1", product_id)
        return row["name"] if row else None
