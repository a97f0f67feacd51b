"""The cached product read without the framework: the request path a cache hit should cost.

`GET /api/products/{id}` is the hot read. Through FastAPI it pays for routing, dependency
injection (a sync dependency even hopped to a worker thread), the strict-JSON request wrapper, the
exception and exit-stack middleware and a `Response` object: several times the Redis round trip
(issue 18's profile). Cached entries already hold the exact JSON served, so a valid request needs
none of that. This pure ASGI middleware answers it directly with the same validation (ASCII digits,
1..MAX_BIGINT), the same body, headers and error shape; anything else (another route or method, a
malformed or out-of-range id) goes on to FastAPI unchanged, which keeps the OpenAPI route, its 422s
and its 405s. It sits inside the access-log and metrics middleware, and names the FastAPI route in
the scope so the latency histogram keeps its route label.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from catalog.errors import ServiceError
from catalog.models import MAX_BIGINT

log = logging.getLogger("catalog.app")

PRODUCT_PATH = "/api/products/{product_id}"
_PREFIX = "/api/products/"
_MAX_DIGITS = 16  # models.DECIMAL_TEXT's bound
_CONTENT_TYPE = (b"content-type", b"application/json")


@dataclass(frozen=True)
class _RouteTemplate:
    path: str


# What HttpMetricsMiddleware reads from scope["route"]: the template FastAPI's own route reports.
_ROUTE = _RouteTemplate(PRODUCT_PATH)


def service_error_response(exc: ServiceError, path: str) -> JSONResponse:
    """The JSON error every route answers for a `ServiceError` (5xx logged)."""
    if exc.status_code >= 500:
        log.warning("request failed", extra={"path": path, "error": exc.code, "detail": exc.detail})
    return JSONResponse({"error": exc.code, "detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)


def _product_id(path: str) -> int | None:
    text = path[len(_PREFIX) :]
    if not (0 < len(text) <= _MAX_DIGITS and text.isascii() and text.isdigit()):
        return None
    product_id = int(text)
    return product_id if 1 <= product_id <= MAX_BIGINT else None


def _has_body(scope: Scope) -> bool:
    # A GET with a body is legal but odd; FastAPI's path (with the body limit's 413) answers it.
    return any(name in (b"content-length", b"transfer-encoding") for name, _ in scope["headers"])


class CachedProductRead:
    """Pure ASGI middleware answering valid `GET /api/products/{id}` from the service's cached JSON bytes."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or not scope["path"].startswith(_PREFIX):
            await self.app(scope, receive, send)
            return
        product_id = _product_id(scope["path"])
        if product_id is None or _has_body(scope):
            await self.app(scope, receive, send)
            return
        scope["route"] = _ROUTE
        service = scope["app"].state.resources.service
        try:
            body = await service.product_json(product_id)
        except ServiceError as exc:
            await service_error_response(exc, scope["path"])(scope, receive, send)
            return
        headers = [_CONTENT_TYPE, (b"content-length", b"%d" % len(body))]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})
