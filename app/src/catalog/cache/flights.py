"""In-process single flight: concurrent misses of one key share one database read.

A load that began before a write must not answer a read issued after the write's acknowledgement.
Two rules keep it from doing so:

- a write in this process *detaches* the loads in flight for the keys it changed (`detach`), so
  reads that arrive afterwards start a new load;
- a load whose result was not confirmed by the cache (its fill was refused because a write, here or
  in another process, took its lease away; or it read the database without a lease) answers only
  the callers that arrived before its database read began: a write acknowledged before such a
  caller arrived had committed before that read, so the read saw it. Later joiners read again
  (`CacheLayer`).
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from catalog.cache.codec import Entry


@dataclass(frozen=True, slots=True)
class Loaded:
    """What a load produced, and whether every caller that joined it may use it."""

    entry: Entry
    confirmed: bool
    """True when the cache stored it under our lease, or it came from the cache, or the cache was bypassed."""
    read_at: int = 0
    """The arrival-clock tick taken just before the database read began."""

    def answers(self, arrived: int) -> bool:
        """Whether a caller that arrived at tick `arrived` may use this result."""
        return self.confirmed or arrived < self.read_at


@dataclass(frozen=True, slots=True)
class Flight:
    """One load in flight."""

    task: asyncio.Task[Loaded]


class Flights:
    """At most one in-flight load per key in this process; later callers join it.

    Each load is an `asyncio.Task` awaited through `shield`, so one caller going away does not
    cancel the read the others are waiting for.
    """

    def __init__(self) -> None:
        self._flights: dict[str, Flight] = {}
        self._clock = itertools.count()

    def __len__(self) -> int:
        return len(self._flights)

    def now(self) -> int:
        """A tick of the arrival clock: a caller that takes one before a flight starts arrived before it."""
        return next(self._clock)

    def join(self, key: str) -> Flight | None:
        """The load in flight for `key`, if any."""
        return self._flights.get(key)

    def start(self, key: str, load: Callable[[], Awaitable[Loaded]]) -> Flight:
        """Start the load for `key` (the caller checked that none is in flight)."""

        async def run() -> Loaded:
            return await load()

        flight = Flight(asyncio.get_running_loop().create_task(run()))
        self._flights[key] = flight
        flight.task.add_done_callback(lambda done: self._done(key, flight, done))
        return flight

    def _done(self, key: str, flight: Flight, task: asyncio.Task[Loaded]) -> None:
        if self._flights.get(key) is flight:
            del self._flights[key]
        if not task.cancelled():
            task.exception()  # retrieved here so an unawaited failure is not reported as lost

    def forget(self, key: str, flight: Flight) -> None:
        """Forget `flight` if it is still the one for `key` (a finished load that answers no later caller).

        A finished task leaves the map only in its done callback, which the loop runs on a later
        iteration; a caller that joins it before then gets the result at once, without yielding.
        If that result cannot answer it, joining again would return the same flight forever (a busy
        loop that starves the event loop, seen under load), so the caller forgets it first.
        """
        if self._flights.get(key) is flight:
            del self._flights[key]

    def detach(self, keys: Iterable[str], prefixes: Iterable[str] = ()) -> int:
        """Forget the loads for these keys (and keys starting with `prefixes`); their current callers keep them."""
        wanted = set(keys)
        starts = tuple(prefixes)
        gone = [key for key in self._flights if key in wanted or (starts and key.startswith(starts))]
        for key in gone:
            del self._flights[key]
        return len(gone)

    def cancel_all(self) -> None:
        """Cancel every load (shutdown)."""
        for flight in list(self._flights.values()):
            flight.task.cancel()
