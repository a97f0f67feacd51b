"""Per-request context: the `X-Cache` response header and the JSON access log line."""

from __future__ import annotations

import json
import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from catalog.cache import outcome
from catalog.cache.outcome import CacheOutcome

log = logging.getLogger("catalog.access")

X_CACHE: dict[CacheOutcome, tuple[bytes, bytes]] = {
    value: (b"x-cache", value.encode()) for value in ("hit", "miss", "bypass")
}
"""The `X-Cache` response header for each outcome, encoded once."""


def log_request(scope: Scope, status: int, started: float, cache: CacheOutcome | None) -> None:
    """The JSON access log line of one request (`started` is its `time.perf_counter()`)."""
    client = scope.get("client")
    log.info(
        "%s %s %d",
        scope["method"],
        scope["path"],
        status,
        extra={
            "method": scope["method"],
            "path": scope["path"],
            "status": status,
            "duration_ms": round(1000 * (time.perf_counter() - started), 2),
            "cache": cache,
            "client": f"{client[0]}:{client[1]}" if client else None,
        },
    )


class RequestContextMiddleware:
    """Pure ASGI middleware: tracks the request's cache outcome, sends it as `X-Cache`, logs the request.

    `X-Cache: hit|miss|bypass` is set on every response of a cached read (404s from negative entries
    included) and absent elsewhere. With `access_log`, one line per request carries method, path,
    status, duration and the same `cache` field (uvicorn's own access log has no room for it).
    """

    def __init__(self, app: ASGIApp, *, access_log: bool, max_body_bytes: int) -> None:
        self.app = app
        self.access_log = access_log
        # Starlette's body limit answers an oversized Content-Length itself, in plain text; every
        # other error of this API is JSON, so that one answer is rewritten here.
        self._too_large = json.dumps(
            {"error": "content_too_large", "detail": f"the request body is larger than {max_body_bytes} bytes"}
        ).encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        tracked, token = outcome.begin()
        status = 500
        rewrite = False

        async def send_with_cache_header(message: Message) -> None:
            nonlocal status, rewrite
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                if status == 413 and (b"content-type", b"text/plain; charset=utf-8") in headers:
                    rewrite = True
                    return
                if tracked.value is not None:
                    message["headers"] = [*headers, X_CACHE[tracked.value]]
            elif rewrite and message["type"] == "http.response.body":
                headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(self._too_large))]
                await send({"type": "http.response.start", "status": 413, "headers": headers})
                await send({"type": "http.response.body", "body": self._too_large})
                return
            await send(message)

        try:
            await self.app(scope, receive, send_with_cache_header)
        finally:
            outcome.end(token)
            if self.access_log:
                log_request(scope, status, started, tracked.value)
