"""Valkey (redis-server) vs Memcached at one memory budget, on one trace, through the app's own service.

Each engine gets a private server with the same budget: redis-server `--maxmemory <budget>
--maxmemory-policy allkeys-lfu` (what the platform configures for Valkey) and `memcached -m <MB>`
(slab allocator, per-slab-class LRU). Per engine:
- the Zipf trace replayed in-process (near cache off, so the engines are compared, not the L1):
  database reads avoided in steady state, and the server's evictions;
- the hit path under wrk: one uvicorn worker, cached product reads;
- an outage: the server stopped, reads meanwhile (they fail open to the database), the server
  started again empty (neither keeps data: Memcached has no persistence or replicas, and this
  redis-server is run without persistence, as ElastiCache Valkey restores only from replicas or a
  snapshot), then the database reads of the next window while the cache refills.
"""

from __future__ import annotations

import asyncio
import socket
import statistics
import subprocess
import time
from typing import Any

from catalog.metrics import Metrics
from catalog.resources import open_resources
from catalog.settings import Settings

from bench.db_load import CountingRepository, _replay, entry_bytes
from bench.servers import HOST, AppServer, PrivateRedis, _stop_process, free_port, require_binary
from bench.throughput import WARM_PRODUCTS, wrk
from bench.trace import Trace

BUDGET_SHARE = 0.2
"""The memory budget as a share of the trace's working set (as in the eviction section)."""
MIN_BUDGET_MB = 2
OUTAGE_READS = 500


class PrivateMemcached:
    """A throwaway memcached on its own port with `-m` megabytes."""

    def __init__(self, memory_mb: int) -> None:
        self.port = free_port()
        self.memory_mb = memory_mb
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        binary = require_binary("memcached", "`make bench` installs it (apt-get install -y memcached)")
        args = [binary, "-l", HOST, "-p", str(self.port), "-m", str(self.memory_mb), "-U", "0", "-u", "nobody"]
        self._proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection((HOST, self.port), timeout=0.2):
                    return
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)

    def stop(self) -> None:
        if self._proc is not None:
            _stop_process(self._proc)
            self._proc = None

    def flush(self) -> None:
        """Drop every item (our private server)."""
        with socket.create_connection((HOST, self.port), timeout=2) as sock:
            sock.sendall(b"flush_all\r\n")
            sock.recv(64)

    def stats(self) -> dict[str, str]:
        with socket.create_connection((HOST, self.port), timeout=2) as sock:
            sock.sendall(b"stats\r\n")
            data = b""
            while not data.endswith(b"END\r\n"):
                data += sock.recv(65536)
        return {parts[1]: parts[2] for line in data.decode().splitlines() if len(parts := line.split()) == 3}


def _settings(database: str, engine: str, port: int) -> Settings:
    backend = {"redis_port": port} if engine == "valkey" else {"cache_backend": "memcached", "memcached_port": port}
    return Settings(
        database_name=database,
        cache_ttl_seconds=3600,
        cache_near_enabled=False,
        redis_breaker_reset_seconds=0.5,
        log_level="WARNING",
        **backend,  # type: ignore[arg-type]
    )


async def _replay_trace(
    settings: Settings, trace: Trace, warmup: int, window: int, *, snapshot: Any, stop: Any, start: Any
) -> dict[str, Any]:
    resources = await open_resources(settings, Metrics(), repository_factory=CountingRepository)
    repository = resources.repository
    assert isinstance(repository, CountingRepository)
    try:
        steady_reads = steady_db = 0
        started = time.perf_counter()
        for lo in range(0, len(trace), window):
            hi = min(lo + window, len(trace))
            before = repository.product_reads
            await _replay(resources, trace, lo, hi, 8)
            if lo >= warmup:
                steady_reads += sum(1 for w in trace.writes[lo:hi] if not w)
                steady_db += repository.product_reads - before
        seconds = time.perf_counter() - started
        evictions, items = snapshot()
        # The outage: reads while the server is down, then the first reads after it came back empty.
        stop()
        errors = 0
        down_before = repository.product_reads
        for i in range(OUTAGE_READS):
            try:
                await resources.service.product_json(trace.keys[i])
            except Exception:
                errors += 1
        down_db = repository.product_reads - down_before
        start()
        await asyncio.sleep(1.0)  # past the breaker's reset interval: the probe closes it
        after_before = repository.product_reads
        for i in range(OUTAGE_READS):
            await resources.service.product_json(trace.keys[-1 - i])
        after_db = repository.product_reads - after_before
    finally:
        await resources.close()
    return {
        "steady_reads": steady_reads,
        "steady_db_reads": steady_db,
        "db_reads_avoided": round(1 - steady_db / steady_reads, 4) if steady_reads else None,
        "replay_seconds": round(seconds, 1),
        "evictions": evictions,
        "items": items,
        "outage": {
            "reads_while_down": OUTAGE_READS,
            "errors_while_down": errors,
            "db_reads_while_down": down_db,
            "db_reads_of_first_reads_after_restart": after_db,
            "data_after_restart": "none (cold cache)",
        },
    }


def _hit_rps(database: str, engine: str, port: int, *, seconds: int, rounds: int, connections: int) -> dict[str, Any]:
    env = {"CACHE_NEAR_ENABLED": "false"}
    if engine == "memcached":
        env.update({"CACHE_BACKEND": "memcached", "MEMCACHED_PORT": str(port)})
    with AppServer(database, port if engine == "valkey" else free_port(), extra_env=env) as app:
        for product_id in range(1, WARM_PRODUCTS + 1):
            app.get(f"/api/products/{product_id}")
        runs = [
            wrk(app.base_url, "/api/products/{id}", WARM_PRODUCTS, seconds=seconds, connections=connections)
            for _ in range(rounds)
        ]
    return {
        "rps": round(statistics.median(r["rps"] for r in runs), 1),
        "p99_ms": round(statistics.median(r["p99_us"] for r in runs) / 1000, 2),
    }


def run(
    trace: Trace, *, database: str, warmup: int, window: int, seconds: int, rounds: int, connections: int
) -> dict[str, Any]:
    """Both engines, one after the other, each on a fresh private server with the same budget."""
    valkey = PrivateRedis()
    valkey.start()
    try:
        # maxmemory counts the server's own baseline too (about 1 MB empty); memcached -m counts only
        # item memory. The same budget for data means maxmemory = budget + that baseline.
        baseline = int(str(valkey.info()["used_memory"]))
        sizes = asyncio.run(entry_bytes(database, valkey.port))
    finally:
        valkey.close()
    read_keys = {key for key, write in zip(trace.keys, trace.writes, strict=True) if not write}
    working_set = len(read_keys) * sizes["mean_bytes"]
    budget_mb = max(MIN_BUDGET_MB, round(BUDGET_SHARE * working_set / 2**20))
    results: dict[str, Any] = {}
    valkey = PrivateRedis(maxmemory=budget_mb * 2**20 + baseline, policy="allkeys-lfu")
    valkey.start()

    def valkey_snapshot() -> tuple[int, int]:
        info = valkey.info()
        keys = sum(int(v["keys"]) for k, v in info.items() if k.startswith("db") and isinstance(v, dict))
        return int(str(info["evicted_keys"])), keys

    try:
        settings = _settings(database, "valkey", valkey.port)
        replay = asyncio.run(
            _replay_trace(
                settings, trace, warmup, window, snapshot=valkey_snapshot, stop=valkey.stop, start=valkey.start
            )
        )
        # The hit path on an emptied server: the warm keys must not compete with the trace's (LFU
        # would evict new keys first), so the figure is the engine's hit cost, not its hit ratio.
        flusher = valkey.client()
        flusher.flushall()
        flusher.close()
        replay["hit_path"] = _hit_rps(
            database, "valkey", valkey.port, seconds=seconds, rounds=rounds, connections=connections
        )
        results["valkey (redis-server allkeys-lfu)"] = replay
    finally:
        valkey.close()
    memcached = PrivateMemcached(budget_mb)
    memcached.start()

    def memcached_snapshot() -> tuple[int, int]:
        stats = memcached.stats()
        return int(stats.get("evictions", 0)), int(stats.get("curr_items", 0))

    try:
        settings = _settings(database, "memcached", memcached.port)
        replay = asyncio.run(
            _replay_trace(
                settings, trace, warmup, window, snapshot=memcached_snapshot, stop=memcached.stop, start=memcached.start
            )
        )
        memcached.flush()
        replay["hit_path"] = _hit_rps(
            database, "memcached", memcached.port, seconds=seconds, rounds=rounds, connections=connections
        )
        results["memcached (slab LRU)"] = replay
    finally:
        memcached.stop()
    for name, r in results.items():
        o = r["outage"]
        print(
            f"  {name:<34} DB reads avoided {r['db_reads_avoided']:.1%}  evictions {r['evictions']:>7}  "
            f"hit path {r['hit_path']['rps']:>8,.0f} req/s  outage: {o['errors_while_down']} errors, "
            f"{o['db_reads_of_first_reads_after_restart']}/{OUTAGE_READS} DB reads after restart",
            flush=True,
        )
    return {
        "budget_mb": budget_mb,
        "budget_rule": f"{BUDGET_SHARE:.0%} of the trace's read working set "
        f"({len(read_keys):,} keys x {sizes['mean_bytes']:.0f} bytes), at least {MIN_BUDGET_MB} MB; "
        f"redis-server maxmemory = budget + its empty used_memory ({baseline:,} bytes)",
        "engines": results,
    }
