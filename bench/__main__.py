"""The benchmark suite: `make bench`, or `uv run --group bench python -m bench [--only db_load,http] [--quick]`.

Sections, in order (each prints as it goes):
  db_load     Zipf trace through the service, per caching strategy, against the ideal
  eviction    hit ratio per maxmemory-policy at 20% of the working set (private redis-servers)
  stampede    100 concurrent requests for one cold key: the project's protection, none, cashews
  http        one uvicorn worker under wrk: bare endpoints, cache-hit and database paths
  hit_path    the hit path against bare ASGI baselines (no I/O, one Redis GET), near cache on and off
  staleness   two app processes with near caches: staleness after acknowledged writes, Redis paused
  near_compare the near cache beside cashews' client_side mode (hit cost, cross-instance staleness)
  engines     Valkey (redis-server, allkeys-lfu) vs Memcached at one memory budget on one trace
  outage      a private Redis stopped and restarted under load
  offline_plan wall time of the offline plan of the prod stack (bench/offline_plan.py)
Opt-in (only when named in --only; also `python -m bench.soak`):
  soak        stale reads after acknowledged writes over HTTP, two app processes, Redis paused, writer
              killed; and the outbox's cost per write (bench/soak.py, about 30 s)

Writes bench/results/<section>.json, bench/results/*.png and summary.json, prints the tables and
refreshes the generated block of docs/benchmarks.md (`--replot` redraws all of that from the JSON).
Needs redis-server and wrk on PATH and the local PostgreSQL (127.0.0.1:5432, user postgres); it owns
the database catalog_bench (dropped and re-seeded) and never touches the shared Redis on 6379.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import asyncpg

from bench import (
    db_load,
    engines,
    eviction,
    hitpath,
    near_compare,
    offline_plan,
    outage,
    plots,
    report,
    soak,
    staleness,
    stampede,
    throughput,
)
from bench.servers import HOST, PG_PORT, PG_USER, PrivateRedis, free_port, prepare_database
from bench.trace import zipf_trace

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DOC = ROOT / "docs" / "benchmarks.md"
SECTIONS = (
    "db_load",
    "eviction",
    "stampede",
    "http",
    "hit_path",
    "staleness",
    "near_compare",
    "engines",
    "outage",
    "offline_plan",
)
OPT_IN = ("soak",)
"""Sections that run only when named in --only (never in the default run)."""


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default=",".join(SECTIONS), help=f"comma-separated subset of {','.join(SECTIONS)}")
    parser.add_argument("--quick", action="store_true", help="small trace, short runs: checks the harness, not figures")
    parser.add_argument("--requests", type=int, default=60_000, help="trace length (default 60000)")
    parser.add_argument("--warmup", type=int, default=20_000, help="requests before steady state (default 20000)")
    parser.add_argument("--window", type=int, default=2_000, help="requests per hit-ratio window (default 2000)")
    parser.add_argument("--concurrency", type=int, default=8, help="in-process workers for db_load (default 8)")
    parser.add_argument("--products", type=int, default=100_000, help="products to seed (default 100000)")
    parser.add_argument("--database", default="catalog_bench", help="the benchmark's own database")
    parser.add_argument("--seed", type=int, default=1, help="trace seed")
    parser.add_argument("--http-seconds", type=int, default=2, help="seconds per wrk run")
    parser.add_argument("--http-rounds", type=int, default=5, help="interleaved rounds per endpoint")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections")
    parser.add_argument("--stampede-rounds", type=int, default=3, help="cold keys per stampede variant")
    parser.add_argument("--plan-runs", type=int, default=3, help="offline plan runs")
    parser.add_argument("--no-docs", action="store_true", help="do not rewrite docs/benchmarks.md")
    parser.add_argument("--replot", action="store_true", help="only redraw plots and tables from the JSON in --out")
    parser.add_argument(
        "--out", type=Path, default=RESULTS, help="results folder (default bench/results; --quick: build/bench-quick)"
    )
    args = parser.parse_args(argv)
    if os.environ.get("BENCH_QUICK") == "1":
        args.quick = True
    unknown = set(args.only.split(",")) - set(SECTIONS) - set(OPT_IN)
    if unknown:
        parser.error(f"unknown sections {sorted(unknown)}; choose from {','.join(SECTIONS + OPT_IN)}")
    if args.quick:
        args.requests, args.warmup, args.window = 12_000, 4_000, 1_000
        args.http_seconds, args.http_rounds, args.stampede_rounds, args.plan_runs = 1, 1, 1, 1
        if args.out == RESULTS:
            args.out = ROOT / "build" / "bench-quick"
    if not 0 <= args.warmup < args.requests:
        parser.error("--warmup must be below --requests")
    return args


def _version(cmd: list[str]) -> str:
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=10, check=False)  # noqa: S603
    except OSError:
        return "missing"
    return (done.stdout or done.stderr).strip().splitlines()[0] if (done.stdout or done.stderr) else "?"


async def _postgres_version() -> str:
    conn = await asyncpg.connect(host=HOST, port=PG_PORT, user=PG_USER, database="postgres", timeout=5)
    try:
        version: str = await conn.fetchval("SHOW server_version")
        return version
    finally:
        await conn.close()


def _loadavg() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def _write(out: Path, name: str, data: object) -> None:
    (out / f"{name}.json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """Run the chosen sections; exit 1 if any failed (the others still run and are written)."""
    args = _parse(argv)
    if args.replot:
        return _replot(args)
    only = args.only.split(",")
    started = time.perf_counter()
    args.out.mkdir(parents=True, exist_ok=True)
    try:
        pg_version = asyncio.run(_postgres_version())
    except (OSError, asyncpg.PostgresError) as exc:
        print(f"PostgreSQL at {HOST}:{PG_PORT} is not reachable as {PG_USER}: {exc}", file=sys.stderr)
        return 2
    environment: dict[str, Any] = {
        "cpus": os.cpu_count(),
        "platform": f"{platform.system()} {platform.machine()}, Python {platform.python_version()}",
        "loadavg_before": _loadavg(),
        "versions": f"PostgreSQL {pg_version}; {_version(['redis-server', '--version']).split(' sha=')[0]}; "
        f"{_version(['wrk', '--version']).split(' [')[0]}",
    }
    results: dict[str, Any] = {"errors": {}, "timings_s": {}, "loadavg": {}}

    def section(name: str, body: Callable[[], Any]) -> None:
        if name not in only:
            return
        print(f"== {name}", flush=True)
        t0 = time.perf_counter()
        load_before = _loadavg()
        try:
            results[name] = body()
            _write(args.out, name, results[name])
        except Exception as exc:
            traceback.print_exc()
            results["errors"][name] = f"{type(exc).__name__}: {exc}"
        results["timings_s"][name] = round(time.perf_counter() - t0, 1)
        results["loadavg"][name] = f"{load_before} / {_loadavg()}"
        print(f"   ({results['timings_s'][name]:.0f} s)", flush=True)

    trace = zipf_trace(args.requests, seed=args.seed)
    needs_db = {"db_load", "eviction", "stampede", "http", "hit_path", "staleness", "engines", "outage"} & set(only)
    if needs_db:
        print(f"== seed: {args.products:,} products into {args.database}", flush=True)
        seeded = prepare_database(args.database, args.products)
        print(f"   {seeded.rows} in {seeded.seconds:.1f} s", flush=True)
        results["seed"] = {"database": seeded.database, "seconds": seeded.seconds, "rows": seeded.rows}

    with PrivateRedis() as redis_main:
        section(
            "db_load",
            lambda: asyncio.run(
                db_load.run_all(
                    trace,
                    database=args.database,
                    redis_port=redis_main.port,
                    warmup=args.warmup,
                    window=args.window,
                    concurrency=args.concurrency,
                    no_cache_sample=min(5_000, args.requests),
                )
            ),
        )

        def run_eviction() -> dict[str, Any]:
            sizes = asyncio.run(db_load.entry_bytes(args.database, redis_main.port))
            result = eviction.run(trace, entry_bytes=round(sizes["mean_bytes"]), warmup=args.warmup, window=args.window)
            result["entry_size_sample"] = sizes
            return result

        section("eviction", run_eviction)
        section(
            "stampede",
            lambda: asyncio.run(
                stampede.run(database=args.database, redis_port=redis_main.port, rounds=args.stampede_rounds)
            ),
        )
        section(
            "http",
            lambda: throughput.run(
                database=args.database,
                redis_port=redis_main.port,
                dead_redis_port=free_port(),
                rounds=args.http_rounds,
                seconds=args.http_seconds,
                connections=args.connections,
            ),
        )
        section(
            "hit_path",
            lambda: hitpath.run(
                database=args.database,
                redis_port=redis_main.port,
                rounds=args.http_rounds,
                seconds=args.http_seconds,
                connections=args.connections,
            ),
        )
        section(
            "near_compare",
            lambda: asyncio.run(near_compare.run(redis_port=redis_main.port, samples=200 if args.quick else 1000)),
        )
    section(
        "staleness",
        lambda: staleness.run(database=args.database, writes=200 if args.quick else 1000),
    )
    section(
        "engines",
        lambda: engines.run(
            trace,
            database=args.database,
            warmup=args.warmup,
            window=args.window,
            seconds=args.http_seconds,
            rounds=args.http_rounds,
            connections=args.connections,
        ),
    )
    section(
        "outage",
        lambda: outage.run(
            database=args.database,
            connections=args.connections,
            **({"baseline_seconds": 4, "outage_seconds": 9, "stop_at": 2, "restart_at": 4} if args.quick else {}),
        ),
    )
    # offline_plan.run writes offline_plan.json itself too (the same content).
    section("offline_plan", lambda: offline_plan.run("prod", args.plan_runs, results_dir=args.out))
    section("soak", soak.run_section)  # its own database and servers; prints its tables

    environment["total_seconds"] = round(time.perf_counter() - started, 1)
    environment["loadavg_after"] = _loadavg()
    environment["finished_at"] = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    environment["quick"] = args.quick
    results["environment"] = environment

    _render(args, results, full_run=args.out == RESULTS and set(only) == set(SECTIONS))
    return 1 if results["errors"] else 0


def _replot(args: argparse.Namespace) -> int:
    """Redraw plots, tables and the docs block from a previous run's JSON files."""
    summary = json.loads((args.out / "summary.json").read_text(encoding="utf-8"))
    results: dict[str, Any] = {
        "environment": summary["environment"],
        "errors": summary.get("errors", {}),
        "timings_s": summary.get("timings_s", {}),
        "loadavg": summary.get("loadavg_before_after", {}),
        "seed": summary.get("seed"),
    }
    for name in SECTIONS:
        path = args.out / f"{name}.json"
        if path.exists():
            results[name] = json.loads(path.read_text(encoding="utf-8"))
    _render(args, results, full_run=args.out == RESULTS and all(name in results for name in SECTIONS))
    return 0


def _render(args: argparse.Namespace, results: dict[str, Any], *, full_run: bool) -> None:
    figures = {
        "db_load": ("db_load.png", plots.db_load),
        "eviction": ("eviction.png", plots.eviction),
        "stampede": ("stampede.png", plots.stampede),
        "http": ("http.png", plots.http),
        "outage": ("outage.png", plots.outage),
        "hit_path": ("hit_path.png", plots.hit_path),
        "engines": ("engines.png", plots.engines),
    }
    for name, (filename, draw) in figures.items():
        if results.get(name):
            draw(results[name], args.out / filename)

    summary = {
        "environment": results["environment"],
        "seed": results.get("seed"),
        "timings_s": results["timings_s"],
        "loadavg_before_after": results["loadavg"],
        "targets": report.targets(results),
        "errors": results["errors"],
    }
    _write(args.out, "summary", summary)
    text = report.markdown(results)
    print()
    print(text)
    if full_run and not args.no_docs and report.update_doc(DOC, text):
        print(f"updated the generated block of {DOC.relative_to(ROOT)}")
    print(f"results: {args.out}/ (total {results['environment']['total_seconds']:.0f} s)")


if __name__ == "__main__":
    sys.exit(main())
