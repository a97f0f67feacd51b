"""No stale read after an acknowledged write: interleavings forced with events, for every strategy.

A read issued after a write's response must see that write. Two ways it used not to:

- **join an old flight**: a read that misses joins the in-process load already in flight for the key;
  if that load began before the write, it answers with the old row. The write's own process must
  detach such loads (in-process), and a load whose fill the cache refused (its lease was taken away
  by a write, here or in another process) must make the readers that joined it read again.
- **a write during replay**: recovery delivers the invalidations queued while the cache was down,
  then closes the breaker. An invalidation queued for a key *while* that key's replay is in flight
  must not be dropped, or the cache is trusted again with a copy older than the acknowledged write.

Every step waits for the previous one with an event (a gate in the repository or the backend),
never with a sleep. Commit 144f74d added these tests marked xfail(strict=True) against the code
before the fix: all failed except write-through products in the first two (the write stores the
row itself, so the later read hits it).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.app.conftest import SettingsFactory
from tests.app.gates import Gate, GatedRepository
from tests.app.helpers import AppUnderTest, new_product, running_app, wait_until

STRATEGIES = ["cache-aside", "read-through", "write-through"]


@dataclass
class Subject:
    """What is read, how a write changes it, and how to tell the new value from the old."""

    url: str
    write: Callable[[httpx.AsyncClient], Awaitable[httpx.Response]]
    value: Callable[[dict[str, Any]], object]
    new: object


async def subject(client: httpx.AsyncClient, entity: str) -> Subject:
    if entity == "product":
        product = await new_product(client, price_cents=1000)
        url = f"/api/products/{product['id']}"
        prices = iter(range(1001, 2000))  # every write a new price: the first is 1001

        def patch(c: httpx.AsyncClient) -> Awaitable[httpx.Response]:
            return c.patch(url, json={"price_cents": next(prices)})

        return Subject(url, patch, lambda b: b["price_cents"], 1001)
    product = await new_product(client, category_id=11)
    count = (await client.get("/api/categories/11/summary")).json()["reviews"]["count"]
    await client.post("/ops/cache/invalidate", json={"key": "summary:11"})
    return Subject(
        "/api/categories/11/summary",
        lambda c: c.post(f"/api/products/{product['id']}/reviews", json={"rating": 3}),
        lambda b: b["reviews"]["count"],
        count + 1,
    )


CASES = [
    pytest.param(strategy, entity, id=f"{strategy}-{entity}")
    for strategy in STRATEGIES
    for entity in ("product", "summary")
]


async def joined_or_done(app: AppUnderTest, reader: asyncio.Task[httpx.Response], coalesced: int) -> None:
    """Wait until the later read joined a load in flight, or finished without joining one."""
    await wait_until(
        lambda: reader.done() or app.resources.cache.counters["coalesced"] > coalesced, what="second read joined"
    )


@pytest.mark.parametrize(("strategy", "entity"), CASES)
async def test_a_read_after_the_ack_does_not_join_a_load_that_began_before_the_write(
    make_settings: SettingsFactory, strategy: str, entity: str
) -> None:
    async with running_app(make_settings(CACHE_STRATEGY=strategy), repository_factory=GatedRepository) as app:
        repo = app.resources.repository
        assert isinstance(repo, GatedRepository)
        thing = await subject(app.client, entity)
        await app.client.post("/ops/cache/invalidate", json={"prefix": ""})

        first = await repo.gate.pause(app.client.get(thing.url))  # 1. a load holding the old value
        assert (await thing.write(app.client)).status_code in (200, 201)  # 2. the write is acknowledged
        coalesced = app.resources.cache.counters["coalesced"]
        second = asyncio.create_task(app.client.get(thing.url))  # 3. a read issued after the ack
        await joined_or_done(app, second, coalesced)
        repo.gate.open()  # 4. the old load finishes

        assert (await first).status_code == 200  # began before the write: either value is right
        assert thing.value((await second).json()) == thing.new
        assert thing.value((await app.client.get(thing.url)).json()) == thing.new


@pytest.mark.parametrize(("strategy", "entity"), CASES)
async def test_a_refused_fill_makes_the_readers_that_joined_it_read_again(
    make_settings: SettingsFactory, strategy: str, entity: str
) -> None:
    """Across processes: task B's write cannot detach task A's load, but it takes that load's lease."""
    settings = make_settings(CACHE_STRATEGY=strategy)
    async with (
        running_app(settings, repository_factory=GatedRepository) as task_a,
        running_app(settings) as task_b,
    ):
        repo = task_a.resources.repository
        assert isinstance(repo, GatedRepository)
        thing = await subject(task_b.client, entity)
        await task_b.client.post("/ops/cache/invalidate", json={"prefix": ""})

        first = await repo.gate.pause(task_a.client.get(thing.url))  # 1. A loads the old value, lease held
        assert (await thing.write(task_b.client)).status_code in (200, 201)  # 2. B's write is acknowledged
        coalesced = task_a.resources.cache.counters["coalesced"]
        second = asyncio.create_task(task_a.client.get(thing.url))  # 3. a read on A after the ack
        await joined_or_done(task_a, second, coalesced)
        repo.gate.open()  # 4. A's load finishes; its fill is refused (the lease is gone)

        assert (await first).status_code == 200
        assert thing.value((await second).json()) == thing.new
        assert thing.value((await task_a.client.get(thing.url)).json()) == thing.new
        assert thing.value((await task_b.client.get(thing.url)).json()) == thing.new


@pytest.mark.parametrize(("strategy", "entity"), CASES)
async def test_an_invalidation_queued_during_replay_is_delivered_before_the_breaker_closes(
    make_settings: SettingsFactory, strategy: str, entity: str
) -> None:
    """A write's invalidation is queued (cache unusable); recovery replays it; a second write of the same
    key is queued while that replay is in flight, and another task fills the key in between."""
    settings = make_settings(CACHE_STRATEGY=strategy, REDIS_BREAKER_RESET_SECONDS="0.05")
    async with running_app(settings) as task_a, running_app(settings) as task_b:
        cache = task_a.resources.cache
        thing = await subject(task_a.client, entity)
        before = thing.value((await task_a.client.get(thing.url)).json())

        # The replay's delete lands, then pauses before the queue is updated.
        backend = cache.remote.backend
        gate = Gate()
        delete = backend.delete

        async def gated_delete(*args: Any) -> int:
            deleted = await delete(*args)
            await gate()
            return deleted

        backend.delete = gated_delete  # type: ignore[method-assign]

        cache.breaker.trip()  # task A cannot use the cache: its next invalidation is queued
        gate.arm()
        assert (await thing.write(task_a.client)).status_code in (200, 201)  # write 1, queued
        assert cache.pending_invalidations >= 1
        await asyncio.wait_for(gate.reached.wait(), 5)  # recovery delivered write 1's invalidation

        refilled = thing.value((await task_b.client.get(thing.url)).json())  # B fills the key (after write 1)
        assert refilled != before
        second_write = await thing.write(task_a.client)  # write 2, queued while the replay is in flight
        assert second_write.status_code in (200, 201)
        latest = thing.value((await task_a.client.get(thing.url)).json())  # A bypasses the cache: the truth
        gate.open()

        await wait_until(lambda: cache.breaker.state == "closed", what="breaker closed")
        assert cache.pending_invalidations == 0
        assert thing.value((await task_a.client.get(thing.url)).json()) == latest  # not B's older fill
        assert thing.value((await task_b.client.get(thing.url)).json()) == latest
