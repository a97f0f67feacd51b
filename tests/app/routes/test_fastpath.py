"""The cached product read's own ASGI path answers exactly as the FastAPI route it stands in front of."""

from __future__ import annotations

import logging

import pytest
from catalog.app import create_app
from catalog.fastpath import PRODUCT_PATH
from catalog.routes.deps import get_service
from catalog.service import CatalogService
from catalog.settings import load_settings
from fastapi import Request

from tests.app.conftest import SettingsFactory
from tests.app.helpers import AppUnderTest, running_app


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


def _latency_count(text: str, status: int) -> float:
    series = f'catalog_http_request_duration_seconds_count{{method="GET",route="{PRODUCT_PATH}",status="{status}"}} '
    lines = [line for line in text.splitlines() if line.startswith(series)]
    return float(lines[0].removeprefix(series)) if lines else 0.0


async def test_it_keeps_the_metrics_the_middleware_would_record(svc: AppUnderTest) -> None:
    # It answers outside HttpMetricsMiddleware, so it records the route's latency itself, per status.
    before = (await svc.client.get("/metrics")).text
    for _ in range(3):
        assert (await svc.client.get("/api/products/2")).status_code == 200
    assert (await svc.client.get("/api/products/999999998")).status_code == 404
    after = (await svc.client.get("/metrics")).text
    assert _latency_count(after, 200) - _latency_count(before, 200) == 3
    assert _latency_count(after, 404) - _latency_count(before, 404) == 1


async def test_a_bug_behind_it_is_the_same_logged_500(
    svc: AppUnderTest, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(product_id: int) -> bytes:
        raise RuntimeError(f"bug reading {product_id}")

    monkeypatch.setattr(svc.resources.service, "product_json", broken)
    with caplog.at_level(logging.ERROR, logger="catalog.app"):
        response = await svc.client.get("/api/products/3")
    assert response.status_code == 500
    assert response.json() == {"error": "internal_error", "detail": "internal error"}
    assert "x-cache" not in response.headers  # no cache read happened
    errors = [r for r in caplog.records if r.getMessage() == "unhandled error"]
    assert len(errors) == 1
    assert errors[0].exc_info is not None
    assert "bug reading 3" in str(errors[0].exc_info[1])


async def test_its_access_log_line_matches_the_middlewares(
    make_settings: SettingsFactory, caplog: pytest.LogCaptureFixture
) -> None:
    async with running_app(make_settings(ACCESS_LOG="true")) as app:
        with caplog.at_level(logging.INFO, logger="catalog.access"):
            await app.client.get("/api/products/4")
            await app.client.get("/api/products/4")
            await app.client.get("/api/products/0")  # refused by the fast path: FastAPI's 422
    lines = [r for r in caplog.records if r.name == "catalog.access"]
    assert [(r.path, r.status, r.cache) for r in lines] == [  # type: ignore[attr-defined]
        ("/api/products/4", 200, "miss"),
        ("/api/products/4", 200, "hit"),
        ("/api/products/0", 422, None),
    ]
    assert all(r.method == "GET" and r.duration_ms >= 0 and r.client for r in lines)  # type: ignore[attr-defined]
