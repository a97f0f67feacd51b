"""Whether the current request was served by the cache: `hit`, `miss` (read the database) or `bypass`.

The HTTP middleware opens one `RequestOutcome` per request (a context variable, so concurrent
requests never see each other's); the cache layer records what it did; the middleware then sends
it as the `X-Cache` response header and puts it in the access log line.
"""

from __future__ import annotations

from contextvars import ContextVar, Token
from typing import Literal

CacheOutcome = Literal["hit", "miss", "bypass"]

# When one request makes several cache reads (a list page reads its generation, then the page), the
# least cached one describes the request.
_RANK: dict[CacheOutcome, int] = {"hit": 0, "miss": 1, "bypass": 2}


class RequestOutcome:
    """The outcome of one request's cache reads; None when it made none (writes, health, ops)."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value: CacheOutcome | None = None


_current: ContextVar[RequestOutcome | None] = ContextVar("catalog_cache_outcome", default=None)


def begin() -> tuple[RequestOutcome, Token[RequestOutcome | None]]:
    """Start tracking for the current request; pass the token to `end`."""
    outcome = RequestOutcome()
    return outcome, _current.set(outcome)


def end(token: Token[RequestOutcome | None]) -> None:
    """Stop tracking (the request finished)."""
    _current.reset(token)


def record(value: CacheOutcome) -> None:
    """Note what a cache read did; outside a request (benchmarks, tools) this does nothing."""
    outcome = _current.get()
    if outcome is not None and (outcome.value is None or _RANK[value] > _RANK[outcome.value]):
        outcome.value = value
