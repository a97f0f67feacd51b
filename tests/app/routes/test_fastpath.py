"""The cached product read's own ASGI path answers exactly as the FastAPI route it stands in front of."""

from __future__ import annotations

from catalog.app import create_app
from catalog.fastpath import PRODUCT_PATH
from catalog.routes.deps import get_service
from catalog.service import CatalogService
from catalog.settings import load_settings
from fastapi import Request

from tests.app.helpers import AppUnderTest


def test_the_template_it_reports_is_the_fastapi_route() -> None:
    # One home for the path: if the route moves, the fast path must move with it.
    assert PRODUCT_PATH in create_app(load_settings({})).openapi()["paths"]


async def test_a_read_bypasses_the_router_with_the_same_answer(svc: AppUnderTest) -> None:
    injected: list[str] = []

    async def recording_service(request: Request) -> CatalogService:
        injected.append(request.url.path)
        return svc.resources.service

    svc.app.dependency_overrides[get_service] = recording_service
    miss = await svc.client.get("/api/products/1")
    hit = await svc.client.get("/api/products/1")
    assert (miss.headers["x-cache"], hit.headers["x-cache"]) == ("miss", "hit")
    assert hit.content == miss.content
    assert hit.headers["content-type"] == "application/json"
    assert int(hit.headers["content-length"]) == len(hit.content)
    # Leading zeros are decimal text too (as for FastAPI); the fast path's answer is the same entry.
    assert (await svc.client.get("/api/products/0001")).content == hit.content
    gone = await svc.client.get("/api/products/999999999")
    assert gone.status_code == 404
    assert gone.json() == {"error": "not_found", "detail": "product 999999999 does not exist"}
    assert gone.headers["x-cache"] == "miss"
    assert injected == []  # FastAPI's dependency injection never ran for these reads
    await svc.client.get("/api/products", params={"limit": 1})
    assert injected == ["/api/products"]


async def test_what_it_does_not_take_reaches_fastapi(svc: AppUnderTest) -> None:
    for path in ("/api/products/0", "/api/products/+1", "/api/products/1.0", "/api/products/%D9%A1",
                 f"/api/products/{2**53}", "/api/products/12345678901234567"):  # fmt: skip
        response = await svc.client.get(path)
        assert response.status_code == 422, path
        assert "detail" in response.json()
    assert (await svc.client.post("/api/products/1")).status_code == 405
    # A GET with an oversized body still meets the body limit (FastAPI's path), in the JSON error shape.
    too_large = await svc.client.request("GET", "/api/products/1", content=b"x" * (1024 * 1024))
    assert too_large.status_code == 413
    assert too_large.json()["error"] == "content_too_large"
    assert (await svc.client.get("/api/products/1/")).status_code in (307, 404)
