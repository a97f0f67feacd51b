"""The cached product read in front of the whole framework: the request path a cache hit should cost.

`GET /api/products/{id}` is the hot read. Through FastAPI it pays for routing, dependency
injection (a sync dependency even hopped to a worker thread), the strict-JSON request wrapper and a
`Response` object; and through the middleware stack for every layer's wrapped `send` (Starlette's
error middleware, FastAPI's telemetry and body-limit layers, our access-log and metrics layers).
Measured over HTTP, each layer costs a few times what a micro-benchmark says (issue 18: the stack
above the cache read cost more than the read's own Python), so a hit runs none of it.

This runs before the framework (`CatalogApp.__call__` dispatches to it, ahead of FastAPI's own
`__call__` and Starlette's `ServerErrorMiddleware`) and does, for the requests it answers, exactly
what those layers would: the same validation (ASCII digits, 1..MAX_BIGINT), body, headers and
error shapes (`ServiceError` JSON, the 500 JSON of an unexpected error, logged), the `X-Cache`
header, the latency histogram under the FastAPI route's template and, when on, the access log
line. Anything else (another route or method, a malformed or out-of-range id, a GET with a body)
goes on to the framework unchanged, which keeps the OpenAPI route, its 422s, 405s and 413s.
"""

from __future__ import annotations

import logging
import time

from starlette.datastructures import State
from starlette.responses import JSONResponse
from starlette.types import Scope, Send

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
    """Answers valid `GET /api/products/{id}` from the service's cached JSON bytes, before the framework.

    `CatalogApp.__call__` asks `match` of every request and awaits `answer` for those it takes: one
    coroutine frame above the cache read, where a middleware would be three (FastAPI's and
    Starlette's `__call__` and its own), each resumed again whenever the read waits for Redis.
    """

    def __init__(self, state: State, *, metrics: Metrics, access_log: bool) -> None:
        self._state = state  # the app's: `resources` is there once the lifespan started
        self._metrics = metrics
        self._access_log = access_log
        # The histogram child of the common answer, bound once (a label lookup costs more than the observe).
        self._ok_latency = metrics.request_latency("GET", PRODUCT_PATH, 200)

    @staticmethod
    def match(scope: Scope) -> int | None:
        """The product id of a request this path answers; None sends it on to the framework."""
        if scope["type"] != "http" or scope["method"] != "GET" or not scope["path"].startswith(_PREFIX):
            return None
        product_id = _product_id(scope["path"])
        if product_id is None or _has_body(scope):
            return None
        return product_id

    async def answer(self, scope: Scope, product_id: int, send: Send) -> None:
        """Send the product's JSON (or the error the framework would have sent), timed and logged."""
        started = time.perf_counter()
        tracked, token = outcome.begin()
        try:
            body = await self._state.resources.service.product_json(product_id)
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
