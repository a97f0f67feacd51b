"""HTTP throughput and latency of one uvicorn worker, with wrk as the load generator.

Two app processes run side by side on the same database: one with the cache (a private Redis) and
one with no cache at all (its Redis port has no server and its circuit breaker stays open, so every
read goes to the database: the app's own no-cache path). The endpoints are measured interleaved, a
few short rounds each, and each figure is the median over rounds; ratios are medians of per-round
ratios. Compare ratios, not absolutes.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.servers import AppServer, BenchSetupError, require_binary

WRK_SCRIPT = Path(__file__).resolve().parent / "wrk" / "random_id.lua"
WARM_PRODUCTS = 1000
CATEGORIES = 20


@dataclass(frozen=True)
class Endpoint:
    """One thing to load."""

    name: str
    label: str
    cached: bool
    """True: the app with the cache; False: the app without one."""
    path: str
    ids: int
    """Ids drawn uniformly from 1..ids for {id} in the path."""


ENDPOINTS = (
    Endpoint("noop", "bare endpoint, no I/O", True, "/bench/noop", 1),
    Endpoint("redis_get", "bare endpoint, one Redis GET", True, "/bench/redis-get/product:{id}", WARM_PRODUCTS),
    Endpoint("product_hit", "product read, cache hit", True, "/api/products/{id}", WARM_PRODUCTS),
    Endpoint("db_get", "bare endpoint, one PK SELECT", True, "/bench/db-get/{id}", 100_000),
    Endpoint("product_db", "product read, no cache (DB)", False, "/api/products/{id}", 100_000),
    Endpoint("summary_hit", "category summary, cache hit", True, "/api/categories/{id}/summary", CATEGORIES),
    Endpoint("summary_db", "category summary, no cache (DB)", False, "/api/categories/{id}/summary", CATEGORIES),
)


def _wrk_command(
    url: str, path: str, ids: int, *, seconds: int, connections: int, timeline: bool
) -> tuple[list[str], dict[str, str]]:
    binary = require_binary("wrk", "`make bench` installs it (apt-get install -y wrk)")
    env = {**os.environ, "WRK_PATH": path, "WRK_IDS": str(ids), "WRK_TIMELINE": "1" if timeline else "0"}
    # wrk takes whole seconds only ("-d1.5s" is refused).
    args = [binary, "-t1", f"-c{connections}", f"-d{max(1, seconds)}s", "--timeout", "5s", "-s", str(WRK_SCRIPT), url]
    return args, env


def _parse_wrk(stdout: str, stderr: str, returncode: int | None) -> dict[str, Any]:
    for line in stdout.splitlines():
        if line.startswith("WRKJSON "):
            result: dict[str, Any] = json.loads(line.removeprefix("WRKJSON "))
            result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
            result["failed"] = sum(result[k] for k in result if k.startswith("errors_"))
            return result
    raise BenchSetupError(f"wrk printed no summary (exit {returncode}): {stderr.strip()[-500:]}")


def wrk(url: str, path: str, ids: int, *, seconds: int, connections: int, timeline: bool = False) -> dict[str, Any]:
    """Run wrk (one thread) against url+path; return the JSON its script prints, with rps and failed added."""
    args, env = _wrk_command(url, path, ids, seconds=seconds, connections=connections, timeline=timeline)
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=seconds + 60, check=False)  # noqa: S603
    return _parse_wrk(done.stdout, done.stderr, done.returncode)


def wrk_popen(url: str, path: str, ids: int, *, seconds: int, connections: int) -> subprocess.Popen[str]:
    """Start wrk in the background with the per-second timeline; read it with `wrk_result`."""
    args, env = _wrk_command(url, path, ids, seconds=seconds, connections=connections, timeline=True)
    return subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # noqa: S603


def wrk_result(proc: subprocess.Popen[str], timeout: float) -> dict[str, Any]:
    """Wait for a background wrk and parse its summary."""
    stdout, stderr = proc.communicate(timeout=timeout)
    return _parse_wrk(stdout, stderr, proc.returncode)


def warm(app: AppServer) -> None:
    """Put products 1..WARM_PRODUCTS and every category summary in the cache."""
    for product_id in range(1, WARM_PRODUCTS + 1):
        status, _ = app.get(f"/api/products/{product_id}")
        if status != 200:
            raise BenchSetupError(f"warm-up: GET /api/products/{product_id} answered {status}")
    for category_id in range(1, CATEGORIES + 1):
        status, _ = app.get(f"/api/categories/{category_id}/summary", timeout=30)
        if status != 200:
            raise BenchSetupError(f"warm-up: category summary {category_id} answered {status}")


def _db_queries(app: AppServer) -> int:
    stats = app.json("/ops/cache/stats")
    assert isinstance(stats, dict)
    return int(stats["database_queries"])


def run(
    *, database: str, redis_port: int, dead_redis_port: int, rounds: int, seconds: int, connections: int
) -> dict[str, Any]:
    """Every endpoint, interleaved, `rounds` times."""
    cached = AppServer(database, redis_port)
    # No server on dead_redis_port: the breaker opens after a few refused connections and, with a long
    # reset interval, stays open, so this app never calls Redis during the measurement.
    uncached = AppServer(database, dead_redis_port, extra_env={"REDIS_BREAKER_RESET_SECONDS": "600"})
    samples: dict[str, list[dict[str, Any]]] = {e.name: [] for e in ENDPOINTS}
    queries: dict[str, list[float]] = {e.name: [] for e in ENDPOINTS}
    with cached, uncached:
        warm(cached)
        for _ in range(10):
            uncached.get("/api/products/1")
        breaker = uncached.json("/ops/cache/stats")
        assert isinstance(breaker, dict)
        if breaker["breaker"] != "open":
            raise BenchSetupError(f"the no-cache app's breaker is {breaker['breaker']!r}, expected 'open'")
        for _ in range(rounds):
            for endpoint in ENDPOINTS:
                app = cached if endpoint.cached else uncached
                before = _db_queries(app)
                result = wrk(app.base_url, endpoint.path, endpoint.ids, seconds=seconds, connections=connections)
                queries[endpoint.name].append((_db_queries(app) - before) / max(1, result["requests"]))
                samples[endpoint.name].append(result)
    rows: dict[str, Any] = {}
    for endpoint in ENDPOINTS:
        runs = samples[endpoint.name]
        rows[endpoint.name] = {
            "label": endpoint.label,
            "path": endpoint.path,
            "app": "cache" if endpoint.cached else "no cache",
            "rps": round(statistics.median(r["rps"] for r in runs), 1),
            "p50_ms": round(statistics.median(r["p50_us"] for r in runs) / 1000, 2),
            "p99_ms": round(statistics.median(r["p99_us"] for r in runs) / 1000, 2),
            "p99_ms_range": [
                round(min(r["p99_us"] for r in runs) / 1000, 1),
                round(max(r["p99_us"] for r in runs) / 1000, 1),
            ],
            "failed": sum(r["failed"] for r in runs),
            "db_queries_per_request": round(statistics.median(queries[endpoint.name]), 3),
            "rounds_rps": [round(r["rps"], 1) for r in runs],
        }

    def paired(numerator: str, denominator: str) -> float:
        # Per round, the two runs are close in time (adjacent in ENDPOINTS order where it matters),
        # so the median of per-round ratios resists drift in the machine's load better than a ratio of medians.
        pairs = zip(samples[numerator], samples[denominator], strict=True)
        return float(statistics.median(a["rps"] / b["rps"] for a, b in pairs))

    ratios = {
        "hit_vs_one_get": round(paired("product_hit", "redis_get"), 3),
        "summary_cache_vs_db": round(paired("summary_hit", "summary_db"), 1),
        "product_cache_vs_db": round(paired("product_hit", "product_db"), 2),
        "product_db_vs_bare_select": round(paired("product_db", "db_get"), 3),
        "one_get_vs_noop": round(paired("redis_get", "noop"), 3),
    }
    return {
        "server": "uvicorn (httptools, uvloop), one worker: python -m catalog serve",
        "load_generator": f"wrk -t1 -c{connections} -d{seconds}s, random ids per request",
        "rounds": rounds,
        "seconds_per_run": seconds,
        "connections": connections,
        "endpoints": rows,
        "ratios": ratios,
        "targets": {
            "hit_vs_one_get": {"target": ">= 0.9", "met": ratios["hit_vs_one_get"] >= 0.9},
            "summary_cache_vs_db": {"target": ">= 3", "met": ratios["summary_cache_vs_db"] >= 3},
        },
    }
