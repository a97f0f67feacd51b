"""Everything the app opens at startup and closes at shutdown, in one place routes and tools can import."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

import asyncpg

from catalog.cache import STRATEGIES, CacheLayer, RedisClient, build_cache
from catalog.cache.outbox import Outbox
from catalog.credentials import Credentials, credentials_from_settings
from catalog.db import connect, create_pool, unavailable_as_503
from catalog.errors import DatabaseUnavailableError
from catalog.metrics import Metrics
from catalog.migrate import migrate
from catalog.repository import CatalogRepository
from catalog.service import CatalogService
from catalog.settings import Settings

log = logging.getLogger(__name__)

RepositoryFactory = Callable[[asyncpg.Pool, Metrics, float], CatalogRepository]


@dataclass
class Resources:
    """What the lifespan opens and closes; routes reach it through `app.state.resources`."""

    settings: Settings
    metrics: Metrics
    pool: asyncpg.Pool
    cache: CacheLayer
    repository: CatalogRepository
    service: CatalogService

    async def close(self) -> None:
        """Close the cache, then the database pool (forcefully if connections do not come back in time)."""
        await self.cache.close()
        try:
            async with asyncio.timeout(5):
                await self.pool.close()
        except TimeoutError:
            self.pool.terminate()


async def _run_migrations(settings: Settings, credentials: Credentials, attempts: int = 5) -> None:
    # Its own connection as the schema owner (DATABASE_USER): with IAM the pool logs in as the app
    # user, which may not change the schema.
    delay = 1.0
    for attempt in range(1, attempts + 1):
        try:
            with unavailable_as_503():
                conn = await connect(settings, credentials)
                try:
                    applied = await migrate(conn, app_user=settings.database_app_user)
                finally:
                    await conn.close()
            log.info("migrations up to date", extra={"applied": applied})
            return
        except DatabaseUnavailableError:
            if attempt == attempts:
                raise
            log.warning("database not reachable for migrations, retrying", extra={"attempt": attempt})
            await asyncio.sleep(delay)
            delay *= 2


async def open_resources(
    settings: Settings,
    metrics: Metrics,
    *,
    repository_factory: RepositoryFactory = CatalogRepository,
    redis_client: RedisClient | None = None,
    credentials: Credentials | None = None,
) -> Resources:
    """Create the pool (connecting lazily), run migrations if asked, wire cache, repository and service."""
    credentials = credentials or credentials_from_settings(settings)
    pool = await create_pool(settings, credentials)
    try:
        if settings.run_migrations:
            await _run_migrations(settings, credentials)
        cache = await build_cache(settings, metrics, redis_client=redis_client, credentials=credentials)
    except BaseException:
        pool.terminate()
        raise
    repository = repository_factory(pool, metrics, settings.database_connect_timeout_seconds)
    cache.use_outbox(Outbox(repository, cache.keys.prefix, drain_seconds=settings.cache_outbox_drain_seconds))
    strategy = STRATEGIES[settings.cache_strategy](cache)
    service = CatalogService(repository, cache, strategy)
    return Resources(settings, metrics, pool, cache, repository, service)
