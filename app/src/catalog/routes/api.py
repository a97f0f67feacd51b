"""The catalog API under /api (the ECS "api" role)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response, status

from catalog.models import (
    DECIMAL_TEXT,
    MAX_BIGINT,
    MAX_INT,
    MAX_PAGE_SIZE,
    Category,
    CategorySummary,
    ErrorBody,
    Product,
    ProductCreate,
    ProductPage,
    ProductUpdate,
    Review,
    ReviewCreate,
)
from catalog.routes.deps import ServiceDep
from catalog.strictjson import StrictJSONRoute

router = APIRouter(prefix="/api", tags=["catalog"], route_class=StrictJSONRoute)

ProductIdPath = Annotated[int, Path(ge=1, le=MAX_BIGINT, description="Product id."), DECIMAL_TEXT]
CategoryIdPath = Annotated[int, Path(ge=1, le=MAX_INT, description="Category id."), DECIMAL_TEXT]

_503: dict[int | str, dict[str, Any]] = {503: {"model": ErrorBody, "description": "The database is unavailable."}}
_404: dict[int | str, dict[str, Any]] = {404: {"model": ErrorBody, "description": "No such resource."}}
_409: dict[int | str, dict[str, Any]] = {409: {"model": ErrorBody, "description": "Conflicts with current state."}}
_422: dict[int | str, dict[str, Any]] = {
    422: {"description": "Invalid body or parameters, or a reference to a missing category."}
}
_400: dict[int | str, dict[str, Any]] = {400: {"model": ErrorBody, "description": "Malformed cursor or body."}}


def _json(body: bytes) -> Response:
    # The cache stores the exact JSON we serve: a hit is one Redis GET and no serialisation.
    return Response(body, media_type="application/json")


@router.get("/products/{product_id}", response_model=Product, responses={**_404, **_503})
async def get_product(product_id: ProductIdPath, service: ServiceDep) -> Response:
    """One product with its category, stock and rating."""
    return _json(await service.product_json(product_id))


@router.get("/products", response_model=ProductPage, responses={**_400, **_503})
async def list_products(
    service: ServiceDep,
    category: Annotated[int | None, Query(ge=1, le=MAX_INT, description="Only this category."), DECIMAL_TEXT] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE), DECIMAL_TEXT] = 20,
    cursor: Annotated[str | None, Query(max_length=64, description="next_cursor of the previous page.")] = None,
) -> Response:
    """Products in id order, one page at a time."""
    return _json(await service.product_page_json(category, cursor, limit))


@router.post(
    "/products",
    response_model=Product,
    status_code=status.HTTP_201_CREATED,
    responses={**_400, **_409, **_422, **_503},
)
async def create_product(body: ProductCreate, service: ServiceDep, response: Response) -> Product:
    """Create a product with its stock per warehouse."""
    product = await service.create_product(body)
    response.headers["Location"] = f"/api/products/{product.id}"
    return product


@router.patch("/products/{product_id}", response_model=Product, responses={**_400, **_404, **_409, **_422, **_503})
async def update_product(product_id: ProductIdPath, body: ProductUpdate, service: ServiceDep) -> Product:
    """Change some fields; send expected_version for optimistic concurrency."""
    return await service.update_product(product_id, body)


@router.delete(
    "/products/{product_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses={**_404, **_503},
)
async def delete_product(product_id: ProductIdPath, service: ServiceDep) -> Response:
    """Delete a product with its stock and reviews."""
    await service.delete_product(product_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/products/{product_id}/reviews",
    response_model=Review,
    status_code=status.HTTP_201_CREATED,
    responses={**_400, **_404, **_503},
)
async def add_review(product_id: ProductIdPath, body: ReviewCreate, service: ServiceDep) -> Review:
    """Review a product (changes its rating and its category's summary)."""
    return await service.add_review(product_id, body)


@router.get("/categories", response_model=list[Category], responses=_503)
async def list_categories(service: ServiceDep) -> Response:
    """Every category with its product count."""
    return _json(await service.categories_json())


@router.get("/categories/{category_id}/summary", response_model=CategorySummary, responses={**_404, **_503})
async def category_summary(category_id: CategoryIdPath, service: ServiceDep) -> Response:
    """Aggregates over the category's products: price range, stock, ratings, best rated."""
    return _json(await service.category_summary_json(category_id))
