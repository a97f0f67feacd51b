"""Database load: the Zipf trace through the app's own service layer, once per caching strategy.

Reads are `CatalogService.product_json` (GET /api/products/{id} without HTTP), writes are
`CatalogService.update_product` with a new price (PATCH /api/products/{id}). Each strategy starts with
an empty private Redis and replays the same trace with a few concurrent workers, in windows: after
each window the database reads it caused are read off the repository, so the hit ratio over time is
exact per window. The *ideal* for the same trace (`bench.ideal`) is the reference.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import asyncpg
import redis
from catalog.cache import Entry
from catalog.metrics import Metrics
from catalog.models import Product, ProductUpdate
from catalog.repository import CatalogRepository
from catalog.resources import Resources, open_resources
from catalog.settings import CacheStrategyName, Settings

from bench.ideal import ideal_read_misses, window_stats, windows
from bench.trace import Trace, zipf_trace

STRATEGIES: tuple[CacheStrategyName, ...] = ("cache-aside", "read-through", "write-through")
WRITES_FILL: dict[CacheStrategyName, bool] = {"cache-aside": False, "read-through": False, "write-through": True}


class CountingRepository(CatalogRepository):
    """The app's repository, also counting product reads on their own.

    The app labels the reload inside every write `reload_product`, so its `get_product` count is the
    same figure; counting calls here keeps the benchmark independent of metric label names.
    """

    def __init__(self, pool: asyncpg.Pool, metrics: Metrics | None = None, acquire_timeout: float = 5.0) -> None:
        super().__init__(pool, metrics, acquire_timeout)
        self.product_reads = 0

    async def get_product(self, product_id: int) -> Product | None:
        self.product_reads += 1
        return await super().get_product(product_id)


def bench_settings(database: str, redis_port: int, strategy: CacheStrategyName = "cache-aside") -> Settings:
    """The service's settings for an in-process run; the TTL outlives the run so only writes remove entries."""
    return Settings(
        database_name=database,
        redis_port=redis_port,
        cache_strategy=strategy,
        cache_ttl_seconds=3600,
        log_level="WARNING",
    )


@dataclass
class Window:
    """One window of the replay."""

    end: int
    reads: int
    db_reads: int
    statements: int
    ideal_misses: int

    @property
    def hit_ratio(self) -> float:
        """Share of reads served by the cache."""
        return 1.0 - self.db_reads / self.reads if self.reads else 1.0


@dataclass
class StrategyRun:
    """What one strategy did with the trace."""

    strategy: str
    requests: int
    warmup: int
    seconds: float
    steady_reads: int
    steady_db_reads: int
    steady_requests: int
    steady_statements: int
    ideal_steady_misses: int
    errors: int
    counters: dict[str, int]
    windows: list[Window] = field(default_factory=list)

    @property
    def avoided(self) -> float:
        """Share of database reads avoided at steady state (1 - db reads / reads)."""
        return 1.0 - self.steady_db_reads / self.steady_reads

    @property
    def ideal_avoided(self) -> float:
        """The same share for the ideal cache on the same requests."""
        return 1.0 - self.ideal_steady_misses / self.steady_reads

    @property
    def statements_per_1000(self) -> float:
        """Every SQL statement (reads and the three of each write) per 1000 requests, at steady state."""
        return 1000.0 * self.steady_statements / self.steady_requests

    def as_json(self) -> dict[str, Any]:
        """Plain data for results JSON."""
        data = asdict(self)
        data["windows"] = [{**asdict(w), "hit_ratio": round(w.hit_ratio, 4)} for w in self.windows]
        data.update(
            avoided=round(self.avoided, 4),
            ideal_avoided=round(self.ideal_avoided, 4),
            gap_points=round(100 * (self.ideal_avoided - self.avoided), 2),
            statements_per_1000=round(self.statements_per_1000, 1),
            requests_per_second=round(self.requests / self.seconds, 1),
        )
        return data


def _new_price(request_index: int) -> int:
    return 100 + (request_index * 7919) % 99_900


async def _replay(resources: Resources, trace: Trace, start: int, end: int, concurrency: int) -> int:
    """Run requests [start, end) with `concurrency` workers pulling in trace order; return the error count."""
    service = resources.service
    pending = iter(range(start, end))
    errors = 0

    async def worker() -> None:
        nonlocal errors
        for i in pending:
            try:
                if trace.writes[i]:
                    await service.update_product(trace.keys[i], ProductUpdate(price_cents=_new_price(i)))
                else:
                    await service.product_json(trace.keys[i])
            except Exception:
                errors += 1

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return errors


async def run_strategy(
    strategy: CacheStrategyName,
    trace: Trace,
    *,
    database: str,
    redis_port: int,
    warmup: int,
    window: int,
    concurrency: int,
) -> StrategyRun:
    """Replay `trace` through the service with `strategy` on an empty cache."""
    flush = redis.Redis(host="127.0.0.1", port=redis_port)
    try:
        flush.flushall()  # our private server, never the shared one
    finally:
        flush.close()
    settings = bench_settings(database, redis_port, strategy)
    resources = await open_resources(settings, Metrics(), repository_factory=CountingRepository)
    repository = resources.repository
    assert isinstance(repository, CountingRepository)
    ideal = ideal_read_misses(trace, writes_fill=WRITES_FILL[strategy])
    run = StrategyRun(strategy, len(trace), warmup, 0.0, 0, 0, 0, 0, 0, 0, {})
    started = time.perf_counter()
    try:
        for lo in range(0, len(trace), window):
            hi = min(lo + window, len(trace))
            reads_before, statements_before = repository.product_reads, repository.query_count
            run.errors += await _replay(resources, trace, lo, hi, concurrency)
            stats = window_stats(trace.writes, ideal, lo, hi)
            measured = Window(
                end=hi,
                reads=stats.reads,
                db_reads=repository.product_reads - reads_before,
                statements=repository.query_count - statements_before,
                ideal_misses=stats.misses,
            )
            run.windows.append(measured)
            if lo >= warmup:
                run.steady_reads += measured.reads
                run.steady_db_reads += measured.db_reads
                run.steady_requests += hi - lo
                run.steady_statements += measured.statements
                run.ideal_steady_misses += measured.ideal_misses
        run.seconds = round(time.perf_counter() - started, 2)
        run.counters = dict(resources.cache.counters)
    finally:
        await resources.close()
    return run


async def no_cache_statements(trace: Trace, *, database: str, redis_port: int, sample: int) -> dict[str, float]:
    """Statements per 1000 requests straight to the repository (no cache), on the first `sample` requests."""
    settings = bench_settings(database, redis_port)
    resources = await open_resources(settings, Metrics(), repository_factory=CountingRepository)
    repository = resources.repository
    sample = min(sample, len(trace))
    pending = iter(range(sample))

    async def worker() -> None:
        for i in pending:
            if trace.writes[i]:
                await repository.update_product(trace.keys[i], ProductUpdate(price_cents=_new_price(i)))
            else:
                await repository.get_product(trace.keys[i])

    try:
        await asyncio.gather(*(worker() for _ in range(8)))
    finally:
        await resources.close()
    reads = sum(1 for w in trace.writes[:sample] if not w)
    return {
        "sample_requests": sample,
        "statements_per_1000": round(1000.0 * repository.query_count / sample, 1),
        "reads_per_1000": round(1000.0 * reads / sample, 1),
        "statements_per_write": round((repository.query_count - reads) / max(1, sample - reads), 2),
    }


async def entry_bytes(database: str, redis_port: int, sample: int = 2000) -> dict[str, float]:
    """Size of product entries exactly as the app stores them (header + JSON), over ids spread across the catalog."""
    resources = await open_resources(bench_settings(database, redis_port), Metrics())
    try:
        ids = await resources.repository.first_product_ids(1_000_000)
        step = max(1, len(ids) // sample)
        products = await resources.repository.get_products(ids[::step][:sample])
    finally:
        await resources.close()
    sizes = [len(Entry(p.model_dump_json().encode(), p.version).encode()) for p in products]
    if not sizes:
        raise ValueError(f"database {database!r} has no products")
    return {"entries": len(sizes), "mean_bytes": round(sum(sizes) / len(sizes), 1), "max_bytes": float(max(sizes))}


def ideal_by_trace_length(
    trace: Trace, lengths: tuple[int, ...] = (60_000, 250_000, 1_000_000)
) -> list[dict[str, Any]]:
    """The ideal's share of reads avoided after the first third, for longer traces of the same workload.

    Pure computation (no servers): shows how much of "the share avoided" is the trace, not the cache.
    """
    rows = []
    for length in lengths:
        longer = zipf_trace(length, n_keys=trace.n_keys, s=trace.s, write_ratio=trace.write_ratio, seed=trace.seed)
        row: dict[str, Any] = {"requests": length, "steady_after": length // 3}
        for name, writes_fill in (("delete_on_write", False), ("write_through", True)):
            misses = ideal_read_misses(longer, writes_fill=writes_fill)
            row[name] = round(window_stats(longer.writes, misses, length // 3).hit_ratio, 4)
        rows.append(row)
    return rows


async def run_all(
    trace: Trace,
    *,
    database: str,
    redis_port: int,
    warmup: int,
    window: int,
    concurrency: int,
    no_cache_sample: int,
    strategies: tuple[CacheStrategyName, ...] = STRATEGIES,
) -> dict[str, Any]:
    """Every strategy on the same trace, and the no-cache baseline."""
    runs: list[StrategyRun] = []
    for strategy in strategies:
        run = await run_strategy(
            strategy,
            trace,
            database=database,
            redis_port=redis_port,
            warmup=warmup,
            window=window,
            concurrency=concurrency,
        )
        runs.append(run)
        print(
            f"  {strategy:<14} {run.seconds:6.1f} s  avoided {100 * run.avoided:5.1f}%  "
            f"ideal {100 * run.ideal_avoided:5.1f}%  errors {run.errors}",
            flush=True,
        )
    baseline = await no_cache_statements(trace, database=database, redis_port=redis_port, sample=no_cache_sample)
    ideal_all = {
        s: window_stats(trace.writes, ideal_read_misses(trace, writes_fill=WRITES_FILL[s])) for s in strategies
    }
    return {
        "ideal_by_trace_length": ideal_by_trace_length(trace),
        "trace": {
            "requests": len(trace),
            "keys": trace.n_keys,
            "s": trace.s,
            "write_ratio": trace.write_ratio,
            "writes": sum(trace.writes),
            "distinct_keys": len(set(trace.keys)),
            "seed": trace.seed,
        },
        "warmup_requests": warmup,
        "window_requests": window,
        "concurrency": concurrency,
        "no_cache": baseline,
        "ideal_whole_trace_hit_ratio": {s: round(w.hit_ratio, 4) for s, w in ideal_all.items()},
        "ideal_windows": {
            s: [round(w.hit_ratio, 4) for w in windows(trace.writes, ideal_read_misses(trace, writes_fill=f), window)]
            for s, f in WRITES_FILL.items()
            if s in strategies
        },
        "strategies": [run.as_json() for run in runs],
    }
