"""Single flight at the edge of the event loop: a finished load its done callback has not yet forgotten.

A task that finishes leaves the flight map only in its done callback, which the loop runs on a later
iteration. A caller that joins it in between gets its result at once, without yielding; when that
result is unconfirmed and older than the caller, the caller must read again, and joining the same
flight again would spin forever without ever letting the loop run (seen in the benchmark under load:
one CPU at 100%, no request answered). The test puts the loop in exactly that state, then asks for
the key in a thread of its own so that a spin fails the test instead of hanging the run.
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from types import SimpleNamespace
from typing import Any

from catalog.cache import Entry
from catalog.cache.flights import Flight, Loaded
from catalog.cache.layer import CacheLayer
from catalog.metrics import Metrics

KEY = "catalog:v1:{product:1}"


async def _read_after_a_finished_unconfirmed_load() -> tuple[Entry, Counter[str], int]:
    remote: Any = SimpleNamespace(counters=Counter(), metrics=Metrics())
    layer = CacheLayer(remote)

    async def old_unconfirmed() -> Loaded:
        return Loaded(Entry(b'{"name":"old"}', version=1), confirmed=False, read_at=0)

    finished = asyncio.get_running_loop().create_task(old_unconfirmed())
    await finished
    layer.flights._flights[KEY] = Flight(finished)  # done, and its done callback not run yet
    loads = 0

    async def fresh() -> Entry:
        nonlocal loads
        loads += 1
        return Entry(b'{"name":"new"}', version=2)

    layer.flights.now()  # this caller arrives after the old load's database read began
    entry = await layer.load_uncached(KEY, "product", fresh)
    return entry, layer.counters, loads


def test_a_caller_that_joins_a_finished_unconfirmed_load_reads_again_instead_of_spinning() -> None:
    result: dict[str, Any] = {}

    def run() -> None:
        result["value"] = asyncio.run(_read_after_a_finished_unconfirmed_load())

    thread = threading.Thread(target=run, daemon=True)  # daemon: a spinning loop must not block exit
    thread.start()
    thread.join(timeout=10)
    assert not thread.is_alive(), "the read spun on the finished flight (the event loop never ran again)"
    entry, counters, loads = result["value"]
    assert entry.payload == b'{"name":"new"}'
    assert loads == 1
    assert counters["rereads"] == 1
