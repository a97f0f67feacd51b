"""Baselines for the benchmark suite, mounted only with BENCH_ROUTES=true.

They go through the same middleware and dependency injection as the real routes, so a comparison
measures the cache layer, not the framework.
"""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Path, Response

from catalog.models import DECIMAL_TEXT, MAX_BIGINT
from catalog.routes.deps import ServiceDep

router = APIRouter(prefix="/bench", tags=["bench"], include_in_schema=False)


@router.get("/noop")
async def noop() -> Response:
    """No I/O at all."""
    return Response(b'{"ok":true}', media_type="application/json")


@router.get("/redis-get/{logical_key}")
async def redis_get(logical_key: Annotated[str, Path(max_length=64)], service: ServiceDep) -> Response:
    """Exactly one cache GET of the entry of `logical_key` (e.g. product:42), bytes as stored."""
    raw = await service.bench_cache_get(logical_key)
    return Response(raw or b"null", media_type="application/json")


@router.get("/db-get/{product_id}")
async def db_get(product_id: Annotated[int, Path(ge=1, le=MAX_BIGINT), DECIMAL_TEXT], service: ServiceDep) -> Response:
    """Exactly one primary-key SELECT."""
    name = await service.bench_db_get(product_id)
    return Response(json.dumps({"name": name}).encode(), media_type="application/json")
