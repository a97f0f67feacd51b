"""A consecutive-failure circuit breaker: while open, callers skip the cache entirely and go to the database."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Literal

BreakerState = Literal["closed", "open", "half-open"]


class CircuitBreaker:
    """Opens after `threshold` consecutive failures; only `close()` (after a successful probe) closes it.

    The breaker does not probe by itself: the cache layer runs one background probe while it is open,
    so no request ever pays for a probe and a recovering Redis sees one client, not every request.
    """

    def __init__(self, threshold: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.threshold = threshold
        self._clock = clock
        self._failures = 0
        self._state: BreakerState = "closed"
        self.opened_at: float | None = None
        self.times_opened = 0

    @property
    def state(self) -> BreakerState:
        """closed: Redis is used; open: Redis is skipped; half-open: the probe is running."""
        return self._state

    def allow(self) -> bool:
        """True when callers may use Redis."""
        return self._state == "closed"

    def record_success(self) -> None:
        """A Redis call worked: forget earlier failures."""
        self._failures = 0

    def record_failure(self) -> bool:
        """A Redis call failed; return True if this failure opened the breaker."""
        self._failures += 1
        if self._state == "closed" and self._failures >= self.threshold:
            self.trip()
            return True
        return False

    def trip(self) -> None:
        """Open now, whatever the count (e.g. an invalidation could not be delivered)."""
        if self._state == "closed":
            self.times_opened += 1
            self.opened_at = self._clock()
        self._state = "open"

    def probing(self) -> None:
        """The background probe started."""
        self._state = "half-open"

    def close(self) -> None:
        """The probe succeeded: use Redis again."""
        self._state = "closed"
        self._failures = 0
        self.opened_at = None
