"""In-process single flight: concurrent misses of one key share one database read."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from catalog.cache.codec import Entry


class Flights:
    """At most one in-flight load per key in this process; later callers join it.

    Each load is an `asyncio.Task` awaited through `shield`, so one caller going away does not
    cancel the read the others are waiting for.
    """

    def __init__(self) -> None:
        self._tasks: dict[str, asyncio.Task[Entry]] = {}

    def __len__(self) -> int:
        return len(self._tasks)

    def join(self, key: str) -> asyncio.Task[Entry] | None:
        """The load in flight for `key`, if any."""
        return self._tasks.get(key)

    def start(self, key: str, load: Callable[[], Awaitable[Entry]]) -> asyncio.Task[Entry]:
        """Start the load for `key` (the caller checked that none is in flight)."""

        async def run() -> Entry:
            return await load()

        task = asyncio.get_running_loop().create_task(run())
        self._tasks[key] = task
        task.add_done_callback(lambda done: self._done(key, done))
        return task

    def _done(self, key: str, task: asyncio.Task[Entry]) -> None:
        if self._tasks.get(key) is task:
            del self._tasks[key]
        if not task.cancelled():
            task.exception()  # retrieved here so an unawaited failure is not reported as lost

    def cancel_all(self) -> None:
        """Cancel every load (shutdown)."""
        for task in list(self._tasks.values()):
            task.cancel()
