"""The project's near cache beside cashews' `client_side` mode, in one process, on one private Redis.

Both keep an in-process copy coherent through Redis client tracking in broadcast mode. Two
instances of each stand for two tasks. Measured: the cost of a hit (a read served in-process), of
a read through to Redis without the near cache (plain project layer, cashews without client_side),
and the staleness of instance B after instance A's acknowledged write: the time until B's next read
returns the new value (B polls without yielding the loop for longer than one read).
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

from cashews import Cache
from catalog.cache import CacheLayer, Entry, build_cache
from catalog.cache.near import NearCacheLayer
from catalog.metrics import Metrics
from catalog.settings import Settings

PREFIX = "nearcmp:"
KEYS = 100
POLL_LIMIT_S = 0.5
GIVE_UP_AFTER = 10
"""Writes never seen fresh within POLL_LIMIT_S before the variant is reported as not converging."""


def _settings(port: int, *, near: bool) -> Settings:
    return Settings(
        redis_port=port, cache_key_prefix=PREFIX, cache_near_enabled=near, cache_ttl_seconds=3600, log_level="WARNING"
    )


async def _per_call_us(call: Callable[[int], Awaitable[Any]], calls: int) -> float:
    started = time.perf_counter()
    for i in range(calls):
        await call(i % KEYS)
    return 1e6 * (time.perf_counter() - started) / calls


async def _staleness(
    write: Callable[[int, int], Awaitable[None]], read: Callable[[int], Awaitable[int | None]], samples: int
) -> dict[str, float]:
    gaps: list[float] = []
    for i in range(samples):
        if gaps.count(float("inf")) >= GIVE_UP_AFTER:
            break
        key = i % KEYS
        await read(key)  # B holds the old value in-process
        value = 1_000_000 + i
        await write(key, value)
        acked = time.perf_counter()
        while await read(key) != value:
            if time.perf_counter() - acked > POLL_LIMIT_S:
                gaps.append(float("inf"))
                break
            await asyncio.sleep(0)
        else:
            gaps.append(time.perf_counter() - acked)
    ordered = sorted(gaps)
    return {
        "samples": len(gaps),
        "never_fresh": gaps.count(float("inf")),
        "p50_ms": round(1000 * statistics.median(ordered), 3),
        "p99_ms": round(1000 * ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))], 3),
        "max_ms": round(1000 * ordered[-1], 3),
    }


async def _project(port: int, samples: int) -> dict[str, Any]:
    a = await build_cache(_settings(port, near=True), Metrics())
    b = await build_cache(_settings(port, near=True), Metrics())
    plain = await build_cache(_settings(port, near=False), Metrics())
    assert isinstance(a, NearCacheLayer)
    assert isinstance(b, NearCacheLayer)
    try:
        await asyncio.wait_for(a.listener.connected.wait(), 5)
        await asyncio.wait_for(b.listener.connected.wait(), 5)
        keys = [a.keys.entry(a.keys.product(i)) for i in range(KEYS)]

        async def write(layer: CacheLayer, key: int, value: int) -> None:
            await layer.put(layer.keys.product(key), Entry(b"%d" % value, value))

        async def read(layer: CacheLayer, key: int) -> int | None:
            entry = await layer.lookup(keys[key], "product")
            return None if entry is None or entry.payload is None else int(entry.payload)

        for i in range(KEYS):
            await write(a, i, 1)
        for _ in range(3):  # the fills' own invalidations void the first copies
            for i in range(KEYS):
                await read(b, i)
        await asyncio.sleep(0.05)
        for i in range(KEYS):
            await read(b, i)
        hit_us = await _per_call_us(lambda k: read(b, k), 20_000)
        remote_us = await _per_call_us(lambda k: read(plain, k), 2_000)
        stale = await _staleness(lambda k, v: write(a, k, v), lambda k: read(b, k), samples)
        return {
            "hit_us": round(hit_us, 2),
            "redis_read_us": round(remote_us, 2),
            "staleness": stale,
            "near_counters": dict(b.near.stats),
        }
    finally:
        for layer in (a, b, plain):
            await layer.close()


async def _cashews(port: int, samples: int) -> dict[str, Any]:
    a, b, plain = Cache(), Cache(), Cache()
    a.setup(f"redis://127.0.0.1:{port}/0", client_side=True, client_side_prefix="cashews:")
    b.setup(f"redis://127.0.0.1:{port}/0", client_side=True, client_side_prefix="cashews:")
    plain.setup(f"redis://127.0.0.1:{port}/0")
    try:
        await a.init()
        await b.init()

        async def write(cache: Cache, key: int, value: int) -> None:
            await cache.set(f"k{key}", value, expire=3600)

        async def read(cache: Cache, key: int) -> int | None:
            value = await cache.get(f"k{key}")
            return None if value is None else int(value)

        for i in range(KEYS):
            await write(a, i, 1)
            await write(plain, i, 1)
        await asyncio.sleep(0.2)
        for i in range(KEYS):
            await read(b, i)
        hit_us = await _per_call_us(lambda k: read(b, k), 20_000)
        remote_us = await _per_call_us(lambda k: read(plain, k), 2_000)
        stale = await _staleness(lambda k, v: write(a, k, v), lambda k: read(b, k), samples)
        return {"hit_us": round(hit_us, 2), "redis_read_us": round(remote_us, 2), "staleness": stale}
    finally:
        for cache in (a, b, plain):
            await cache.close()


async def run(*, redis_port: int, samples: int) -> dict[str, Any]:
    """Both libraries on the same private Redis, one after the other."""
    results = {
        "project near cache": await _project(redis_port, samples),
        "cashews 7.6 client_side": await _cashews(redis_port, samples),
    }
    for name, r in results.items():
        s = r["staleness"]
        print(
            f"  {name:<24} hit {r['hit_us']:7.1f} us  Redis read {r['redis_read_us']:7.1f} us  "
            f"staleness p50 {s['p50_ms']} ms p99 {s['p99_ms']} ms max {s['max_ms']} ms",
            flush=True,
        )
    return {
        "keys": KEYS,
        "note": "in one process: two instances of each stand for two tasks; B polls after A's acknowledged write",
        "variants": results,
        "differences": [
            "cashews client_side fills its local copy after the Redis GET with no guard against an invalidation "
            "that arrives in between (a stale copy can stay until the key changes again); ours voids such fills",
            "cashews keeps local copies without the Redis TTL; ours expire with their Redis key",
            "cashews notices a dead connection only by a connection error (no heartbeat: a paused or partitioned "
            "server goes unnoticed); ours flushes after two silent heartbeats",
        ],
    }
