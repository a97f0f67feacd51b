"""The guarded call: every cache command goes through it, so a sick cache costs a bounded delay and then nothing."""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import TypeVar, TypeVarTuple

from catalog.cache.resilience.breaker import CircuitBreaker
from catalog.cache.resilience.inflight import InFlightLimit
from catalog.metrics import Metrics

log = logging.getLogger(__name__)

T = TypeVar("T")
Args = TypeVarTuple("Args")


class CacheUnavailableError(Exception):
    """The cache could not be used (breaker open, error or timeout); callers fall back to the database."""


class GuardedCall:
    """Runs one cache command: refused while the breaker is open, timed, and any "cache down" error counted.

    `down_errors` are the backend's exceptions that mean "the cache cannot serve us now" (connection
    refused or reset, timeouts); anything else is a bug and propagates. Each such failure counts
    towards the breaker; the failure that opens it calls `on_open` (which starts the recovery probe).
    """

    def __init__(
        self,
        breaker: CircuitBreaker,
        *,
        metrics: Metrics,
        counters: Counter[str],
        down_errors: tuple[type[BaseException], ...],
        on_open: Callable[[], None],
        max_in_flight: int | None = None,
    ) -> None:
        self.breaker = breaker
        self.down_errors = down_errors
        self._metrics = metrics
        self._counters = counters
        self._on_open = on_open
        # The Redis pools raise when exhausted; this bounds in-flight commands to the pool size so
        # callers wait instead.
        self._limit = InFlightLimit(max_in_flight) if max_in_flight else None

    async def __call__(self, operation: str, command: Callable[[*Args], Awaitable[T]], *args: *Args) -> T:
        """`await command(*args)`, guarded (the command and its arguments, not a closure: one call fewer)."""
        # Every cached read runs this: one coroutine frame, and a free slot costs one attribute test.
        if not self.breaker.allow():
            raise CacheUnavailableError("circuit breaker open")
        limit = self._limit
        start = time.perf_counter()
        if limit is not None and not limit.try_acquire():
            await limit.wait()
        try:
            result = await command(*args)
        except self.down_errors as exc:
            self.failed(operation, exc)
            raise CacheUnavailableError(f"{operation}: {exc!r}") from exc
        finally:
            if limit is not None:
                limit.release()
        self.breaker.record_success()
        self._metrics.cache_operation_seconds.labels(operation).observe(time.perf_counter() - start)
        return result

    def failed(self, operation: str, exc: BaseException) -> None:
        """Count a failed command; open the breaker (and start recovery) when it reaches the threshold."""
        self._counters["errors"] += 1
        self._metrics.cache_errors.labels(operation).inc()
        log.debug("cache %s failed: %r", operation, exc)
        if self.breaker.record_failure():
            log.warning("cache unavailable, circuit breaker open", extra={"operation": operation, "error": repr(exc)})
            self._on_open()
