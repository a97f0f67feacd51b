"""The one background probe per cache while its breaker is open: no request ever pays for a probe."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from catalog.cache.resilience.breaker import CircuitBreaker
from catalog.metrics import Metrics

log = logging.getLogger(__name__)


class Recovery:
    """While the breaker is open: every `reset_seconds`, `probe` the cache and `replay` what is owed; then close.

    What is owed (`RemoteCache._replay_deferred`): first every task's outbox rows, so this task never
    trusts the cache again while it still holds an entry another task's write could not invalidate;
    then this task's own queue.

    Both callables raise one of `down_errors` when the cache is still unusable; the breaker then
    opens again and the loop waits for the next interval. The breaker closes only when `owed()` says
    nothing is left, checked in the same step as the close (no await between them, so no
    invalidation can be queued in between): anything queued during a replay is replayed first.
    """

    def __init__(
        self,
        breaker: CircuitBreaker,
        *,
        probe: Callable[[], Awaitable[object]],
        replay: Callable[[], Awaitable[None]],
        owed: Callable[[], bool],
        down_errors: tuple[type[BaseException], ...],
        reset_seconds: float,
        probe_timeout_seconds: float,
        metrics: Metrics,
    ) -> None:
        self.breaker = breaker
        self._probe = probe
        self._replay = replay
        self._owed = owed
        self._errors: tuple[type[BaseException], ...] = (*down_errors, TimeoutError)
        self._reset_seconds = reset_seconds
        self._probe_timeout = probe_timeout_seconds
        self._metrics = metrics
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Open (if not yet) and make sure the probe runs; idempotent."""
        self._metrics.cache_breaker_open.set(1)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="cache-recovery")

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._reset_seconds)
            self.breaker.probing()
            try:
                async with asyncio.timeout(self._probe_timeout):
                    await self._probe()
                await self._replay()  # each command is bounded by the client's socket timeout
                while self._owed():
                    await self._replay()  # queued during the replay (the breaker refused it)
            except self._errors as exc:
                log.debug("cache probe failed: %r", exc)
                self.breaker.trip()
                continue
            self.breaker.close()
            self._metrics.cache_breaker_open.set(0)
            log.warning("cache reachable again, circuit breaker closed")
            return

    def cancel(self) -> None:
        """Stop probing (shutdown)."""
        if self._task is not None:
            self._task.cancel()
