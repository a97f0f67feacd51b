"""The invalidation outbox: owed invalidations survive the writer, and any task delivers them.

Two app instances share the database, the Redis and the key prefix (two tasks of one service). The
writer's cache is made unusable by opening its breaker (no server is touched), so the interleavings
are forced with the breaker, gates and events, not with timing.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import redis
from catalog.errors import DatabaseUnavailableError

from tests.app.conftest import SettingsFactory
from tests.app.gates import Gate
from tests.app.helpers import AppUnderTest, new_product, running_app, wait_until

# The writer never recovers by itself during a test, and no task drains unless the test says so.
QUIET = {"REDIS_BREAKER_RESET_SECONDS": "600", "CACHE_OUTBOX_DRAIN_SECONDS": "600"}


async def outbox_rows(app: AppUnderTest) -> int:
    return await app.resources.repository.outbox_rows(app.resources.cache.keys.prefix)


async def until_no_rows(app: AppUnderTest, timeout: float = 5.0) -> None:
    """Wait for the periodic drains (rows become claimable CLAIM_AFTER_SECONDS after their commit)."""
    async with asyncio.timeout(timeout):
        while await outbox_rows(app):
            await asyncio.sleep(0.02)


async def price(app: AppUnderTest, url: str) -> int:
    response = await app.client.get(url)
    assert response.status_code == 200
    value: int = response.json()["price_cents"]
    return value


def gate_deletes(app: AppUnderTest, gate: Gate) -> None:
    """The backend's delete lands, then waits at `gate` when armed (inside a drain's transaction)."""
    backend = app.resources.cache.remote.backend
    delete = backend.delete

    async def gated_delete(*args: Any) -> int:
        deleted = await delete(*args)
        await gate()
        return deleted

    backend.delete = gated_delete  # type: ignore[method-assign]


async def test_every_write_leaves_no_row_once_the_cache_confirmed(make_settings: SettingsFactory) -> None:
    async with running_app(make_settings(**QUIET)) as app:
        product = await new_product(app.client)
        patched = await app.client.patch(f"/api/products/{product['id']}", json={"price_cents": 1})
        assert patched.status_code == 200
        assert await app.client.post(f"/api/products/{product['id']}/reviews", json={"rating": 4})
        assert (await app.client.delete(f"/api/products/{product['id']}")).status_code == 204
        outbox = app.resources.cache.outbox
        assert outbox is not None
        await outbox.settle()  # delivered rows are deleted off the response path
        assert await outbox_rows(app) == 0
        assert app.resources.repository.queries["insert_outbox"] == 4  # one row per write, each dropped


@pytest.mark.parametrize("strategy", ["cache-aside", "write-through"])
async def test_a_write_while_the_cache_is_down_leaves_a_row_that_another_tasks_recovery_drains_first(
    make_settings: SettingsFactory, strategy: str
) -> None:
    async with (
        running_app(make_settings(CACHE_STRATEGY=strategy, **QUIET)) as writer,
        running_app(make_settings(CACHE_STRATEGY=strategy, REDIS_BREAKER_RESET_SECONDS="0.05")) as other,
    ):
        product = await new_product(writer.client, price_cents=1000)
        url = f"/api/products/{product['id']}"
        assert await price(other, url) == 1000  # cached by the other task

        writer.resources.cache.breaker.trip()  # the writer cannot reach the cache
        assert (await writer.client.patch(url, json={"price_cents": 1001})).status_code == 200
        assert await outbox_rows(writer) == 1  # committed with the change
        assert writer.resources.cache.pending_invalidations >= 1
        assert await price(writer, url) == 1001  # the writer bypasses the cache: never stale
        assert await price(other, url) == 1000  # the other task still trusts the old entry (the window)

        # The other task's cache fails too; its recovery must deliver the writer's row before it closes.
        gate = Gate()
        gate_deletes(other, gate)
        gate.arm()
        cache = other.resources.cache
        cache.breaker.trip()
        cache.remote.recovery.start()
        await asyncio.wait_for(gate.reached.wait(), 5)  # the outbox drain deleted the key, not committed yet
        assert cache.breaker.state == "half-open"
        assert await price(other, url) == 1001  # bypassing while half-open
        gate.open()
        await wait_until(lambda: cache.breaker.state == "closed", what="the other task's breaker closed")

        assert await outbox_rows(writer) == 0
        assert cache.counters["outbox_replayed"] == 1
        assert await price(other, url) == 1001  # from the database, then cached
        assert await price(other, url) == 1001  # a hit, and current
        assert await price(writer, url) == 1001


async def test_rows_of_a_writer_that_died_are_delivered_by_a_survivors_periodic_drain(
    make_settings: SettingsFactory, sync_redis: redis.Redis
) -> None:
    settings = make_settings(REDIS_BREAKER_RESET_SECONDS="600", CACHE_OUTBOX_DRAIN_SECONDS="0.05")
    async with running_app(settings) as survivor:
        async with running_app(make_settings(**QUIET)) as writer:
            product = await new_product(writer.client, price_cents=2000)
            url = f"/api/products/{product['id']}"
            assert await price(survivor, url) == 2000
            writer.resources.cache.breaker.trip()
            for new_price in (2001, 2002, 2003):
                assert (await writer.client.patch(url, json={"price_cents": new_price})).status_code == 200
            assert await outbox_rows(writer) == 3
        # The writer is gone with its in-memory queue; only its rows remember what it owed.
        await until_no_rows(survivor)
        assert sync_redis.get(survivor.key(f"product:{product['id']}")) is None  # the stale entry is gone
        assert survivor.resources.cache.outbox is not None
        assert survivor.resources.cache.outbox.delivered_rows == 3
        assert await price(survivor, url) == 2003


async def test_a_crash_between_commit_and_invalidation_leaves_the_row(
    make_settings: SettingsFactory, sync_redis: redis.Redis
) -> None:
    """The writer stops after its commit and before its delete reaches the cache (cancelled: nothing after runs)."""
    async with (
        running_app(make_settings(**QUIET)) as writer,
        running_app(make_settings(REDIS_BREAKER_RESET_SECONDS="600", CACHE_OUTBOX_DRAIN_SECONDS="0.05")) as other,
    ):
        product = await new_product(writer.client, price_cents=3000)
        url = f"/api/products/{product['id']}"
        assert await price(other, url) == 3000

        backend = writer.resources.cache.remote.backend
        stuck = asyncio.Event()

        async def dies_before_deleting(*args: Any) -> int:
            stuck.set()
            await asyncio.Event().wait()  # never returns: the task is killed here
            raise AssertionError("unreachable")

        backend.delete = dies_before_deleting  # type: ignore[method-assign]
        write = asyncio.create_task(writer.client.patch(url, json={"price_cents": 3001}))
        await asyncio.wait_for(stuck.wait(), 5)
        assert await outbox_rows(writer) == 1  # committed, invalidation not delivered
        write.cancel()
        with pytest.raises(asyncio.CancelledError):
            await write

        await until_no_rows(other)
        assert sync_redis.get(other.key(f"product:{product['id']}")) is None  # the stale entry is gone
        assert await price(other, url) == 3001


async def test_a_failed_row_delete_after_delivery_only_leaves_a_redundant_row(make_settings: SettingsFactory) -> None:
    async with running_app(make_settings(**QUIET)) as app:
        product = await new_product(app.client, price_cents=4000)
        url = f"/api/products/{product['id']}"
        repository = app.resources.repository

        async def database_gone(row_ids: list[int]) -> int:
            raise DatabaseUnavailableError("database unavailable: ConnectionResetError")

        outbox = app.resources.cache.outbox
        assert outbox is not None
        await outbox.settle()  # the create's row is gone
        forget = repository.forget_outbox_rows
        repository.forget_outbox_rows = database_gone  # type: ignore[method-assign]
        assert (await app.client.patch(url, json={"price_cents": 4001})).status_code == 200  # committed and delivered
        await outbox.settle()
        repository.forget_outbox_rows = forget  # type: ignore[method-assign]
        assert await outbox_rows(app) == 1
        assert await price(app, url) == 4001

        assert await outbox.drain(app.resources.cache.remote._deliver_guarded) == 1  # a second delete: a miss
        assert await outbox_rows(app) == 0
        assert await price(app, url) == 4001


async def test_a_cache_timeout_during_the_recovery_drain_keeps_the_breaker_open(make_settings: SettingsFactory) -> None:
    """A hung cache times out with the same exception type as a hung database; the drain must not confuse them."""
    async with (
        running_app(make_settings(**QUIET)) as writer,
        running_app(make_settings(REDIS_BREAKER_RESET_SECONDS="0.05", CACHE_OUTBOX_DRAIN_SECONDS="600")) as other,
    ):
        product = await new_product(writer.client, price_cents=5000)
        url = f"/api/products/{product['id']}"
        assert await price(other, url) == 5000
        writer.resources.cache.breaker.trip()
        assert (await writer.client.patch(url, json={"price_cents": 5001})).status_code == 200
        assert await outbox_rows(writer) == 1

        backend = other.resources.cache.remote.backend
        delete = backend.delete
        failed = asyncio.Event()

        async def times_out_once(*args: Any) -> int:
            if not failed.is_set():
                failed.set()
                raise TimeoutError("the cache did not answer")
            return await delete(*args)

        backend.delete = times_out_once  # type: ignore[method-assign]
        cache = other.resources.cache
        cache.breaker.trip()
        cache.remote.recovery.start()
        await asyncio.wait_for(failed.wait(), 5)
        await wait_until(lambda: cache.breaker.state == "closed", what="the other task's breaker closed")
        assert await outbox_rows(other) == 0  # closed only after the row was delivered, on the second attempt
        assert await price(other, url) == 5001
