"""The cached product read in front of the whole framework: the request path a cache hit should cost.

`GET /api/products/{id}` is the hot read. Through FastAPI it pays for routing, dependency
injection (a sync dependency even hopped to a worker thread), the strict-JSON request wrapper and a
`Response` object; and through the middleware stack for every layer's wrapped `send` (Starlette's
error middleware, FastAPI's telemetry and body-limit layers, our access-log and metrics layers).
Measured over HTTP, each layer costs a few times what a micro-benchmark says (issue 18: the stack
above the cache read cost more than the read's own Python), so a hit runs none of it.

This pure ASGI app sits outside Starlette's `ServerErrorMiddleware` (`CatalogApp` installs it when
the stack is built) and does, for the requests it answers, exactly what those layers would: the
same validation (ASCII digits, 1..MAX_BIGINT), body, headers and error shapes (`ServiceError` JSON,
the 500 JSON of an unexpected error, logged), the `X-Cache` header, the latency histogram under the
FastAPI route's template and, when on, the access log line. Anything else (another route or method,
a malformed or out-of-range id, a GET with a body) goes on to the framework unchanged, which keeps
the OpenAPI route, its 422s, 405s and 413s.
"""

from __future__ import annotations

import logging
import time

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from catalog.access import X_CACHE, log_request
from catalog.cache import outcome
from catalog.errors import ServiceError
from catalog.metrics import Metrics
from catalog.models import MAX_BIGINT

log = logging.getLogger("catalog.app")

PRODUCT_PATH = "/api/products/{product_id}"
_PREFIX = "/api/products/"
_MAX_DIGITS = 16  # models.DECIMAL_TEXT's bound
_CONTENT_TYPE = (b"content-type", b"application/json")


def service_error_response(exc: ServiceError, path: str) -> JSONResponse:
    """The JSON error every route answers for a `ServiceError` (5xx logged)."""
    if exc.status_code >= 500:
        log.warning("request failed", extra={"path": path, "error": exc.code, "detail": exc.detail})
    return JSONResponse({"error": exc.code, "detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)


def unexpected_error_response(exc: BaseException, path: str) -> JSONResponse:
    """The 500 every route answers for a bug (logged with its traceback; the body says nothing more)."""
    log.error("unhandled error", exc_info=exc, extra={"path": path})
    return JSONResponse({"error": "internal_error", "detail": "internal error"}, status_code=500)


def _product_id(path: str) -> int | None:
    text = path[len(_PREFIX) :]
    if not (0 < len(text) <= _MAX_DIGITS and text.isascii() and text.isdigit()):
        return None
    product_id = int(text)
    return product_id if 1 <= product_id <= MAX_BIGINT else None


def _has_body(scope: Scope) -> bool:
    # A GET with a body is legal but odd; FastAPI's path (with the body limit's 413) answers it.
    for name, _ in scope["headers"]:  # noqa: SIM110 - a loop, not any(<generator>): this runs on every read
        if name == b"content-length" or name == b"transfer-encoding":
            return True
    return False


class CachedProductRead:
    """Pure ASGI app answering valid `GET /api/products/{id}` from the service's cached JSON bytes."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics, access_log: bool) -> None:
        self.app = app
        self._metrics = metrics
        self._access_log = access_log
        # The histogram child of the common answer, bound once (a label lookup costs more than the observe).
        self._ok_latency = metrics.request_latency("GET", PRODUCT_PATH, 200)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or not scope["path"].startswith(_PREFIX):
            await self.app(scope, receive, send)
            return
        product_id = _product_id(scope["path"])
        if product_id is None or _has_body(scope):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        tracked, token = outcome.begin()
        try:
            body = await scope["app"].state.resources.service.product_json(product_id)
            status = 200
            headers = [_CONTENT_TYPE, (b"content-length", b"%d" % len(body))]
        except ServiceError as exc:
            error = service_error_response(exc, scope["path"])
            status, headers, body = error.status_code, error.raw_headers, bytes(error.body)
        except Exception as exc:  # answered as the framework's handler would, and logged
            error = unexpected_error_response(exc, scope["path"])
            status, headers, body = error.status_code, error.raw_headers, bytes(error.body)
        finally:
            outcome.end(token)
        if tracked.value is not None:
            headers.append(X_CACHE[tracked.value])
        try:
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})
        finally:
            latency = self._ok_latency if status == 200 else self._metrics.request_latency("GET", PRODUCT_PATH, status)
            latency.observe(time.perf_counter() - started)
            if self._access_log:
                log_request(scope, status, started, tracked.value)
