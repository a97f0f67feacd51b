"""Request and response bodies of the HTTP API."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Self

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, model_validator

from catalog.cache.keys import (
    LOGICAL_KEY_EXAMPLES,
    LOGICAL_KEY_PATTERN,
    LOGICAL_PREFIX_EXAMPLES,
    LOGICAL_PREFIX_PATTERN,
)

MAX_BIGINT = 2**53 - 1
"""Largest product id the API accepts: ids stay exact as JSON numbers in any client (JavaScript included)."""
MAX_INT = 2**31 - 1
MAX_PAGE_SIZE = 100


def _storable_text(value: str) -> str:
    # PostgreSQL text refuses NUL, and lone surrogates cannot be encoded as UTF-8: reject both here
    # so they come back as a 422 naming the field, not as a database error.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text (no lone surrogates)") from None
    return value


def _json_integer(value: object) -> object:
    # Lax mode would read true as 1 and "12" as 12; JSON has real integers (3.0 is still fine).
    if isinstance(value, bool | str):
        raise ValueError("must be a JSON integer")
    return value


_JSON_INT = BeforeValidator(_json_integer)
_DECIMAL = re.compile(r"[0-9]{1,16}")


def _decimal_text(value: object) -> object:
    # Path and query values arrive as text, which lax int parsing reads generously: "+1", " 1", "1.0",
    # "1_0" (= 10) and non-ASCII digits all pass int(). An id in a URL is plain ASCII digits.
    if isinstance(value, str) and not _DECIMAL.fullmatch(value):
        raise ValueError("Input should be a valid integer: ASCII digits only")
    return value


DECIMAL_TEXT = BeforeValidator(_decimal_text)
"""For integers given as text (path and query parameters)."""
Int = Annotated[int, _JSON_INT]
# The pattern only documents the NUL rule in the OpenAPI schema (clients and fuzzers read it); the
# validator enforces both rules with a message naming the field.
Text = Annotated[str, AfterValidator(_storable_text), Field(json_schema_extra={"pattern": "^[^\\u0000]*$"})]
Name = Annotated[Text, Field(min_length=1, max_length=200)]
Description = Annotated[Text, Field(max_length=5000)]
Sku = Annotated[str, Field(pattern=r"^[A-Z0-9][A-Z0-9-]{2,39}$", examples=["SKU-00000042"])]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", examples=["USD"])]
# The validator goes after Field so the bounds stay in the JSON schema as minimum/maximum.
PriceCents = Annotated[int, Field(ge=0, le=100_000_000), _JSON_INT]
WarehouseCode = Annotated[str, Field(pattern=r"^[A-Z]{3}[0-9]?$", examples=["FRA", "IAD1"])]
Quantity = Annotated[int, Field(ge=0, le=1_000_000_000), _JSON_INT]
StockLevels = Annotated[
    dict[WarehouseCode, Quantity], Field(max_length=50, json_schema_extra={"additionalProperties": False})
]
CategoryId = Annotated[int, Field(ge=1, le=MAX_INT), _JSON_INT]
ProductId = Annotated[int, Field(ge=1, le=MAX_BIGINT), _JSON_INT]


def _not_nullable(schema: dict[str, Any]) -> None:
    # Optional fields of a PATCH-style body may be omitted but not sent as null: say so in the schema.
    for prop in schema.get("properties", {}).values():
        variants = prop.get("anyOf")
        if variants and {"type": "null"} in variants:
            rest = [v for v in variants if v != {"type": "null"}]
            prop.pop("anyOf")
            prop.pop("default", None)
            if len(rest) == 1:
                prop.update(rest[0])
            else:
                prop["anyOf"] = rest


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _OmitNotNull(_Body):
    """A body whose optional fields may be left out but not sent as null (the schema says the same)."""

    @model_validator(mode="before")
    @classmethod
    def _no_nulls(cls, data: object) -> object:
        if isinstance(data, dict):
            nulls = sorted(str(key) for key, value in data.items() if value is None and key in cls.model_fields)
            if nulls:
                raise ValueError(f"{', '.join(nulls)} must not be null (omit a field to keep its value)")
        return data


class CategoryRef(BaseModel):
    """A category as it appears inside other resources."""

    id: int
    slug: str
    name: str


class Category(CategoryRef):
    """A category with the number of products in it."""

    product_count: int


class Stock(BaseModel):
    """Units on hand, in total and per warehouse."""

    total: int
    warehouses: dict[str, int]


class Rating(BaseModel):
    """Review aggregate: mean rating (1-5) and number of reviews."""

    average: float | None
    count: int


class Product(BaseModel):
    """A product with its category, inventory and review aggregates."""

    id: int
    sku: str
    name: str
    description: str
    category: CategoryRef
    price_cents: int
    currency: str
    stock: Stock
    rating: Rating
    version: int = Field(description="Incremented by every change; send it back as expected_version to update.")
    created_at: datetime
    updated_at: datetime


class ProductPage(BaseModel):
    """One page of products in id order; pass next_cursor as `cursor` for the next page."""

    items: list[Product]
    next_cursor: str | None


class PriceStats(BaseModel):
    """Price range and mean of a category's products, in cents."""

    min: int | None
    max: int | None
    average: float | None


class StockStats(BaseModel):
    """Inventory across a category."""

    total: int
    out_of_stock_products: int


class TopProduct(BaseModel):
    """A best-rated product of a category."""

    id: int
    name: str
    rating: Rating


class CategorySummary(BaseModel):
    """Aggregates over every product of a category: the expensive read."""

    category: CategoryRef
    product_count: int
    price_cents: PriceStats
    stock: StockStats
    reviews: Rating
    top_rated: list[TopProduct]


class Review(BaseModel):
    """One customer review."""

    id: int
    product_id: int
    rating: int
    body: str
    created_at: datetime


class ProductCreate(_Body):
    """A new product; `stock` maps warehouse codes to units on hand."""

    sku: Sku
    name: Name
    description: Description = ""
    category_id: CategoryId
    price_cents: PriceCents
    currency: Currency = "USD"
    stock: StockLevels = Field(default_factory=dict)


def _product_update_schema(schema: dict[str, Any]) -> None:
    _not_nullable(schema)
    schema["anyOf"] = [{"required": [name]} for name in _UPDATABLE]


_UPDATABLE = ("name", "description", "category_id", "price_cents", "currency", "stock")


class ProductUpdate(_OmitNotNull):
    """Fields to change; omitted ones keep their value. `stock` sets the quantities of the named warehouses."""

    model_config = ConfigDict(json_schema_extra=_product_update_schema)

    name: Name | None = None
    description: Description | None = None
    category_id: CategoryId | None = None
    price_cents: PriceCents | None = None
    currency: Currency | None = None
    stock: StockLevels | None = None
    expected_version: Annotated[int, Field(ge=1, le=MAX_INT), _JSON_INT] | None = Field(
        default=None, description="Reject the update with 409 unless the product has this version."
    )

    @model_validator(mode="after")
    def _something_to_change(self) -> Self:
        changes = self.model_fields_set - {"expected_version"}
        if not changes:
            raise ValueError(f"at least one of {', '.join(_UPDATABLE)} is required")
        return self

    def changes(self) -> dict[str, Any]:
        """The columns to update, without stock and expected_version."""
        return {
            name: getattr(self, name)
            for name in sorted(self.model_fields_set)
            if name not in {"stock", "expected_version"}
        }


class ReviewCreate(_Body):
    """A review of a product."""

    rating: Annotated[int, Field(ge=1, le=5), _JSON_INT]
    body: Annotated[Text, Field(max_length=2000)] = ""


class ErrorBody(BaseModel):
    """Every error the service answers itself (validation errors use FastAPI's `detail` list)."""

    error: str = Field(examples=["not_found"])
    detail: str = Field(examples=["product 42 does not exist"])


class Health(BaseModel):
    """Liveness: the process answers."""

    status: str


class Readiness(BaseModel):
    """Readiness: the database is reachable; a cache outage only degrades (the app fails open)."""

    status: str = Field(examples=["ready", "degraded", "unavailable"])
    database: str = Field(examples=["ok", "down"])
    cache: str = Field(examples=["ok", "degraded"])
    cache_breaker: str = Field(examples=["closed", "open"])


LogicalKey = Annotated[str, Field(pattern=LOGICAL_KEY_PATTERN, examples=LOGICAL_KEY_EXAMPLES)]
LogicalPrefix = Annotated[str, Field(pattern=LOGICAL_PREFIX_PATTERN, examples=LOGICAL_PREFIX_EXAMPLES)]


def _exactly_one_schema(schema: dict[str, Any]) -> None:
    _not_nullable(schema)
    schema["oneOf"] = [{"required": ["key"]}, {"required": ["prefix"]}]


class InvalidateRequest(_OmitNotNull):
    """Exactly one of `key` (a logical key such as product:42) or `prefix` ("" means the whole namespace)."""

    model_config = ConfigDict(json_schema_extra=_exactly_one_schema)

    key: LogicalKey | None = None
    prefix: LogicalPrefix | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        if (self.key is None) == (self.prefix is None):
            raise ValueError("give exactly one of key or prefix")
        return self


class InvalidateResult(BaseModel):
    """How many cache keys were removed (leases included; 0 for a Memcached flush, which does not say)."""

    deleted: int


class WarmRequest(_Body):
    """Products to cache: the given ids, else the first `top` ids; plus every category summary."""

    product_ids: Annotated[list[ProductId], Field(max_length=1000)] | None = None
    top: Annotated[int, Field(ge=0, le=10_000), _JSON_INT] = 100
    categories: StrictBool = True


class WarmResult(BaseModel):
    """Entries written; skipped ones were being filled by someone else or had no row."""

    products: int
    categories: int
    skipped: int


class CacheStats(BaseModel):
    """Counters of this task's cache layer and, when reachable, the cache server's own."""

    strategy: str
    backend: str = Field(examples=["redis", "memcached"])
    breaker: str
    counters: dict[str, int]
    database_queries: int
    pending_invalidations: int
    server: dict[str, Any] | None = Field(description="Redis INFO fields, or memcached stats per node.")
