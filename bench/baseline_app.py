"""Independent baselines for the hit path, written minimally: what one uvicorn worker does with no app around it.

`python -m uvicorn bench.baseline_app:app` with the catalog's uvicorn settings (bench/hitpath.py).
- `GET /noop`: pure ASGI, no I/O, a constant JSON body;
- `GET /get/{id}`: one Redis GET of product {id}'s cache entry (the catalog's key format, read from the
  environment: BASELINE_REDIS_PORT, BASELINE_KEY_PREFIX), bytes after the entry header served as is.
No framework, middleware, metrics or logging: the floor a real service is measured against.
"""

from __future__ import annotations

import os
from typing import Any

import redis.asyncio as aioredis

_NOOP = b'{"ok":true}'
_HEADERS = [(b"content-type", b"application/json")]
_client: aioredis.Redis | None = None
_PREFIX = os.environ.get("BASELINE_KEY_PREFIX", "catalog:v1:")


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The whole app."""
    global _client
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                _client = aioredis.Redis(port=int(os.environ.get("BASELINE_REDIS_PORT", "6379")), max_connections=64)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if _client is not None:
                    await _client.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return
    path: str = scope["path"]
    if path.startswith("/get/") and _client is not None:
        raw = await _client.get(f"{_PREFIX}{{product:{path[5:]}}}")
        body = raw[raw.find(b"\n") + 1 :] if raw else b"null"
    else:
        body = _NOOP
    await send(
        {"type": "http.response.start", "status": 200, "headers": [*_HEADERS, (b"content-length", b"%d" % len(body))]}
    )
    await send({"type": "http.response.body", "body": body})
