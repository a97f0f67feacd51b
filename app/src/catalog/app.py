"""The ASGI application: routers by role, lifespan-scoped pools, error handlers."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from http import HTTPStatus

import asyncpg
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from catalog import __version__
from catalog.cache import STRATEGIES, CacheStrategy, RedisCache, RedisClient
from catalog.db import create_pool, unavailable_as_503
from catalog.errors import DatabaseUnavailableError, ServiceError
from catalog.metrics import HttpMetricsMiddleware, Metrics
from catalog.migrate import migrate
from catalog.repository import CatalogRepository
from catalog.routes import api, bench, health, ops
from catalog.service import CatalogService
from catalog.settings import Settings, load_settings

log = logging.getLogger(__name__)

RepositoryFactory = Callable[[asyncpg.Pool, Metrics, float], CatalogRepository]


@dataclass
class Resources:
    """Everything the lifespan opens and closes; routes reach it through `app.state.resources`."""

    settings: Settings
    metrics: Metrics
    pool: asyncpg.Pool
    cache: RedisCache
    repository: CatalogRepository
    strategy: CacheStrategy
    service: CatalogService

    async def close(self) -> None:
        """Close Redis, then the database pool (forcefully if connections do not come back in time)."""
        await self.cache.close()
        try:
            async with asyncio.timeout(5):
                await self.pool.close()
        except TimeoutError:
            self.pool.terminate()


async def _run_migrations(pool: asyncpg.Pool, attempts: int = 5) -> None:
    delay = 1.0
    for attempt in range(1, attempts + 1):
        try:
            with unavailable_as_503():
                async with pool.acquire() as conn:
                    applied = await migrate(conn)
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
) -> Resources:
    """Create the pool (connecting lazily), run migrations if asked, wire cache, repository and service."""
    pool = await create_pool(settings)
    try:
        if settings.run_migrations:
            await _run_migrations(pool)
        cache = RedisCache.from_settings(settings, metrics, client=redis_client)
    except BaseException:
        pool.terminate()
        raise
    repository = repository_factory(pool, metrics, settings.database_connect_timeout_seconds)
    strategy = STRATEGIES[settings.cache_strategy](cache)
    service = CatalogService(repository, cache, strategy)
    return Resources(settings, metrics, pool, cache, repository, strategy, service)


async def _service_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ServiceError)
    if exc.status_code >= 500:
        log.warning("request failed", extra={"path": request.url.path, "error": exc.code, "detail": exc.detail})
    return JSONResponse({"error": exc.code, "detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    # Starlette's own errors (unknown route, wrong method, unparsable body) in the same shape as ours.
    assert isinstance(exc, StarletteHTTPException)
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        # Starlette names only the first matching route's methods; list every route on this path.
        allowed: set[str] = set()
        for route in request.app.router.routes:
            methods = getattr(route, "methods", None)
            if methods and route.matches(request.scope)[0] != Match.NONE:
                allowed |= methods
        headers["Allow"] = ", ".join(sorted(allowed))
    code = HTTPStatus(exc.status_code).phrase.lower().replace(" ", "_")
    return JSONResponse({"error": code, "detail": str(exc.detail)}, status_code=exc.status_code, headers=headers)


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    log.error("unhandled error", exc_info=exc, extra={"path": request.url.path})
    return JSONResponse({"error": "internal_error", "detail": "internal error"}, status_code=500)


def create_app(
    settings: Settings | None = None,
    *,
    repository_factory: RepositoryFactory = CatalogRepository,
    redis_client: RedisClient | None = None,
) -> FastAPI:
    """Build the app for `settings` (default: from the environment); the factories are seams for tests."""
    settings = settings or load_settings()
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        resources = await open_resources(
            settings, metrics, repository_factory=repository_factory, redis_client=redis_client
        )
        app.state.resources = resources
        log.info(
            "catalog service started",
            extra={
                "role": settings.service_role,
                "strategy": settings.cache_strategy,
                "env": settings.app_env,
            },
        )
        try:
            yield
        finally:
            await resources.close()
            log.info("catalog service stopped")

    app = FastAPI(
        title="Catalog service",
        version=__version__,
        description="Product catalog over PostgreSQL with a Redis cache in front.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.metrics = metrics
    app.include_router(health.router)
    if settings.service_role in ("all", "api"):
        app.include_router(api.router)
    if settings.service_role in ("all", "ops"):
        app.include_router(ops.router)
    if settings.bench_routes:
        app.include_router(bench.router)
    app.add_exception_handler(ServiceError, _service_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
    app.add_middleware(HttpMetricsMiddleware, metrics=metrics)
    return app
