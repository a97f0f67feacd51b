"""PostgreSQL down: /readyz says 503, writes fail cleanly with a JSON 503, and nothing is half-written."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Iterator
from typing import Any

import asyncpg
import pytest
from catalog.models import ProductCreate
from catalog.repository import CatalogRepository

from tests.app.conftest import SettingsFactory
from tests.app.helpers import create_seeded_database, running_app
from tests.app.servers import PostgresServer

DB = "catalog_outage"


@pytest.fixture(scope="module")
def own_postgres() -> Iterator[PostgresServer]:
    """A private PostgreSQL cluster with a seeded database, which these tests stop and start."""
    server = PostgresServer().init()
    try:
        server.start()
        asyncio.run(create_seeded_database(DB, products=50, port=server.port))
        yield server
    finally:
        server.close()


@pytest.fixture
def pg(own_postgres: PostgresServer) -> Iterator[PostgresServer]:
    """The private server, started again after each test that stopped it."""
    yield own_postgres
    if not own_postgres.running:
        own_postgres.start()


async def sku_exists(server: PostgresServer, sku: str) -> bool:
    conn = await asyncpg.connect(host="127.0.0.1", port=server.port, user="postgres", database=DB)
    try:
        return bool(await conn.fetchval("SELECT count(*) FROM products WHERE sku = $1", sku))
    finally:
        await conn.close()


async def wait_ready(client: Any, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while (await client.get("/readyz")).status_code != 200:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.1)


def outage_env(server: PostgresServer) -> dict[str, str]:
    return {
        "DATABASE_PORT": str(server.port),
        "DATABASE_NAME": DB,
        "DATABASE_CONNECT_TIMEOUT_SECONDS": "1",
    }


async def test_database_down(make_settings: SettingsFactory, pg: PostgresServer) -> None:
    async with running_app(make_settings(**outage_env(pg))) as app:
        cached = await app.client.get("/api/products/1")
        assert cached.status_code == 200

        await asyncio.to_thread(pg.stop, "fast")

        ready = await app.client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json() == {"status": "unavailable", "database": "down", "cache": "ok", "cache_breaker": "closed"}
        assert (await app.client.get("/healthz")).status_code == 200  # liveness never touches the database

        sku = f"DOWN-{secrets.token_hex(4).upper()}"
        write = await app.client.post(
            "/api/products", json={"sku": sku, "name": "x", "category_id": 1, "price_cents": 1, "stock": {"FRA": 1}}
        )
        assert write.status_code == 503
        assert write.headers["retry-after"] == "5"
        assert write.json()["error"] == "database_unavailable"
        patch = await app.client.patch("/api/products/2", json={"name": "y"})
        assert patch.status_code == 503
        assert patch.json()["error"] == "database_unavailable"

        assert (await app.client.get("/api/products/1")).content == cached.content  # still served from Redis
        uncached = await app.client.get("/api/products/3")
        assert uncached.status_code == 503
        assert uncached.json()["error"] == "database_unavailable"

        await asyncio.to_thread(pg.start)
        await wait_ready(app.client)
        assert (await app.client.get("/api/products/3")).status_code == 200
        assert not await sku_exists(pg, sku)


class DiesMidWrite(CatalogRepository):
    """Stops the server after the product row was inserted, before its stock: the transaction must vanish."""

    server: PostgresServer

    async def _write_stock(self, conn: Any, product_id: int, stock: dict[str, int]) -> None:
        await asyncio.to_thread(self.server.stop, "immediate")
        await super()._write_stock(conn, product_id, stock)


async def test_database_dies_mid_write_nothing_half_written(make_settings: SettingsFactory, pg: PostgresServer) -> None:
    DiesMidWrite.server = pg
    async with running_app(make_settings(**outage_env(pg)), repository_factory=DiesMidWrite) as app:
        sku = f"HALF-{secrets.token_hex(4).upper()}"
        response = await app.client.post(
            "/api/products", json={"sku": sku, "name": "x", "category_id": 1, "price_cents": 1, "stock": {"FRA": 1}}
        )
        assert response.status_code == 503
        assert response.json()["error"] == "database_unavailable"

        await asyncio.to_thread(pg.start)
        await wait_ready(app.client)
        assert not await sku_exists(pg, sku)  # the product row was rolled back with its transaction


async def test_constraint_failure_on_a_later_statement_rolls_back_the_first(
    make_settings: SettingsFactory, pg: PostgresServer
) -> None:
    """A write whose second statement fails (stock violates a CHECK) leaves no product row behind."""
    async with running_app(make_settings(**outage_env(pg))) as app:
        sku = f"CHK-{secrets.token_hex(4).upper()}"
        bad = ProductCreate.model_construct(
            sku=sku, name="x", description="", category_id=1, price_cents=1, currency="USD", stock={"FRA": -1}
        )
        with pytest.raises(asyncpg.CheckViolationError):
            await app.resources.repository.create_product(bad)
        assert not await sku_exists(pg, sku)
