"""Hostile input: request bodies parsed as strict JSON, and validation errors that never echo the input.

- JSON's grammar has no NaN or Infinity, but Python's `json` accepts them (and reads `1e400` as
  infinity, and refuses integers of more than 4,300 digits with a ValueError, and deep nesting with
  a RecursionError). Here every one of those is a JSON decode error, which FastAPI answers with 422.
- FastAPI's default 422 body echoes each invalid `input`; a non-finite number or a lone surrogate
  cannot be encoded as JSON, so the echo itself failed with a 500. Ours names the location and the
  rule only (location strings escaped to ASCII, shortened), and at most `MAX_ERRORS` of them, so a
  body with 100,000 bad keys cannot produce a 70 MB answer.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

MAX_ERRORS = 20
_MAX_LOC_TEXT = 80


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text[:20]}… is too large")
    return value


def loads_strict(body: bytes) -> Any:
    """Parse JSON as the grammar says (no NaN/Infinity, finite numbers); every failure a JSONDecodeError."""
    try:
        return json.loads(body.decode("utf-8"), parse_constant=_refuse_constant, parse_float=_finite_float)
    except json.JSONDecodeError:
        raise
    except (ValueError, RecursionError) as exc:
        # Too many digits, a non-finite number, nesting deeper than the parser goes, bad UTF-8.
        message = str(exc) if isinstance(exc, ValueError) else "nested too deeply"
        raise json.JSONDecodeError(message.split(";")[0][:120], "", 0) from None


class StrictJSONRequest(Request):
    """A request whose `json()` is `loads_strict`."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = loads_strict(await self.body())
        return self._json


class StrictJSONRoute(APIRoute):
    """Routes that parse bodies with `StrictJSONRequest` (FastAPI's custom route class seam)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            return await original(StrictJSONRequest(request.scope, request.receive))

        return handler


def _safe_loc_part(part: object) -> str | int:
    if isinstance(part, int) and not isinstance(part, bool):
        return part
    text = str(part).encode("ascii", "backslashreplace").decode("ascii")
    return text if len(text) <= _MAX_LOC_TEXT else text[:_MAX_LOC_TEXT] + "…"


def _safe_text(text: object) -> str:
    return str(text).encode("utf-8", "backslashreplace").decode("utf-8")[:300]


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    """422 with each error's location, message and type; never the input itself."""
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    detail = []
    for error in errors[:MAX_ERRORS]:
        message = str(error.get("msg", "invalid"))
        reason = (error.get("ctx") or {}).get("error")
        if error.get("type") == "json_invalid" and isinstance(reason, str):
            message = f"{message}: {reason}"  # our parser's reason (NaN, too large, too deep)
        detail.append(
            {
                "type": _safe_text(error.get("type", "invalid")),
                "loc": [_safe_loc_part(part) for part in error.get("loc", ())],
                "msg": _safe_text(message),
            }
        )
    body: dict[str, Any] = {"detail": detail}
    if len(errors) > MAX_ERRORS:
        body["more_errors"] = len(errors) - MAX_ERRORS
    return JSONResponse(body, status_code=422)
