"""Request-scoped access to the lifespan's resources, as `Annotated` dependency aliases."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request

from catalog.service import CatalogService

if TYPE_CHECKING:
    from catalog.app import Resources


def get_resources(request: Request) -> Resources:
    """What the lifespan opened (pool, cache, service)."""
    resources: Resources = request.app.state.resources
    return resources


def get_service(request: Request) -> CatalogService:
    """The catalog service."""
    service: CatalogService = request.app.state.resources.service
    return service


ResourcesDep = Annotated["Resources", Depends(get_resources)]
ServiceDep = Annotated[CatalogService, Depends(get_service)]
