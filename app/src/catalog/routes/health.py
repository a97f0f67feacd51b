"""Liveness, readiness and Prometheus metrics: mounted in every role."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from catalog.errors import DatabaseUnavailableError
from catalog.models import Health, Readiness
from catalog.routes.deps import ResourcesDep

router = APIRouter(tags=["health"])

READY_TIMEOUT_SECONDS = 2.0


@router.get("/healthz", response_model=Health)
async def healthz() -> Health:
    """Liveness: touches neither PostgreSQL nor Redis, so their outages never restart the task."""
    return Health(status="ok")


@router.get("/readyz", response_model=Readiness, responses={503: {"model": Readiness}})
async def readyz(resources: ResourcesDep) -> JSONResponse:
    """Ready when the database answers; a cache outage is only "degraded", still 200 (the app fails open)."""
    try:
        # Bounded well below an ALB health-check timeout, even if PostgreSQL stops answering.
        async with asyncio.timeout(READY_TIMEOUT_SECONDS):
            await resources.repository.ping()
        database = "ok"
    except (DatabaseUnavailableError, TimeoutError):
        database = "down"
    cache_ok = await resources.cache.ping()
    body = Readiness(
        status="unavailable" if database == "down" else ("ready" if cache_ok else "degraded"),
        database=database,
        cache="ok" if cache_ok else "degraded",
        cache_breaker=resources.cache.breaker.state,
    )
    return JSONResponse(body.model_dump(), status_code=503 if database == "down" else 200)


@router.get("/metrics", response_class=Response, responses={200: {"content": {"text/plain": {}}}})
async def metrics(resources: ResourcesDep) -> Response:
    """Prometheus exposition of this task's metrics."""
    return Response(generate_latest(resources.metrics.registry), media_type=CONTENT_TYPE_LATEST)
