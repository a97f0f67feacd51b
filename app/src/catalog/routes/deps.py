"""Request-scoped access to the lifespan's resources, as `Annotated` dependency aliases.

Async on purpose: FastAPI runs a sync dependency in a worker thread, a thread hop per request.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from catalog.metrics import Metrics
from catalog.resources import Resources
from catalog.service import CatalogService


async def get_resources(request: Request) -> Resources:
    """What the lifespan opened (pool, cache, service)."""
    resources: Resources = request.app.state.resources
    return resources


async def get_service(request: Request) -> CatalogService:
    """The catalog service."""
    resources: Resources = request.app.state.resources
    return resources.service


async def get_metrics(request: Request) -> Metrics:
    """This app's metrics registry."""
    resources: Resources = request.app.state.resources
    return resources.metrics


ServiceDep = Annotated[CatalogService, Depends(get_service)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]
