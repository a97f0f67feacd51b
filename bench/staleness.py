"""Cross-process staleness with near caches: how long after an acknowledged write another process serves the old row.

Two app processes (A and B, one uvicorn worker each, near cache on) share a private Redis. For each
write: B reads the product twice (so B's near cache holds it), A answers a PATCH with a new price
(the acknowledgement), A is read at once (any stale answer there is a correctness failure), then B
is polled until it serves the new price; the time from the acknowledgement to B's first fresh
answer is the staleness (it includes that read's own round trip: when B is fresh at once, the
figure is one request's latency). Then the same while the private Redis is paused (SIGSTOP) and resumed,
once with near caches and once without (the control): stale answers B gives after its near cache
must have flushed (twice the heartbeat after the pause began) are counted separately; with the
control beside them, what remains is the remote tier's own window (A's queued invalidations until
its breaker probe delivers them), not the near cache's.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import statistics
import threading
import time
from collections.abc import Callable
from typing import Any

import redis as redis_lib

from bench.servers import HOST, AppServer, PrivateRedis

PRODUCTS = 50
POLL_LIMIT_S = 3.0
HEARTBEAT_S = 0.5
BREAKER_RESET_S = 1.0
KEY_PREFIX = "catalog:v1:"  # the service's default CACHE_KEY_PREFIX, which AppServer keeps


class Client:
    """One persistent HTTP/1.1 connection (a Python load generator is fine here: we time gaps, not throughput)."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection(HOST, port, timeout=10)

    def price(self, product_id: int) -> int:
        self.conn.request("GET", f"/api/products/{product_id}")
        response = self.conn.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"GET product {product_id}: {response.status} {body[:200]!r}")
        price: int = json.loads(body)["price_cents"]
        return price

    def set_price(self, product_id: int, price: int) -> None:
        payload = json.dumps({"price_cents": price})
        self.conn.request("PATCH", f"/api/products/{product_id}", payload, {"content-type": "application/json"})
        response = self.conn.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"PATCH product {product_id}: {response.status} {body[:200]!r}")


def _percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {"p50_ms": 0.0, "p99_ms": 0.0, "max_ms": 0.0}
    ordered = sorted(values)
    return {
        "p50_ms": round(1000 * statistics.median(ordered), 2),
        "p99_ms": round(1000 * ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))], 2),
        "max_ms": round(1000 * ordered[-1], 2),
    }


StaleRead = tuple[float, bool]
"""When B answered an old price, and whether Redis itself held that old entry then (None-safe: False)."""


def _write_and_watch(
    a: Client,
    b: Client,
    product_id: int,
    price: int,
    remote_holds: Callable[[int, int], bool] | None = None,
) -> tuple[float, int, list[StaleRead]]:
    """(seconds until B was fresh, stale reads in A, B's stale answers).

    With `remote_holds(product_id, price)`, each stale answer of B is checked against Redis at once:
    True when Redis still held an entry with that old price (the remote tier's own staleness, which
    B would have served without a near cache too).
    """
    a.set_price(product_id, price)
    acked = time.perf_counter()
    stale_a = 0 if a.price(product_id) == price else 1
    stale_b: list[StaleRead] = []
    while True:
        now = time.perf_counter()
        seen = b.price(product_id)
        if seen == price:
            return now - acked, stale_a, stale_b
        stale_b.append((now, remote_holds(product_id, seen) if remote_holds is not None else False))
        if now - acked > POLL_LIMIT_S:
            return float("inf"), stale_a, stale_b


def _steady(a: Client, b: Client, writes: int, base_price: int) -> dict[str, Any]:
    gaps: list[float] = []
    stale_a = stale_b = 0
    for i in range(writes):
        product_id = 1 + i % PRODUCTS
        b.price(product_id)
        b.price(product_id)
        gap, stale, stale_reads = _write_and_watch(a, b, product_id, base_price + i)
        gaps.append(gap)
        stale_a += stale
        stale_b += len(stale_reads)
    return {
        "writes": writes,
        **_percentiles(gaps),
        "stale_reads_in_writer": stale_a,
        "stale_reads_in_other": stale_b,
        "never_fresh": gaps.count(float("inf")),
    }


def _paused(a: Client, b: Client, redis: PrivateRedis, *, near: bool, base_price: int) -> dict[str, Any]:
    assert redis._proc is not None
    pid = redis._proc.pid
    pause_at, pause_for = 0.5, 2.0
    started = time.perf_counter()
    paused_at: list[float] = []

    def pauser() -> None:
        time.sleep(pause_at)
        paused_at.append(time.perf_counter())
        os.kill(pid, signal.SIGSTOP)
        time.sleep(pause_for)
        os.kill(pid, signal.SIGCONT)

    probe = redis_lib.Redis(host=HOST, port=redis.port, socket_timeout=0.05, socket_connect_timeout=0.05)

    def remote_holds(product_id: int, old_price: int) -> bool:
        # Redis's own entry now: while it is paused the probe times out, and a stale answer then can
        # only have come from B's L1 (B's own Redis reads time out too and go to PostgreSQL).
        try:
            raw = probe.get(f"{KEY_PREFIX}{{product:{product_id}}}")
        except redis_lib.RedisError:
            return False
        if not raw or not raw.startswith(b"V"):
            return False
        held: int = json.loads(raw[raw.index(b"\n") + 1 :])["price_cents"]
        return held == old_price

    thread = threading.Thread(target=pauser)
    thread.start()
    writes = stale_a = 0
    stale_b: list[StaleRead] = []
    gaps: list[float] = []
    i = 0
    try:
        while time.perf_counter() - started < pause_at + pause_for + 3.0:
            product_id = 1 + i % PRODUCTS
            b.price(product_id)
            gap, stale, stale_reads = _write_and_watch(a, b, product_id, base_price + i, remote_holds)
            gaps.append(gap)
            stale_a += stale
            stale_b += stale_reads
            writes += 1
            i += 1
    finally:
        thread.join()
        os.kill(pid, signal.SIGCONT)
        probe.close()
    flush_deadline = paused_at[0] + 2 * HEARTBEAT_S
    late = [held for at, held in stale_b if at > flush_deadline]
    return {
        "near_cache": near,
        "writes": writes,
        "pause_s": pause_for,
        **_percentiles([g for g in gaps if g != float("inf")]),
        "stale_reads_in_writer": stale_a,
        "stale_reads_in_other": len(stale_b),
        "stale_reads_in_other_after_flush_deadline": len(late),
        # Of those, the ones Redis itself did not hold: only a near cache (L1) could have served them.
        "stale_reads_in_other_after_flush_deadline_not_in_redis": late.count(False),
    }


def run(*, database: str, writes: int) -> dict[str, Any]:
    """Steady-state staleness over `writes` writes, then the paused-Redis runs with and without near caches."""
    env = {
        "CACHE_NEAR_HEARTBEAT_SECONDS": str(HEARTBEAT_S),
        "REDIS_BREAKER_RESET_SECONDS": str(BREAKER_RESET_S),
    }
    result: dict[str, Any] = {"heartbeat_s": HEARTBEAT_S, "breaker_reset_s": BREAKER_RESET_S}
    with PrivateRedis() as redis:
        with (
            AppServer(database, redis.port, extra_env=env) as app_a,
            AppServer(database, redis.port, extra_env=env) as app_b,
        ):
            a, b = Client(app_a.port), Client(app_b.port)
            result["steady"] = _steady(a, b, writes, base_price=10_000)
            s = result["steady"]
            print(
                f"  steady, near cache on: {s['writes']} writes; staleness in the other process p50 {s['p50_ms']} ms, "
                f"p99 {s['p99_ms']} ms, max {s['max_ms']} ms; stale reads in the writer {s['stale_reads_in_writer']}",
                flush=True,
            )
            result["paused"] = _paused(a, b, redis, near=True, base_price=20_000)
        off = {**env, "CACHE_NEAR_ENABLED": "false"}
        with (
            AppServer(database, redis.port, extra_env=off) as app_a,
            AppServer(database, redis.port, extra_env=off) as app_b,
        ):
            time.sleep(BREAKER_RESET_S)
            result["paused_control"] = _paused(
                Client(app_a.port), Client(app_b.port), redis, near=False, base_price=30_000
            )
    for name in ("paused", "paused_control"):
        p = result[name]
        print(
            f"  Redis paused {p['pause_s']} s, near cache {'on ' if p['near_cache'] else 'off'}: {p['writes']} writes; "
            f"stale reads in the writer {p['stale_reads_in_writer']}, in the other process {p['stale_reads_in_other']} "
            f"({p['stale_reads_in_other_after_flush_deadline']} after the flush deadline, "
            f"{p['stale_reads_in_other_after_flush_deadline_not_in_redis']} of them not held by Redis itself); "
            f"max staleness {p['max_ms']} ms",
            flush=True,
        )
    result["targets"] = {
        "p99_ms": {"target": "<= 50", "met": result["steady"]["p99_ms"] <= 50},
        "stale_reads_in_writer": {
            "target": "0",
            "met": result["steady"]["stale_reads_in_writer"] == 0 and result["paused"]["stale_reads_in_writer"] == 0,
        },
        # After the flush deadline the other process may still answer what Redis itself holds (the
        # writer's invalidation queued until its breaker probe or an outbox drain delivers it: the
        # control without near caches has the same window; how many reads land in it depends on
        # whether a write falls just after the resume). What the near cache must never do is
        # answer an old value Redis no longer holds.
        "stale_after_flush_from_near_cache": {
            "target": "0",
            "met": result["paused"]["stale_reads_in_other_after_flush_deadline_not_in_redis"] == 0,
        },
    }
    return result
