"""Liveness, readiness and Prometheus metrics: mounted in every role."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from catalog.models import Health, Readiness
from catalog.routes.deps import MetricsDep, ServiceDep

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health)
async def healthz() -> Health:
    """Liveness: touches neither PostgreSQL nor the cache, so their outages never restart the task."""
    return Health(status="ok")


@router.get("/readyz", response_model=Readiness, responses={503: {"model": Readiness}})
async def readyz(service: ServiceDep) -> JSONResponse:
    """Ready when the database answers; a cache outage is only "degraded", still 200 (the app fails open)."""
    found = await service.readiness()
    body = Readiness(
        status="unavailable" if not found.database_ok else ("ready" if found.cache_ok else "degraded"),
        database="ok" if found.database_ok else "down",
        cache="ok" if found.cache_ok else "degraded",
        cache_breaker=found.cache_breaker,
    )
    return JSONResponse(body.model_dump(), status_code=200 if found.database_ok else 503)


@router.get("/metrics", response_class=Response, responses={200: {"content": {"text/plain": {}}}})
async def metrics(registry: MetricsDep) -> Response:
    """Prometheus exposition of this task's metrics."""
    return Response(generate_latest(registry.registry), media_type=CONTENT_TYPE_LATEST)
