"""Stale reads after acknowledged writes, counted over HTTP against two real app processes.

`python -m bench.soak` (or `python -m bench --only soak`; not part of the default run) prints the
table; `tests/app/test_soak.py` runs the same phases and asserts on them.

Two `catalog serve` processes (A and B) share PostgreSQL and a private redis-server (never the shared
one on 6379). Writers PATCH products on A only; readers GET them on A and on B. Each write's response
carries the product's new `version`; each read's response carries the version it saw. A read issued
after a write to that product was acknowledged, returning an older version, is a stale read. Its
age runs to the stale response from the later of the missed write's acknowledgement and the moment
the cache answered again (SIGCONT); a stale read answered while the cache was still paused (it
joined a database read that began before the write) counts from the acknowledgement.

Phases:
- healthy: nothing is broken. Expected: no stale read anywhere.
- paused: Redis SIGSTOPped, then SIGCONTed, during the load. Expected: none in A (the writer); in B
  every stale read within the bound (B is configured never to open its breaker, so it trusts the
  cache the moment it answers: the worst case for the bound).
- killed: Redis paused, A keeps writing (its invalidations owed: queued in its memory, rows in the
  outbox), A is SIGKILLed, Redis resumed. B alone delivers A's rows; expected: every stale read in B
  within the bound, then none (a final read of every product), and an empty outbox.

The bound (docs/caching.md, "consistency"): a row becomes claimable by the periodic drain
`CLAIM_AFTER_SECONDS` after its commit, and every task whose breaker is closed starts a drain round
every `CACHE_OUTBOX_DRAIN_SECONDS` (a fixed rate: a round that hung on the paused cache does not
delay the next). So a stale entry lives at most their sum after the later of the write's
acknowledgement and the cache answering again, plus one round's round trips.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import itertools
import json
import random
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import asyncpg
import httpx
from catalog.cache.outbox import CLAIM_AFTER_SECONDS

from bench.servers import HOST, PG_PORT, PG_USER, AppServer, PrivateRedis, prepare_database

SOAK_DATABASE = "catalog_bench_soak"
SCHEDULING_ALLOWANCE_SECONDS = 0.25
"""What the test adds to the bound for one drain's round trips and event-loop lag on a shared 2-core CI machine."""


@dataclass(frozen=True)
class SoakConfig:
    """Durations, load and the app settings that set the bound."""

    warmup_seconds: float = 1.0
    healthy_seconds: float = 4.0
    lead_seconds: float = 1.5
    """Healthy load before each pause (fills the cache on both processes)."""
    pause_seconds: float = 2.0
    after_seconds: float = 3.0
    """Load after SIGCONT: longer than the bound, so every stale entry has had its chance to end."""
    products: int = 40
    writers: int = 4
    write_interval_seconds: float = 0.02
    readers_a: int = 3
    readers_b: int = 6
    drain_seconds: float = 1.0
    breaker_reset_seconds: float = 2.0
    """The writer's recovery interval: longer than the drain, so B's own drain is what usually ends B's window."""
    redis_timeout_seconds: float = 0.1

    @property
    def bound_seconds(self) -> float:
        """The stated bound for another process, without the scheduling allowance."""
        return self.drain_seconds + CLAIM_AFTER_SECONDS


@dataclass
class ProcessFigures:
    """Reads of one process in one phase."""

    post_ack_reads: int = 0
    stale: int = 0
    worst_age_s: float = 0.0
    errors: int = 0


@dataclass
class PhaseFigures:
    """What one phase measured."""

    name: str
    writes: int = 0
    write_errors: int = 0
    a: ProcessFigures = field(default_factory=ProcessFigures)
    b: ProcessFigures = field(default_factory=ProcessFigures)
    bound_s: float = 0.0
    """0 for the healthy phase: no stale read is allowed at all."""
    final_stale: int = 0
    """Stale products in a read of every product from B once the phase ended."""
    outbox_rows_after: int = 0


@dataclass(frozen=True)
class Read:
    process: str
    product: int
    issued: float
    answered: float
    version: int


class Load:
    """Writers on A, readers on A and B; every acknowledgement and every read, timed by this process's clock."""

    def __init__(self, clients: dict[str, httpx.AsyncClient], products: list[int], config: SoakConfig) -> None:
        self.clients = clients
        self.products = products
        self.config = config
        self.acks: dict[int, list[tuple[float, int]]] = {p: [] for p in products}
        self.reads: list[Read] = []
        self.read_errors: dict[str, int] = {"A": 0, "B": 0}
        self.writes = 0
        self.write_errors = 0
        self._prices = itertools.count(10_000)
        self._tasks: dict[str, list[asyncio.Task[None]]] = {"A": [], "B": []}
        self._rng = random.Random(19)  # noqa: S311 - load shape, not security

    async def _writer(self, owned: list[int]) -> None:
        client = self.clients["A"]
        for product in itertools.cycle(owned):
            try:
                response = await client.patch(f"/api/products/{product}", json={"price_cents": next(self._prices)})
            except httpx.HTTPError:
                self.write_errors += 1
                continue
            answered = time.monotonic()
            if response.status_code == 200:
                # One writer per product: its acknowledgements come in version order.
                self.acks[product].append((answered, response.json()["version"]))
                self.writes += 1
            else:
                self.write_errors += 1
            await asyncio.sleep(self.config.write_interval_seconds)

    async def _reader(self, process: str) -> None:
        client = self.clients[process]
        while True:
            product = self._rng.choice(self.products)
            issued = time.monotonic()
            try:
                response = await client.get(f"/api/products/{product}")
            except httpx.HTTPError:
                self.read_errors[process] += 1
                continue
            if response.status_code != 200:
                self.read_errors[process] += 1
                continue
            self.reads.append(Read(process, product, issued, time.monotonic(), response.json()["version"]))

    def start(self, *, writers: bool = True, readers_a: bool = True) -> None:
        """Start the writers (each owns every `writers`-th product) and the readers."""
        config = self.config
        loop = asyncio.get_running_loop()
        if writers:
            for i in range(config.writers):
                self._tasks["A"].append(loop.create_task(self._writer(self.products[i :: config.writers])))
        if readers_a:
            self._tasks["A"] += [loop.create_task(self._reader("A")) for _ in range(config.readers_a)]
        self._tasks["B"] += [loop.create_task(self._reader("B")) for _ in range(config.readers_b)]

    async def stop(self, process: str | None = None) -> None:
        """Cancel the load on one process (or both); requests in flight are dropped, never counted."""
        for name in [process] if process else ["A", "B"]:
            tasks, self._tasks[name] = self._tasks[name], []
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    def judge(self, read: Read, cache_back: float | None) -> float | None:
        """The stale age of `read` (None when it saw every write acknowledged before it was issued)."""
        acks = self.acks[read.product]
        before = bisect.bisect_left(acks, (read.issued, -1))  # acknowledgements before the read was issued
        if before == 0 or acks[before - 1][1] <= read.version:
            return None
        missed = next(at for at, version in acks[:before] if version > read.version)
        # Answered after SIGCONT: its GET may have waited in the paused server, so count from SIGCONT.
        start = max(missed, cache_back) if cache_back is not None and read.answered >= cache_back else missed
        return read.answered - start


def _tally(load: Load, figures: PhaseFigures, since: float, cache_back: float | None) -> None:
    by_process = {"A": figures.a, "B": figures.b}
    for read in load.reads:
        if read.issued < since:
            continue
        acks = load.acks[read.product]
        if not acks or acks[0][0] >= read.issued:
            continue  # nothing acknowledged yet for this product: not a post-ack read
        process = by_process[read.process]
        process.post_ack_reads += 1
        age = load.judge(read, cache_back)
        if age is not None:
            process.stale += 1
            process.worst_age_s = max(process.worst_age_s, round(age, 3))
    figures.a.errors, figures.b.errors = load.read_errors["A"], load.read_errors["B"]


async def _outbox_rows(database: str) -> int:
    conn = await asyncpg.connect(host=HOST, port=PG_PORT, user=PG_USER, database=database)
    try:
        rows: int = await conn.fetchval("SELECT count(*) FROM cache_outbox")
        return rows
    finally:
        await conn.close()


async def _final_stale(load: Load, client: httpx.AsyncClient) -> int:
    stale = 0
    for product in load.products:
        response = await client.get(f"/api/products/{product}")
        acks = load.acks[product]
        if acks and response.json()["version"] < acks[-1][1]:
            stale += 1
    return stale


def _app(database: str, redis_port: int, config: SoakConfig, **extra: str) -> AppServer:
    env = {
        "REDIS_TIMEOUT_SECONDS": str(config.redis_timeout_seconds),
        "REDIS_CONNECT_TIMEOUT_SECONDS": str(config.redis_timeout_seconds),
        "REDIS_BREAKER_RESET_SECONDS": str(config.breaker_reset_seconds),
        "CACHE_OUTBOX_DRAIN_SECONDS": str(config.drain_seconds),
        **extra,
    }
    return AppServer(database=database, redis_port=redis_port, extra_env=env)


async def _phases(database: str, redis: PrivateRedis, a: AppServer, b: AppServer, config: SoakConfig) -> list[Any]:
    limits = httpx.Limits(max_connections=32, max_keepalive_connections=32)
    async with (
        httpx.AsyncClient(base_url=a.base_url, timeout=10, limits=limits) as client_a,
        httpx.AsyncClient(base_url=b.base_url, timeout=10, limits=limits) as client_b,
    ):
        page = (await client_b.get(f"/api/products?limit={config.products}")).json()
        products = [item["id"] for item in page["items"]]
        load = Load({"A": client_a, "B": client_b}, products, config)
        for product in products:  # cached on both processes' view of the cache
            await client_a.get(f"/api/products/{product}")
        load.start()  # warm-up, not counted: pools connect, statements are prepared
        await asyncio.sleep(config.warmup_seconds)
        await load.stop()
        results = []

        async def phase(name: str, body: Callable[[PhaseFigures], Awaitable[float | None]]) -> None:
            figures = PhaseFigures(name)
            since = time.monotonic()
            writes, write_errors = load.writes, load.write_errors
            load.read_errors = {"A": 0, "B": 0}
            cache_back = await body(figures)
            await load.stop()
            figures.writes, figures.write_errors = load.writes - writes, load.write_errors - write_errors
            _tally(load, figures, since, cache_back)
            figures.final_stale = await _final_stale(load, client_b)
            figures.outbox_rows_after = await _outbox_rows(database)
            results.append(figures)

        async def healthy(figures: PhaseFigures) -> None:
            load.start()
            await asyncio.sleep(config.healthy_seconds)

        async def paused(figures: PhaseFigures) -> float:
            figures.bound_s = config.bound_seconds
            load.start()
            await asyncio.sleep(config.lead_seconds)
            redis.pause()
            try:
                await asyncio.sleep(config.pause_seconds)
            finally:
                redis.resume()
            back = time.monotonic()
            await asyncio.sleep(config.after_seconds)
            return back

        async def killed(figures: PhaseFigures) -> float:
            figures.bound_s = config.bound_seconds
            load.start()
            await asyncio.sleep(config.lead_seconds)
            redis.pause()
            try:
                await asyncio.sleep(config.pause_seconds)  # A writes: every invalidation owed
                await load.stop("A")
                a.kill()
            finally:
                redis.resume()
            back = time.monotonic()
            await asyncio.sleep(config.after_seconds)
            return back

        await phase("healthy", healthy)
        await phase("paused", paused)
        await phase("killed", killed)
        return results


def run(database: str, config: SoakConfig | None = None) -> list[PhaseFigures]:
    """The three phases against `database` (already migrated and seeded); servers started and stopped here."""
    config = config or SoakConfig()
    with PrivateRedis() as redis:
        a = _app(database, redis.port, config)
        # B never opens its breaker: it trusts the cache as soon as it answers (the worst case for the bound).
        b = _app(database, redis.port, config, REDIS_BREAKER_THRESHOLD="1000")
        with a, b:
            try:
                return asyncio.run(_phases(database, redis, a, b, config))
            finally:
                redis.resume()  # never leave our server stopped (its SIGTERM would wait)


def table(results: list[PhaseFigures]) -> str:
    """The figures as a markdown table."""
    lines = [
        "| Phase | Writes | Post-ack reads A / B | Stale A / B | Worst stale age B | Bound | Read errors A / B "
        "| Stale after | Outbox rows after |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for f in results:
        bound = f"{f.bound_s:.2f} s" if f.bound_s else "0 (none allowed)"
        lines.append(
            f"| {f.name} | {f.writes} | {f.a.post_ack_reads} / {f.b.post_ack_reads} | {f.a.stale} / {f.b.stale} "
            f"| {f.b.worst_age_s:.3f} s | {bound} | {f.a.errors} / {f.b.errors} | {f.final_stale} "
            f"| {f.outbox_rows_after} |"
        )
    return "\n".join(lines)


# ---------------------------------------------------------------- the outbox's cost on the write path


async def write_cost(database: str, pairs: int = 1000) -> dict[str, float]:
    """What the outbox adds to one product update: its INSERT inside the transaction, and the DELETE after.

    Through the repository (no HTTP, no cache) on one product: `pairs` pairs of updates, one without
    and one with its outbox row, in random order within each pair; the added latency is the median of
    the paired differences, which cancels most of the noise of a shared machine. The service deletes
    the row off the response path (`Outbox.delivered`), so the DELETE is timed apart: database work,
    not latency (concurrent writes' rows share one DELETE).
    """
    from catalog.db import create_pool
    from catalog.models import ProductUpdate
    from catalog.repository import CatalogRepository, Invalidations
    from catalog.settings import load_settings

    settings = load_settings(
        {"DATABASE_HOST": HOST, "DATABASE_PORT": str(PG_PORT), "DATABASE_USER": PG_USER, "DATABASE_NAME": database}
    )
    pool = await create_pool(settings)
    rng = random.Random(19)  # noqa: S311 - order of a measurement
    prices = itertools.count(1)
    try:
        repository = CatalogRepository(pool)
        invalidations = Invalidations(
            "bench:write-cost:",
            lambda pid, cats: [f"product:{pid}", "list:all", "categories:all", *(f"summary:{c}" for c in cats)],
        )

        async def without() -> float:
            started = time.perf_counter()
            await repository.update_product(1, ProductUpdate(price_cents=next(prices)))
            return time.perf_counter() - started

        deletes: list[float] = []

        async def with_outbox() -> float:
            started = time.perf_counter()
            write = await repository.update_product(1, ProductUpdate(price_cents=next(prices)), invalidations)
            answered = time.perf_counter()  # the service answers here: the row's DELETE runs after it
            assert write.outbox_id is not None
            await repository.forget_outbox_rows([write.outbox_id])
            deletes.append(time.perf_counter() - answered)
            return answered - started

        for _ in range(50):  # warm-up: connections, prepared statements
            await without()
            await with_outbox()
        deletes.clear()
        plain: list[float] = []
        outboxed: list[float] = []
        for _ in range(pairs):
            if rng.random() < 0.5:
                plain.append(await without())
                outboxed.append(await with_outbox())
            else:
                outboxed.append(await with_outbox())
                plain.append(await without())
    finally:
        await pool.close()
    added = statistics.median(w - p for w, p in zip(outboxed, plain, strict=True)) * 1000
    base = statistics.median(plain) * 1000
    return {
        "pairs": pairs,
        "median_ms_without": round(base, 3),
        "median_ms_with": round(statistics.median(outboxed) * 1000, 3),
        "added_ms": round(added, 3),
        "added_percent": round(100 * added / base, 1),
        "delete_ms": round(statistics.median(deletes) * 1000, 3),
    }


def run_section(products: int = 300) -> dict[str, Any]:
    """`python -m bench --only soak`: seed the soak's own database, run, print both tables, return the figures."""
    seeded = prepare_database(SOAK_DATABASE, products)
    config = SoakConfig()
    results = run(seeded.database, config)
    cost = asyncio.run(write_cost(seeded.database))
    print(table(results), flush=True)
    print(
        f"\nbound {config.bound_seconds:.2f} s = CACHE_OUTBOX_DRAIN_SECONDS {config.drain_seconds} + claim age "
        f"{CLAIM_AFTER_SECONDS} (the test allows {SCHEDULING_ALLOWANCE_SECONDS} s more for round trips)",
        flush=True,
    )
    print(
        f"outbox write cost: +{cost['added_ms']} ms per update answered (+{cost['added_percent']}%; median "
        f"{cost['median_ms_without']} ms without, {cost['median_ms_with']} ms with, {cost['pairs']} pairs), "
        f"plus a {cost['delete_ms']} ms DELETE off the response path",
        flush=True,
    )
    return {"config": asdict(config), "phases": [asdict(f) for f in results], "write_cost": cost}


def main(argv: list[str] | None = None) -> int:
    """`python -m bench.soak [--json]`."""
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    args = parser.parse_args(argv)
    figures = run_section()
    if args.json:
        print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
