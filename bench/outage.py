"""Redis outage under load: the private Redis is stopped and restarted (empty) while wrk reads products.

First a baseline run on the warm cache, then the same load while Redis goes away at `stop_at` and a
fresh, empty server comes back on the same port at `restart_at` (as a replaced node would). The app
should fail open: requests go to the database while the breaker is open, and none fail.
"""

from __future__ import annotations

import time
from typing import Any

from bench.servers import AppServer, BenchSetupError, PrivateRedis
from bench.throughput import WARM_PRODUCTS, wrk, wrk_popen, wrk_result

PATH = "/api/products/{id}"


def _stats(app: AppServer) -> dict[str, Any]:
    stats = app.json("/ops/cache/stats")
    assert isinstance(stats, dict)
    return stats


def run(
    *,
    database: str,
    baseline_seconds: int = 12,
    outage_seconds: int = 12,
    stop_at: float = 3,
    restart_at: float = 7,
    connections: int = 16,
) -> dict[str, Any]:
    """Baseline, then the outage run; failures and p99 of both, and what the app's breaker did."""
    server = PrivateRedis()
    server.start()
    try:
        app = AppServer(database, server.port)
        with app:
            for product_id in range(1, WARM_PRODUCTS + 1):
                status, _ = app.get(f"/api/products/{product_id}")
                if status != 200:
                    raise BenchSetupError(f"warm-up: product {product_id} answered {status}")
            baseline_started = time.monotonic()
            baseline = wrk(
                app.base_url, PATH, WARM_PRODUCTS, seconds=baseline_seconds, connections=connections, timeline=True
            )
            before = _stats(app)
            proc = wrk_popen(app.base_url, PATH, WARM_PRODUCTS, seconds=outage_seconds, connections=connections)
            started = time.monotonic()
            stopped: float | None = None
            restarted: float | None = None
            breaker: list[tuple[float, str]] = []
            while proc.poll() is None and time.monotonic() - started < outage_seconds + 30:
                now = time.monotonic() - started
                if stopped is None and now >= stop_at:
                    server.stop()
                    stopped = time.monotonic() - started
                elif stopped is not None and restarted is None and now >= restart_at:
                    server.start()
                    restarted = time.monotonic() - started
                state = str(_stats(app)["breaker"])
                if not breaker or breaker[-1][1] != state:
                    breaker.append((round(time.monotonic() - started, 2), state))
                time.sleep(0.2)
            outage = wrk_result(proc, timeout=60)
            after = _stats(app)
    finally:
        server.close()

    def counter(name: str) -> int:
        return int(after["counters"].get(name, 0)) - int(before["counters"].get(name, 0))

    return {
        "path": PATH,
        "connections": connections,
        "baseline": _summary(baseline, baseline_started),
        "outage": _summary(outage, started),
        "events_s": {
            "redis_stopped": round(stopped, 2) if stopped is not None else None,
            "redis_restarted": round(restarted, 2) if restarted is not None else None,
            "breaker": breaker,
        },
        "failed_requests": outage["failed"],
        "added_p99_ms": round((outage["p99_us"] - baseline["p99_us"]) / 1000, 2),
        "cache_errors": counter("errors"),
        "bypassed_reads": counter("bypassed"),
        "database_queries": int(after["database_queries"]) - int(before["database_queries"]),
        "breaker_after": after["breaker"],
    }


def _timeline(pairs: list[list[int]], origin: float) -> list[list[float]]:
    """wrk's [half second of CLOCK_MONOTONIC, responses] -> [mid-bucket seconds since `origin`, responses/s]."""
    return [[round(key / 2 + 0.25 - origin, 2), 2 * count] for key, count in pairs]


def _summary(result: dict[str, Any], origin: float) -> dict[str, Any]:
    return {
        "requests": result["requests"],
        "rps": round(result["rps"], 1),
        "p50_ms": round(result["p50_us"] / 1000, 2),
        "p99_ms": round(result["p99_us"] / 1000, 2),
        "max_ms": round(result["max_us"] / 1000, 2),
        "failed": result["failed"],
        "non_2xx": result["errors_status"],
        "socket_errors": result["failed"] - result["errors_status"],
        "ok_per_second": _timeline(result["ok_by_half_second"], origin),
        "failed_per_second": _timeline(result["bad_by_half_second"], origin),
    }
