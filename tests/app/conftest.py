"""Fixtures for the catalog service: a uniquely named database per session, a Redis key prefix per test.

Several test processes (pytest-xdist workers) can run at once against the shared PostgreSQL and
Redis: each worker creates and drops its own `catalog_test_<random>` database, and each test uses
its own Redis key prefix, deleted afterwards.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Callable, Iterator

import pytest
import redis
from catalog.settings import Settings, load_settings

from tests.app.helpers import (
    PG_HOST,
    PG_PORT,
    REDIS_PORT,
    AppUnderTest,
    admin_sql,
    create_seeded_database,
    delete_prefix,
    running_app,
)
from tests.app.servers import MemcachedServer, ensure_packages


@pytest.fixture(scope="session")
def database() -> Iterator[str]:
    """This process's own seeded database, dropped at the end of the session."""
    name = f"catalog_test_{secrets.token_hex(4)}"
    asyncio.run(create_seeded_database(name))
    try:
        yield name
    finally:
        asyncio.run(admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A key prefix no other test uses; its keys are deleted afterwards."""
    prefix = f"cattest:{secrets.token_hex(5)}:"
    yield prefix
    delete_prefix(prefix)


@pytest.fixture
def sync_redis() -> Iterator[redis.Redis]:
    """A plain client of the shared Redis, for looking at what the app stored."""
    client = redis.Redis(host="127.0.0.1", port=REDIS_PORT)
    yield client
    client.close()


SettingsFactory = Callable[..., Settings]


@pytest.fixture
def make_settings(database: str, redis_prefix: str) -> SettingsFactory:
    """Settings for this test's database and key prefix; keyword arguments override (env-style names)."""

    def make(**overrides: str) -> Settings:
        env = {
            "APP_ENV": "dev",
            "DATABASE_HOST": PG_HOST,
            "DATABASE_PORT": str(PG_PORT),
            "DATABASE_NAME": database,
            "DATABASE_USER": "postgres",
            "DATABASE_POOL_SIZE": "5",
            "REDIS_HOST": "127.0.0.1",
            "REDIS_PORT": str(REDIS_PORT),
            "CACHE_KEY_PREFIX": redis_prefix,
            "REDIS_BREAKER_RESET_SECONDS": "0.3",
            "LOG_LEVEL": "WARNING",
        }
        env.update(overrides)
        return load_settings(env)

    return make


@pytest.fixture
async def svc(make_settings: SettingsFactory) -> AsyncIterator[AppUnderTest]:
    """The app with default settings (cache-aside)."""
    async with running_app(make_settings()) as running:
        yield running


@pytest.fixture(scope="session")
def memcached_installed() -> None:
    """Debian's memcached, installed by the repository's installer when missing (a fresh CI machine)."""
    ensure_packages("memcached")


@pytest.fixture
def memcached(memcached_installed: None) -> Iterator[MemcachedServer]:
    """A private memcached on a free port, stopped afterwards."""
    server = MemcachedServer().start()
    try:
        yield server
    finally:
        server.stop()
