"""The ASGI application: routers by role, lifespan-scoped pools, error handlers."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.body_limit import RequestBodyLimitMiddleware
from starlette.routing import Match
from starlette.types import Receive, Scope, Send

from catalog import __version__
from catalog.access import RequestContextMiddleware
from catalog.cache import RedisClient
from catalog.credentials import Credentials
from catalog.errors import ServiceError
from catalog.fastpath import CachedProductRead, service_error_response, unexpected_error_response
from catalog.metrics import HttpMetricsMiddleware, Metrics
from catalog.repository import CatalogRepository
from catalog.resources import RepositoryFactory, open_resources
from catalog.routes import api, bench, health, ops
from catalog.settings import Settings, load_settings
from catalog.strictjson import validation_error

log = logging.getLogger(__name__)


async def _service_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ServiceError)
    return service_error_response(exc, request.url.path)


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
    return unexpected_error_response(exc, request.url.path)


@dataclass(frozen=True)
class CachedProductReadConfig:
    """What the fast path needs from the app: its metrics and whether the access log is on."""

    metrics: Metrics
    access_log: bool


class CatalogApp(FastAPI):
    """FastAPI with the cached product read (`catalog.fastpath`) answered before the framework.

    A request the fast path takes skips FastAPI's and Starlette's `__call__` and the whole middleware
    stack (every layer's wrapped `send`); every other request goes through them unchanged.
    """

    def __init__(self, *, fast_read: CachedProductReadConfig | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._fast_read = (
            None
            if fast_read is None
            else CachedProductRead(self.state, metrics=fast_read.metrics, access_log=fast_read.access_log)
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        fast_read = self._fast_read
        if fast_read is not None:
            product_id = fast_read.match(scope)
            if product_id is not None:
                scope["app"] = self  # as Starlette sets it: handlers and logs may look for it
                await fast_read.answer(scope, product_id, send)
                return
        await super().__call__(scope, receive, send)


def create_app(
    settings: Settings | None = None,
    *,
    repository_factory: RepositoryFactory = CatalogRepository,
    redis_client: RedisClient | None = None,
    credentials: Credentials | None = None,
) -> FastAPI:
    """Build the app for `settings` (default: from the environment); the keyword arguments are seams."""
    settings = settings or load_settings()
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        resources = await open_resources(
            settings,
            metrics,
            repository_factory=repository_factory,
            redis_client=redis_client,
            credentials=credentials,
        )
        app.state.resources = resources
        log.info(
            "catalog service started",
            extra={
                "role": settings.service_role,
                "strategy": settings.cache_strategy,
                "cache_backend": settings.cache_backend,
                "env": settings.app_env,
            },
        )
        try:
            yield
        finally:
            await resources.close()
            log.info("catalog service stopped")

    app = CatalogApp(
        # The API role answers a cached product read before the framework (and the body limit: it
        # passes on any request that carries a body).
        fast_read=CachedProductReadConfig(metrics, settings.access_log)
        if settings.service_role in ("all", "api")
        else None,
        title="Catalog service",
        version=__version__,
        description="Product catalog over PostgreSQL with a Redis or Memcached cache in front.",
        lifespan=lifespan,
        # The service exports Prometheus metrics and JSON logs itself and sets up no OpenTelemetry
        # provider; FastAPI's native telemetry would still look for one on every request (environment
        # and provider lookups: ~5% of a cached read, issue 18's profile).
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.include_router(health.router)
    if settings.service_role in ("all", "api"):
        app.include_router(api.router)
    if settings.service_role in ("all", "ops"):
        app.include_router(ops.router)
    if settings.bench_routes:
        app.include_router(bench.router)
    app.add_exception_handler(ServiceError, _service_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(Exception, _unexpected_error)
    # Starlette's body limit: a Content-Length over the limit is a 413 before any byte is read, and a
    # streamed body is cut off with a 413 at the limit (FastAPI re-raises it to our JSON handler).
    # Installed here rather than through FastAPI(max_body_size=...) so the early 413 passes through
    # RequestContextMiddleware, which gives it the JSON error shape.
    app.add_middleware(RequestBodyLimitMiddleware, max_body_size=settings.max_request_body_bytes)
    app.add_middleware(HttpMetricsMiddleware, metrics=metrics)
    app.add_middleware(
        RequestContextMiddleware, access_log=settings.access_log, max_body_bytes=settings.max_request_body_bytes
    )
    return app
