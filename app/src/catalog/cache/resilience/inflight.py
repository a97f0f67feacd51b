"""A bound on the cache commands in flight: the pool's size, so a burst waits here instead of failing.

`asyncio.Semaphore` would do, but every cached read takes and returns a slot, and the semaphore's
`acquire` walks its waiters and its `release` wakes through three more calls even when nobody
waits (about 7% of a Redis hit's own Python, measured with callgrind; issue 18). Here taking a free
slot is one attribute test, and a release hands its slot straight to the oldest waiter, so a
caller arriving while others wait never overtakes them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque


class InFlightLimit:
    """At most `size` holders at once; the others wait in arrival order."""

    __slots__ = ("_waiters", "free")

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError(f"an in-flight limit needs at least one slot, got {size}")
        self.free = size
        """Slots nobody holds. Non-zero only while nobody waits: a release hands its slot to a waiter."""
        self._waiters: deque[asyncio.Future[None]] = deque()

    def try_acquire(self) -> bool:
        """Take a free slot now; False when there is none (then `await wait()`)."""
        if self.free:
            self.free -= 1
            return True
        return False

    async def wait(self) -> None:
        """Wait until a release hands this caller a slot (after `try_acquire` said there was none)."""
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()  # handed a slot, then cancelled before using it: pass it on
            else:
                # A release may already have dropped it (it skips cancelled waiters).
                with contextlib.suppress(ValueError):
                    self._waiters.remove(waiter)
            raise

    def release(self) -> None:
        """Give a slot back: to the oldest caller still waiting, else to the free count."""
        waiters = self._waiters
        while waiters:
            waiter = waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self.free += 1

    @property
    def waiting(self) -> int:
        """Callers waiting for a slot now."""
        return sum(1 for waiter in self._waiters if not waiter.done())
