"""The near cache (L1): bounds, and coherence through client tracking against a private redis-server.

Two cache layers on one private server stand for two ECS tasks. Waiting for an invalidation to
arrive polls a condition (bounded), never sleeps for a fixed time; the race test orders its steps
with events.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator

import pytest
from catalog.cache import CacheLayer, Entry, build_cache
from catalog.cache.near import NearCache, NearCacheLayer
from catalog.metrics import Metrics
from catalog.settings import Settings, load_settings

from tests.app.servers import RedisServer

PREFIX = "neartest:"
TTL_MS = 60_000


def settings_for(port: int, **overrides: str) -> Settings:
    env = {
        "APP_ENV": "dev",
        "REDIS_HOST": "127.0.0.1",
        "REDIS_PORT": str(port),
        "CACHE_KEY_PREFIX": PREFIX,
        "CACHE_NEAR_HEARTBEAT_SECONDS": "0.1",
        "REDIS_BREAKER_RESET_SECONDS": "0.2",
        "LOG_LEVEL": "WARNING",
    }
    env.update(overrides)
    return load_settings(env)


async def until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Wait until `condition()` holds (the event loop keeps running the listener meanwhile)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.005)


@pytest.fixture
def server() -> Iterator[RedisServer]:
    redis_server = RedisServer().start()
    yield redis_server
    redis_server.close()


@pytest.fixture
async def tasks(server: RedisServer) -> AsyncIterator[tuple[NearCacheLayer, NearCacheLayer]]:
    """Two near-cached layers ("tasks") on the private server, both with tracking live."""
    layers = []
    for _ in range(2):
        layer = await build_cache(settings_for(server.port), Metrics())
        assert isinstance(layer, NearCacheLayer)
        layers.append(layer)
    for layer in layers:
        await asyncio.wait_for(layer.listener.connected.wait(), 5)
    yield layers[0], layers[1]
    for layer in layers:
        await layer.close()


def key_of(layer: CacheLayer, logical: str) -> str:
    return layer.keys.entry(logical)


async def store(
    layers: tuple[NearCacheLayer, ...],
    logical: str,
    body: bytes,
    version: int = 1,
    px: int = TTL_MS,
    *,
    wait: bool = True,
) -> None:
    """Put an entry in Redis as a fill would, and wait until every listening layer heard of the change.

    (Until then a read's fill would be voided by that very invalidation, correctly but unhelpfully.)
    """
    listening = [(layer, layer.listener.messages) for layer in layers if wait and layer.near.enabled]
    backend = layers[0].remote.backend
    await backend.client.set(key_of(layers[0], logical), Entry(body, version).encode(), px=px)  # type: ignore[attr-defined]
    for layer, seen in listening:
        await until(lambda layer=layer, seen=seen: layer.listener.messages > seen)  # type: ignore[misc]


async def test_a_hit_is_served_from_the_near_cache_after_one_redis_read(tasks: tuple[NearCacheLayer, ...]) -> None:
    a, _ = tasks
    await store(tasks, "product:1", b'{"v":1}')
    key = key_of(a, "product:1")
    first = await a.lookup(key, "product")
    assert first is not None
    assert first.payload == b'{"v":1}'
    assert len(a.near) == 1
    gets = a.remote.metrics.cache_operation_seconds.labels("get").sum
    second = await a.lookup(key, "product")
    assert second == first
    assert a.counters["near_hits"] == 1
    assert a.remote.metrics.cache_operation_seconds.labels("get").sum == gets  # no Redis call


async def test_an_entry_expires_with_its_redis_key(tasks: tuple[NearCacheLayer, ...]) -> None:
    a, _ = tasks
    key = key_of(a, "product:7")
    await store(tasks, "product:7", b"{}", px=2_000)
    await a.lookup(key, "product")
    _, expires_at, _ = a.near._entries[key]
    remaining = expires_at - asyncio.get_running_loop().time()
    assert 0 < remaining <= 2.0


async def test_a_write_in_another_task_evicts_the_entry(tasks: tuple[NearCacheLayer, ...]) -> None:
    a, b = tasks
    await store(tasks, "product:2", b'{"v":1}')
    key = key_of(b, "product:2")
    await b.lookup(key, "product")
    assert len(b.near) == 1
    await a.invalidate(["product:2"])
    await until(lambda: len(b.near) == 0)
    assert await b.lookup(key, "product") is None


async def test_the_writing_task_evicts_locally_before_the_write_returns(tasks: tuple[NearCacheLayer, ...]) -> None:
    a, _ = tasks
    # Deaf to the server: only the local eviction can remove the entry.
    a.listener._handle = lambda message: None  # type: ignore[method-assign]
    await store((a,), "product:3", b'{"v":1}', wait=False)
    key = key_of(a, "product:3")
    await a.lookup(key, "product")
    await a.invalidate(["product:3"])
    assert len(a.near) == 0
    assert await a.lookup(key, "product") is None
    # Write-through: the put replaces the entry in Redis and evicts the old one here.
    await store((a,), "product:3", b'{"v":1}', wait=False)
    await a.lookup(key, "product")
    await a.put("product:3", Entry(b'{"v":2}', 2))
    cached = await a.lookup(key, "product")
    assert cached is not None
    assert cached.payload == b'{"v":2}'


async def test_a_dropped_invalidation_connection_flushes_and_bypasses_until_tracking_is_back(
    tasks: tuple[NearCacheLayer, ...],
) -> None:
    a, b = tasks
    await store(tasks, "product:4", b'{"v":1}')
    key = key_of(b, "product:4")
    await b.lookup(key, "product")
    assert len(b.near) == 1
    reconnects = b.listener.reconnects
    b.listener.drop_connection()
    await until(lambda: not b.near.enabled)
    assert len(b.near) == 0
    # While tracking is down, a write elsewhere is not announced to b; b reads Redis, never its L1.
    await store(tasks, "product:4", b'{"v":2}', 2)
    if not b.near.enabled:
        got = await b.lookup(key, "product")
        assert got is not None
        assert got.payload == b'{"v":2}'
    await asyncio.wait_for(b.listener.connected.wait(), 5)
    assert b.listener.reconnects > reconnects
    got = await b.lookup(key, "product")
    assert got is not None
    assert got.payload == b'{"v":2}'
    assert len(b.near) == 1  # re-enabled: the read filled the L1 again
    await a.invalidate(["product:4"])
    await until(lambda: len(b.near) == 0)


async def test_a_paused_redis_flushes_the_near_cache_and_resumed_tracking_re_enables_it(
    server: RedisServer, tasks: tuple[NearCacheLayer, ...]
) -> None:
    _a, b = tasks
    await store(tasks, "product:5", b'{"v":1}')
    key = key_of(b, "product:5")
    await b.lookup(key, "product")
    server.pause()
    try:
        # No reply to the heartbeat for 2 x 0.1 s: flushed and bypassed.
        await until(lambda: not b.near.enabled)
        assert len(b.near) == 0
    finally:
        server.resume()
    await asyncio.wait_for(b.listener.connected.wait(), 5)
    await until(lambda: b.remote.breaker.allow())
    got = await b.lookup(key, "product")
    assert got is not None
    assert b.near.enabled
    assert len(b.near) == 1


async def test_a_fill_that_started_before_an_invalidation_is_not_inserted(tasks: tuple[NearCacheLayer, ...]) -> None:
    a, b = tasks
    await store(tasks, "product:6", b'{"v":1}')
    key = key_of(b, "product:6")
    read_done = asyncio.Event()
    release = asyncio.Event()
    real = b.remote.lookup_with_ttl

    async def slow_lookup(k: str, entity: str) -> tuple[Entry, int] | None:
        found = await real(k, entity)  # reads v1 from Redis...
        read_done.set()
        await release.wait()  # ...and is held while another task writes
        return found

    b.remote.lookup_with_ttl = slow_lookup  # type: ignore[method-assign]
    reader = asyncio.create_task(b.lookup(key, "product"))
    await read_done.wait()
    ticket = b.near._fills[key][0]
    await a.invalidate(["product:6"])
    await until(lambda: not ticket.valid)  # b's listener got the invalidation while the fill was open
    release.set()
    old = await reader
    assert old is not None
    assert old.payload == b'{"v":1}'
    assert len(b.near) == 0  # but it never entered the L1
    assert b.near.stats["void_fills"] == 1
    b.remote.lookup_with_ttl = real  # type: ignore[method-assign]
    assert await b.lookup(key, "product") is None


async def test_the_setting_turns_it_off(server: RedisServer) -> None:
    layer = await build_cache(settings_for(server.port, CACHE_NEAR_ENABLED="false"), Metrics())
    try:
        assert not isinstance(layer, NearCacheLayer)
    finally:
        await layer.close()


def entry(size: int) -> Entry:
    return Entry(b"x" * size, 1)


def test_bounded_by_entries_least_recently_used_first() -> None:
    near = NearCache(max_entries=3, max_bytes=10**9)
    near.enable()
    for name in "abc":
        near.insert(near.ticket(name), entry(1), TTL_MS)
    assert near.get("a") is not None  # a is now the most recent
    near.insert(near.ticket("d"), entry(1), TTL_MS)
    assert len(near) == 3
    assert near.get("b") is None
    assert all(near.get(name) is not None for name in "acd")


def test_bounded_by_bytes() -> None:
    near = NearCache(max_entries=1000, max_bytes=3 * (1000 + 1 + 200))
    near.enable()
    for name in "abcd":
        near.insert(near.ticket(name), entry(1000), TTL_MS)
    assert len(near) == 3
    assert near.get("a") is None
    assert near.bytes <= near.max_bytes
    assert not near.insert(near.ticket("huge"), entry(10_000), TTL_MS)  # larger than the whole budget
    near.invalidate(["b"])
    assert near.bytes == 2 * (1000 + 1 + 200)


def test_a_flush_voids_fills_in_progress_and_a_disabled_cache_serves_nothing() -> None:
    near = NearCache(max_entries=10, max_bytes=10**6)
    near.enable()
    ticket = near.ticket("a")
    near.flush()
    assert not near.insert(ticket, entry(1), TTL_MS)
    near.insert(near.ticket("a"), entry(1), TTL_MS)
    near.disable()
    assert near.get("a") is None
    assert len(near) == 0
    assert not near.insert(near.ticket("a"), entry(1), TTL_MS)
    near.enable()
    assert near.get("a") is None  # starts empty


def test_every_read_checks_the_silence_limit_itself() -> None:
    # The watchdog task wakes once per heartbeat and may run late (a busy loop): a read past the
    # instant the last reply vouched for never serves the L1, whether or not the watchdog has run.
    now = [100.0]
    near = NearCache(max_entries=10, max_bytes=10**6, clock=lambda: now[0])
    near.enable(trusted_for=1.0)
    near.insert(near.ticket("a"), entry(1), TTL_MS)
    in_flight = near.ticket("b")  # a fill that started before the silence
    now[0] += 0.9
    assert near.get("a") is not None
    now[0] += 0.2  # 1.1 s since the last reply
    assert near.get("a") is None
    assert len(near) == 0  # flushed, not only hidden
    assert not near.insert(in_flight, entry(1), TTL_MS)
    assert not near.insert(near.ticket("c"), entry(1), TTL_MS)
    assert near.stats["lapses"] == 1
    assert near.get("a") is None
    assert near.stats["lapses"] == 1  # one flush per lapse
    near.heard(1.0)  # a reply again: vouched for, and empty
    assert near.get("a") is None
    assert near.insert(near.ticket("a"), entry(1), TTL_MS)
    assert near.get("a") is not None
    now[0] += 1.5
    assert near.get("a") is None
    assert near.stats["lapses"] == 2
