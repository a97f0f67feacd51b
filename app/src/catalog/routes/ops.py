"""Cache operations under /ops (the ECS "ops" role)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from catalog.models import CacheStats, ErrorBody, InvalidateRequest, InvalidateResult, WarmRequest, WarmResult
from catalog.routes.deps import ServiceDep
from catalog.strictjson import StrictJSONRoute

router = APIRouter(prefix="/ops", tags=["ops"], route_class=StrictJSONRoute)

_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "Unparsable body."},
    503: {"model": ErrorBody, "description": "The cache or the database is down."},
}


@router.get("/cache/stats", response_model=CacheStats)
async def cache_stats(service: ServiceDep) -> CacheStats:
    """This task's cache counters, the breaker state and the cache server's own statistics."""
    return await service.stats()


@router.post("/cache/invalidate", response_model=InvalidateResult, responses=_ERRORS)
async def invalidate(body: InvalidateRequest, service: ServiceDep) -> InvalidateResult:
    """Drop one logical key (product:42, summary:3, list:all, categories:all) or every key under a prefix."""
    if body.key is not None:
        return InvalidateResult(deleted=await service.invalidate_key(body.key))
    assert body.prefix is not None
    return InvalidateResult(deleted=await service.invalidate_prefix(body.prefix))


@router.post("/cache/warm", response_model=WarmResult, responses=_ERRORS)
async def warm(body: WarmRequest, service: ServiceDep) -> WarmResult:
    """Load products and category summaries into the cache."""
    return await service.warm(body)
