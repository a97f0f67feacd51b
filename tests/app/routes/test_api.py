"""The HTTP API against the real PostgreSQL and Redis: CRUD, pagination, errors, ops, roles."""

from __future__ import annotations

from typing import Any

import pytest

from tests.app.conftest import SettingsFactory
from tests.app.helpers import AppUnderTest, new_product, running_app
from tests.app.servers import free_port


async def test_health_endpoints(svc: AppUnderTest) -> None:
    assert (await svc.client.get("/healthz")).json() == {"status": "ok"}
    ready = await svc.client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "database": "ok", "cache": "ok", "cache_breaker": "closed"}


async def test_metrics_expose_cache_database_and_latency(svc: AppUnderTest) -> None:
    await svc.client.get("/api/products/1")
    await svc.client.get("/api/products/1")
    text = (await svc.client.get("/metrics")).text
    assert 'catalog_cache_hits_total{entity="product",kind="positive"} 1.0' in text
    assert 'catalog_cache_misses_total{entity="product"} 1.0' in text
    assert 'catalog_db_queries_total{query="get_product"} 1.0' in text
    assert (
        'catalog_http_request_duration_seconds_bucket{le="0.005",method="GET",route="/api/products/{product_id}"'
        in text
    )
    assert "catalog_db_query_duration_seconds_bucket" in text


async def test_product_crud(svc: AppUnderTest) -> None:
    created = await new_product(svc.client, name="Walnut desk", stock={"FRA": 2, "IAD1": 5})
    assert created["stock"] == {"total": 7, "warehouses": {"FRA": 2, "IAD1": 5}}
    assert created["version"] == 1
    assert created["rating"] == {"average": None, "count": 0}
    url = f"/api/products/{created['id']}"
    assert (await svc.client.get(url)).json() == created

    patched = await svc.client.patch(url, json={"price_cents": 2500, "stock": {"FRA": 0}, "expected_version": 1})
    assert patched.status_code == 200, patched.text
    assert patched.json()["price_cents"] == 2500
    assert patched.json()["stock"] == {"total": 5, "warehouses": {"FRA": 0, "IAD1": 5}}
    assert patched.json()["version"] == 2

    review = await svc.client.post(f"{url}/reviews", json={"rating": 4, "body": "Sturdy."})
    assert review.status_code == 201
    assert (await svc.client.get(url)).json()["rating"] == {"average": 4.0, "count": 1}

    assert (await svc.client.delete(url)).status_code == 204
    gone = await svc.client.get(url)
    assert gone.status_code == 404
    assert gone.json() == {"error": "not_found", "detail": f"product {created['id']} does not exist"}
    assert (await svc.client.delete(url)).status_code == 404


async def test_pagination_walks_a_category_once(svc: AppUnderTest) -> None:
    seen: list[int] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"category": 3, "limit": 7}
        if cursor:
            params["cursor"] = cursor
        page = (await svc.client.get("/api/products", params=params)).json()
        seen += [item["id"] for item in page["items"]]
        assert all(item["category"]["id"] == 3 for item in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(set(seen))
    summary = (await svc.client.get("/api/categories/3/summary")).json()
    assert summary["product_count"] == len(seen)


async def test_category_summary_and_list(svc: AppUnderTest) -> None:
    summary = await svc.client.get("/api/categories/2/summary")
    assert summary.status_code == 200
    body = summary.json()
    assert body["category"]["id"] == 2
    assert body["product_count"] > 0
    assert body["reviews"]["count"] >= 0
    assert len(body["top_rated"]) <= 5
    categories = (await svc.client.get("/api/categories")).json()
    assert len(categories) == 20
    assert sum(c["product_count"] for c in categories) >= 300


@pytest.mark.parametrize(
    ("method", "url", "body", "status", "needle"),
    [
        ("get", "/api/products/0", None, 422, "greater than or equal to 1"),
        ("get", "/api/products/abc", None, 422, "valid integer"),
        ("get", "/api/products?limit=1000", None, 422, "less than or equal to 100"),
        ("get", "/api/products?cursor=bm9wZQ", None, 400, "is not a cursor this API issued"),
        ("get", "/api/categories/999999/summary", None, 404, "category 999999 does not exist"),
        ("post", "/api/products", {"name": "x"}, 422, "sku"),
        ("post", "/api/products", {"sku": "ok-1", "name": "x", "category_id": 1, "price_cents": 1}, 422, "pattern"),
        ("post", "/api/products", {"sku": "OK-1", "name": "x", "category_id": 1, "price_cents": -1}, 422, "greater"),
        ("post", "/api/products", {"sku": "OK-1", "name": "a\u0000b", "category_id": 1, "price_cents": 1}, 422, "NUL"),
        (
            "post",
            "/api/products",
            {"sku": "OK-1", "name": "x", "category_id": 1, "price_cents": 1, "x": 1},
            422,
            "Extra",
        ),
        (
            "post",
            "/api/products",
            {"sku": "OK-1", "name": "x", "category_id": 99999, "price_cents": 1},
            422,
            "category 99999 does not exist",
        ),
        ("patch", "/api/products/1", {}, 422, "at least one of"),
        ("patch", "/api/products/1", {"name": None}, 422, "name must not be null"),
        ("patch", "/api/products/1", {"name": "x", "expected_version": 999}, 409, "not expected_version 999"),
        ("patch", "/api/products/99999999", {"name": "x"}, 404, "product 99999999 does not exist"),
        ("post", "/api/products/1/reviews", {"rating": 6}, 422, "less than or equal to 5"),
        ("post", "/ops/cache/invalidate", {"key": "product:1", "prefix": "product:"}, 422, "exactly one"),
        ("post", "/ops/cache/invalidate", {"key": "users:*"}, 422, "pattern"),
    ],
)
async def test_bad_input_is_a_4xx_with_a_clear_message(
    svc: AppUnderTest, method: str, url: str, body: dict[str, Any] | None, status: int, needle: str
) -> None:
    response = await svc.client.request(method, url, json=body)
    assert response.status_code == status, response.text
    assert needle in response.text


async def test_invalid_json_and_duplicate_sku(svc: AppUnderTest) -> None:
    response = await svc.client.post(
        "/api/products", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert "JSON" in response.text
    created = await new_product(svc.client)
    duplicate = await svc.client.post(
        "/api/products", json={"sku": created["sku"], "name": "x", "category_id": 1, "price_cents": 1}
    )
    assert duplicate.status_code == 409
    assert duplicate.json() == {"error": "conflict", "detail": f"a product with sku {created['sku']!r} already exists"}


async def test_ops_invalidate_warm_and_stats(svc: AppUnderTest) -> None:
    await svc.client.get("/api/products/5")
    before = svc.queries
    assert (await svc.client.post("/ops/cache/invalidate", json={"key": "product:5"})).json() == {"deleted": 1}
    await svc.client.get("/api/products/5")
    assert svc.queries == before + 1

    deleted = (await svc.client.post("/ops/cache/invalidate", json={"prefix": "product:"})).json()["deleted"]
    assert deleted >= 1

    warmed = await svc.client.post("/ops/cache/warm", json={"product_ids": [7, 8, 9, 99999999], "categories": True})
    assert warmed.status_code == 200
    assert warmed.json() == {"products": 4, "categories": 20, "skipped": 0}
    before = svc.queries
    for product_id in (7, 8, 9):
        assert (await svc.client.get(f"/api/products/{product_id}")).status_code == 200
    assert (await svc.client.get("/api/products/99999999")).status_code == 404  # warmed as a negative entry
    assert (await svc.client.get("/api/categories/4/summary")).status_code == 200
    assert svc.queries == before

    stats = (await svc.client.get("/ops/cache/stats")).json()
    assert stats["strategy"] == "cache-aside"
    assert stats["breaker"] == "closed"
    assert stats["counters"]["hits"] >= 4
    assert stats["database_queries"] == svc.queries
    assert stats["backend"] == "redis"
    assert stats["server"]["redis_version"]


@pytest.mark.parametrize(
    ("role", "api_status", "ops_status"), [("api", 200, 404), ("ops", 404, 200), ("all", 200, 200)]
)
async def test_service_role_mounts_routers(
    make_settings: SettingsFactory, role: str, api_status: int, ops_status: int
) -> None:
    async with running_app(make_settings(SERVICE_ROLE=role)) as app:
        assert (await app.client.get("/api/products/1")).status_code == api_status
        assert (await app.client.get("/ops/cache/stats")).status_code == ops_status
        for path in ("/healthz", "/readyz", "/metrics"):
            assert (await app.client.get(path)).status_code == 200
        assert (await app.client.get("/bench/noop")).status_code == 404


async def test_bench_routes_only_when_enabled(make_settings: SettingsFactory) -> None:
    async with running_app(make_settings(BENCH_ROUTES="true")) as app:
        await app.client.get("/api/products/3")
        raw = await app.client.get("/bench/redis-get/product:3")
        assert raw.content.startswith(b"V1\n{")
        assert (await app.client.get("/bench/db-get/3")).json()["name"]
        assert (await app.client.get("/bench/noop")).json() == {"ok": True}
        assert "/bench/noop" not in (await app.client.get("/openapi.json")).json()["paths"]


async def test_openapi_documents_the_contract(svc: AppUnderTest) -> None:
    schema = (await svc.client.get("/openapi.json")).json()
    paths = schema["paths"]
    for path in (
        "/api/products/{product_id}",
        "/api/products",
        "/api/categories/{category_id}/summary",
        "/ops/cache/stats",
        "/ops/cache/invalidate",
        "/ops/cache/warm",
        "/healthz",
        "/readyz",
        "/metrics",
    ):
        assert path in paths
    get_product = paths["/api/products/{product_id}"]["get"]
    assert get_product["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/Product")


async def test_x_cache_says_where_every_cached_read_came_from(svc: AppUnderTest) -> None:
    for url in ("/api/products/61", "/api/products?category=5&limit=3", "/api/categories", "/api/categories/5/summary"):
        assert (await svc.client.get(url)).headers["x-cache"] == "miss", url
        assert (await svc.client.get(url)).headers["x-cache"] == "hit", url
    missing = "/api/products/999999999"
    assert (await svc.client.get(missing)).headers["x-cache"] == "miss"
    negative = await svc.client.get(missing)
    assert (negative.status_code, negative.headers["x-cache"]) == (404, "hit")  # a cached "no such row"
    created = await new_product(svc.client)
    write = await svc.client.patch(f"/api/products/{created['id']}", json={"name": "x"})
    assert "x-cache" not in write.headers  # writes, health and ops are not cached reads
    assert "x-cache" not in (await svc.client.get("/healthz")).headers
    assert "x-cache" not in (await svc.client.get("/ops/cache/stats")).headers


async def test_x_cache_bypass_when_the_cache_is_unreachable(make_settings: SettingsFactory) -> None:
    async with running_app(make_settings(REDIS_PORT=str(free_port()), REDIS_BREAKER_RESET_SECONDS="30")) as app:
        for url in ("/api/products/62", "/api/products?limit=2", "/api/categories/6/summary"):
            assert (await app.client.get(url)).headers["x-cache"] == "bypass", url
