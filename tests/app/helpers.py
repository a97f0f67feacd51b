"""Helpers shared by the catalog tests (imported by conftest and by test modules)."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import redis
from catalog.app import create_app
from catalog.resources import Resources
from catalog.seed import seed
from catalog.settings import Settings

PG_HOST = "127.0.0.1"
PG_PORT = 5432
REDIS_PORT = 6379
SEED_PRODUCTS = 300


async def admin_sql(sql: str, port: int = PG_PORT) -> None:
    """Run one statement in the `postgres` database."""
    conn = await asyncpg.connect(host=PG_HOST, port=port, user="postgres", database="postgres")
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def create_seeded_database(name: str, products: int = SEED_PRODUCTS, port: int = PG_PORT) -> None:
    """CREATE DATABASE, run the migrations and seed `products` products."""
    await admin_sql(f'CREATE DATABASE "{name}"', port)
    conn = await asyncpg.connect(host=PG_HOST, port=port, user="postgres", database=name)
    try:
        await seed(conn, products, max_reviews=6)
    finally:
        await conn.close()


def delete_prefix(prefix: str, port: int = REDIS_PORT) -> None:
    """Remove every key under `prefix` from the Redis on `port`."""
    client = redis.Redis(host="127.0.0.1", port=port)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        if keys:
            client.unlink(*keys)
    finally:
        client.close()


@dataclass
class AppUnderTest:
    """A started app, a client that talks to it in-process, and its resources (cache, repository)."""

    app: Any
    client: httpx.AsyncClient
    resources: Resources

    @property
    def queries(self) -> int:
        """Database statements run so far."""
        return self.resources.repository.query_count

    def key(self, logical: str) -> str:
        """The cache key of a logical key (product:42)."""
        return self.resources.cache.keys.entry(logical)

    @asynccontextmanager
    async def expect_queries(self, expected: int) -> AsyncIterator[None]:
        """Assert that the block runs exactly `expected` database statements (0: served by the cache)."""
        before = self.queries
        yield
        assert self.queries - before == expected, (
            f"expected {expected} database statements, ran {self.queries - before}"
        )


@asynccontextmanager
async def running_app(settings: Settings, **create_kwargs: Any) -> AsyncIterator[AppUnderTest]:
    """Start the app's lifespan and an httpx client over ASGITransport; stop both afterwards."""
    app = create_app(settings, **create_kwargs)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://catalog.test") as client:
            yield AppUnderTest(app, client, app.state.resources)


async def new_product(client: httpx.AsyncClient, category_id: int = 1, **fields: Any) -> dict[str, Any]:
    """Create a product through the API and return its JSON."""
    body = {
        "sku": f"T-{secrets.token_hex(6).upper()}",
        "name": "Test product",
        "category_id": category_id,
        "price_cents": 1999,
        "stock": {"FRA": 3},
        **fields,
    }
    response = await client.post("/api/products", json=body)
    assert response.status_code == 201, response.text
    product: dict[str, Any] = response.json()
    return product


async def wait_until(condition: Callable[[], object], timeout: float = 5.0, what: str = "condition") -> None:
    """Poll `condition` every 20 ms until it is true; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what} not met in {timeout} s"
        await asyncio.sleep(0.02)
