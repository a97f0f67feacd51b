"""The in-flight bound on cache commands: never more holders than slots, waiters served in arrival order."""

from __future__ import annotations

import asyncio
import random

import pytest
from catalog.cache.resilience.inflight import InFlightLimit


async def hold(limit: InFlightLimit, order: list[int], label: int, seconds: float = 0.0) -> None:
    if not limit.try_acquire():
        await limit.wait()
    try:
        order.append(label)
        await asyncio.sleep(seconds)
    finally:
        limit.release()


def test_a_limit_needs_a_slot() -> None:
    with pytest.raises(ValueError, match="at least one slot"):
        InFlightLimit(0)


async def test_free_slots_are_taken_without_waiting() -> None:
    limit = InFlightLimit(2)
    assert limit.try_acquire()
    assert limit.try_acquire()
    assert not limit.try_acquire()
    limit.release()
    assert limit.free == 1
    limit.release()
    assert limit.free == 2


async def test_never_more_holders_than_slots_under_a_random_load() -> None:
    limit = InFlightLimit(3)
    holding = 0
    most = 0
    rng = random.Random(7)

    async def command() -> None:
        nonlocal holding, most
        if not limit.try_acquire():
            await limit.wait()
        try:
            holding += 1
            most = max(most, holding)
            await asyncio.sleep(rng.random() / 1000)
        finally:
            holding -= 1
            limit.release()

    await asyncio.gather(*(command() for _ in range(200)))
    assert most == 3
    assert limit.free == 3
    assert limit.waiting == 0


async def test_waiters_are_served_in_arrival_order_and_newcomers_do_not_overtake() -> None:
    limit = InFlightLimit(1)
    order: list[int] = []
    first = asyncio.create_task(hold(limit, order, 0, seconds=0.01))
    await asyncio.sleep(0)
    waiters = [asyncio.create_task(hold(limit, order, label)) for label in (1, 2, 3)]
    await asyncio.sleep(0)
    assert limit.waiting == 3
    await first
    # A newcomer while the handed-over slot is in flight must queue behind the waiters.
    late = asyncio.create_task(hold(limit, order, 4))
    await asyncio.gather(*waiters, late)
    assert order == [0, 1, 2, 3, 4]
    assert limit.free == 1


async def two_waiters() -> tuple[InFlightLimit, list[int], asyncio.Task[None], asyncio.Task[None]]:
    """A one-slot limit whose slot is taken, and two holders (labelled 1 and 2) queued for it."""
    limit = InFlightLimit(1)
    assert limit.try_acquire()
    order: list[int] = []
    first = asyncio.create_task(hold(limit, order, 1))
    second = asyncio.create_task(hold(limit, order, 2))
    await asyncio.sleep(0)
    return limit, order, first, second


async def test_a_cancelled_waiter_leaves_the_queue() -> None:
    limit, order, gone, stays = await two_waiters()
    gone.cancel()
    await asyncio.sleep(0)
    assert limit.waiting == 1
    limit.release()
    await stays
    assert order == [2]
    assert gone.cancelled()
    assert limit.free == 1


async def test_a_waiter_cancelled_after_the_handover_passes_its_slot_on() -> None:
    limit, order, handed, nxt = await two_waiters()
    limit.release()  # the slot is handed to `handed`, which has not run yet
    handed.cancel()
    await asyncio.gather(handed, nxt, return_exceptions=True)
    assert order == [2]
    assert limit.free == 1
