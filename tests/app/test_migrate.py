"""Versioned migrations under an advisory lock, and the idempotent seed."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator

import asyncpg
import pytest
from catalog.migrate import MigrationError, available_migrations, migrate, pending_migrations
from catalog.seed import seed

from tests.app.helpers import PG_HOST, PG_PORT, admin_sql


@pytest.fixture
async def empty_database() -> AsyncIterator[str]:
    name = f"catalog_mig_{secrets.token_hex(4)}"
    await admin_sql(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        await admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def connect(database: str) -> asyncpg.Connection:
    return await asyncpg.connect(host=PG_HOST, port=PG_PORT, user="postgres", database=database)


async def test_concurrent_tasks_apply_each_migration_once(empty_database: str) -> None:
    conns = [await connect(empty_database) for _ in range(4)]
    try:
        assert await pending_migrations(conns[0]) == [m.name for m in available_migrations()]
        results = await asyncio.gather(*(migrate(conn) for conn in conns))
        assert sorted(len(applied) for applied in results) == [0, 0, 0, len(available_migrations())]
        assert await pending_migrations(conns[0]) == []
        assert await conns[0].fetchval("SELECT count(*) FROM schema_migrations") == len(available_migrations())
    finally:
        for conn in conns:
            await conn.close()


async def test_an_edited_migration_is_refused(empty_database: str) -> None:
    conn = await connect(empty_database)
    try:
        await migrate(conn)
        await conn.execute("UPDATE schema_migrations SET checksum = 'edited' WHERE version = '0001'")
        with pytest.raises(MigrationError, match="was changed after it was applied"):
            await migrate(conn)
    finally:
        await conn.close()


async def test_seed_is_idempotent_and_extends(empty_database: str) -> None:
    conn = await connect(empty_database)
    try:
        first = await seed(conn, 120, max_reviews=4)
        assert (first.categories, first.products) == (20, 120)
        assert first.inventory > 0
        assert first.reviews > 0
        again = await seed(conn, 120, max_reviews=4)
        assert (again.products, again.inventory, again.reviews) == (0, 0, 0)
        more = await seed(conn, 150, max_reviews=4)
        assert more.products == 30
        assert await conn.fetchval("SELECT count(*) FROM products") == 150
        assert await conn.fetchval("SELECT max(sku) FROM products") == "SKU-00000150"
    finally:
        await conn.close()
