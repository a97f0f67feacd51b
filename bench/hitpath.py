"""The hit path against independent baselines, one uvicorn worker each, measured in the same run.

Baselines (bench/baseline_app.py, pure ASGI, served by uvicorn with the catalog's settings): no I/O,
and one Redis GET of the same entries. Against them: the catalog's own no-I/O route, the cached
product read with the near cache (an in-process hit) and without it (one Redis GET per read), and
the near-cached read with JSON access logs on. Endpoints run interleaved, a few short wrk rounds
each; figures are medians over rounds, ratios medians of per-round ratios (adjacent runs, so drift
in the machine's load cancels).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any

from bench.servers import HOST, ROOT, AppServer, BenchSetupError, _stop_process, free_port
from bench.throughput import WARM_PRODUCTS, wrk

TARGETS = {
    "near_vs_bare_noop": 0.5,
    "remote_vs_bare_get": 0.8,
}


@dataclass
class BaselineServer:
    """bench.baseline_app under uvicorn (same loop, parser, keep-alive and logging choices as the catalog)."""

    redis_port: int
    port: int = 0
    _proc: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        """http://127.0.0.1:<port>"""
        return f"http://{HOST}:{self.port}"

    def __enter__(self) -> BaselineServer:
        self.port = free_port()
        args = [sys.executable, "-m", "uvicorn", "bench.baseline_app:app", "--host", HOST, "--port", str(self.port)]
        args += ["--no-access-log", "--no-server-header", "--timeout-keep-alive", "75", "--log-level", "warning"]
        env = {"BASELINE_REDIS_PORT": str(self.redis_port), "PATH": "/usr/bin:/bin"}
        self._proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
        deadline = time.monotonic() + 20
        while True:
            try:
                import urllib.request

                with urllib.request.urlopen(self.base_url + "/noop", timeout=1):  # noqa: S310 - our loopback URL
                    return self
            except OSError:
                if self._proc.poll() is not None or time.monotonic() > deadline:
                    raise BenchSetupError("the baseline app did not start") from None
                time.sleep(0.05)

    def __exit__(self, *exc: object) -> None:
        if self._proc is not None:
            _stop_process(self._proc)


def _warm(app: AppServer, passes: int) -> None:
    # Pass 1 fills Redis; later passes fill the near cache from Redis (a fill's own invalidation
    # voids the L1 copy of pass 1, by design).
    for _ in range(passes):
        for product_id in range(1, WARM_PRODUCTS + 1):
            status, _ = app.get(f"/api/products/{product_id}")
            if status != 200:
                raise BenchSetupError(f"warm-up: GET /api/products/{product_id} answered {status}")


def run(*, database: str, redis_port: int, rounds: int, seconds: int, connections: int) -> dict[str, Any]:
    """Every endpoint, interleaved, `rounds` times."""
    near = AppServer(database, redis_port)
    remote = AppServer(database, redis_port, extra_env={"CACHE_NEAR_ENABLED": "false"})
    logged = AppServer(database, redis_port, extra_env={"ACCESS_LOG": "true", "LOG_LEVEL": "INFO"})
    with BaselineServer(redis_port) as bare, near, remote, logged:
        _warm(near, 3)
        _warm(remote, 1)
        _warm(logged, 2)
        endpoints: dict[str, tuple[str, str, str, int]] = {
            "bare_noop": ("bare ASGI, no I/O", bare.base_url, "/noop", 1),
            "catalog_noop": ("catalog /bench/noop, no I/O", near.base_url, "/bench/noop", 1),
            "product_near": ("product read, near-cache hit", near.base_url, "/api/products/{id}", WARM_PRODUCTS),
            "product_near_logged": (
                "product read, near-cache hit, access log on",
                logged.base_url,
                "/api/products/{id}",
                WARM_PRODUCTS,
            ),
            "bare_get": ("bare ASGI, one Redis GET", bare.base_url, "/get/{id}", WARM_PRODUCTS),
            "product_remote": (
                "product read, Redis hit (near cache off)",
                remote.base_url,
                "/api/products/{id}",
                WARM_PRODUCTS,
            ),
            "catalog_get": (
                "catalog /bench/redis-get, one GET",
                remote.base_url,
                "/bench/redis-get/product:{id}",
                WARM_PRODUCTS,
            ),
        }
        samples: dict[str, list[dict[str, Any]]] = {name: [] for name in endpoints}
        for _ in range(rounds):
            for name, (_, url, path, ids) in endpoints.items():
                samples[name].append(wrk(url, path, ids, seconds=seconds, connections=connections))
        near_stats = near.json("/ops/cache/stats")
    rows = {
        name: {
            "label": label,
            "rps": round(statistics.median(r["rps"] for r in samples[name]), 1),
            "p50_ms": round(statistics.median(r["p50_us"] for r in samples[name]) / 1000, 2),
            "p99_ms": round(statistics.median(r["p99_us"] for r in samples[name]) / 1000, 2),
            "failed": sum(r["failed"] for r in samples[name]),
            "rounds_rps": [round(r["rps"], 1) for r in samples[name]],
        }
        for name, (label, *_rest) in endpoints.items()
    }

    def paired(numerator: str, denominator: str) -> float:
        pairs = zip(samples[numerator], samples[denominator], strict=True)
        return round(float(statistics.median(a["rps"] / b["rps"] for a, b in pairs)), 3)

    ratios = {
        "near_vs_bare_noop": paired("product_near", "bare_noop"),
        "remote_vs_bare_get": paired("product_remote", "bare_get"),
        "catalog_noop_vs_bare_noop": paired("catalog_noop", "bare_noop"),
        "near_vs_remote": paired("product_near", "product_remote"),
        "logged_vs_near": paired("product_near_logged", "product_near"),
        "bare_get_vs_bare_noop": paired("bare_get", "bare_noop"),
    }
    for row in rows.values():
        print(f"  {row['label']:<46} {row['rps']:>9,.0f} req/s  p99 {row['p99_ms']:6.2f} ms", flush=True)
    for name, value in ratios.items():
        target = TARGETS.get(name)
        mark = "" if target is None else f"  (target >= {target}: {'met' if value >= target else 'NOT met'})"
        print(f"  {name:<28} {value:6.3f}{mark}", flush=True)
    assert isinstance(near_stats, dict)
    return {
        "server": "uvicorn (httptools, uvloop), one worker each; baseline: python -m uvicorn bench.baseline_app:app",
        "load_generator": f"wrk -t1 -c{connections} -d{seconds}s, random ids 1..{WARM_PRODUCTS}",
        "rounds": rounds,
        "endpoints": rows,
        "ratios": ratios,
        "near_counters": {k: v for k, v in near_stats["counters"].items() if k in ("hits", "near_hits", "misses")},
        "targets": {
            name: {"target": f">= {target}", "met": ratios[name] >= target} for name, target in TARGETS.items()
        },
    }
