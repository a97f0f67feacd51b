"""Request-scoped access to the lifespan's resources, as `Annotated` dependency aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from catalog.metrics import Metrics
from catalog.resources import Resources
from catalog.service import CatalogService


def get_resources(request: Request) -> Resources:
    """What the lifespan opened (pool, cache, service)."""
    resources: Resources = request.app.state.resources
    return resources


def get_service(request: Request) -> CatalogService:
    """The catalog service."""
    return get_resources(request).service


def get_metrics(request: Request) -> Metrics:
    """This app's metrics registry."""
    return get_resources(request).metrics


ServiceDep = Annotated[CatalogService, Depends(get_service)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]
