"""Stampede: 100 concurrent requests for one cold key (a category summary, the expensive read).

Variants, each on the same categories, with the key deleted before every round:
- project, one task: 100 concurrent `CatalogService.category_summary_json` calls in one process
  (the cache layer merges concurrent misses in-process);
- project, 100 tasks: 100 separate cache-layer instances sharing one Redis, one request each, as if
  100 ECS tasks got one request each (only the Redis fill lease protects the database);
- none: plain cache-aside written the obvious way (GET, on a miss read the database, SET);
- cashews: the peer library's `@cache` (its default in-process merging, `protected=True`).

The database reads are the repository's own count of `category_summary` statements.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

import redis.asyncio as aioredis
from cashews import Cache
from catalog.cache import STRATEGIES, build_cache
from catalog.cache.near import NearCacheLayer
from catalog.errors import ServiceError
from catalog.metrics import Metrics
from catalog.resources import Resources, open_resources
from catalog.service import CatalogService

from bench.db_load import bench_settings

CONCURRENCY = 100


async def _flush(port: int) -> None:
    client = aioredis.Redis(host="127.0.0.1", port=port)
    try:
        await client.flushall()  # our private server
    finally:
        await client.aclose()


async def _round(requests: list[Awaitable[bytes]], resources: Resources) -> dict[str, Any]:
    """Await the (already created) requests together; count the summary queries they caused."""
    before = resources.repository.queries["category_summary"]
    started = time.perf_counter()
    replies = await asyncio.gather(*requests, return_exceptions=True)
    wall = time.perf_counter() - started
    errors = [r for r in replies if isinstance(r, BaseException)]
    for error in errors:
        if not isinstance(error, ServiceError | TimeoutError | OSError):
            raise error
    return {
        "db_queries": resources.repository.queries["category_summary"] - before,
        "wall_ms": round(1000 * wall, 1),
        "errors": len(errors),
    }


def _summary(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "rounds": rounds,
        "db_queries_median": statistics.median(r["db_queries"] for r in rounds),
        "wall_ms_median": round(statistics.median(r["wall_ms"] for r in rounds), 1),
        "errors_total": sum(r["errors"] for r in rounds),
    }


async def run(*, database: str, redis_port: int, rounds: int) -> dict[str, Any]:
    """Every variant, `rounds` cold keys each (categories 1..rounds)."""
    settings = bench_settings(database, redis_port)
    resources = await open_resources(settings, Metrics())
    repository = resources.repository
    categories = list(range(1, rounds + 1))
    try:
        # One solo read per category first: the database's own caches are then warm for every variant,
        # and the median is the cost of the origin call.
        solo: list[float] = []
        for category_id in categories:
            started = time.perf_counter()
            await repository.category_summary(category_id)
            solo.append(time.perf_counter() - started)

        cashews = Cache()
        cashews.setup(f"redis://127.0.0.1:{redis_port}/0")

        @cashews(ttl="5m", key="bench:summary:{category_id}")
        async def cashews_summary(category_id: int) -> bytes:
            summary = await repository.category_summary(category_id)
            return b"null" if summary is None else summary.model_dump_json().encode()

        # Its own client: the naive variant's 100 concurrent GETs are outside the cache layer's
        # in-flight bound, which the app's pool relies on.
        naive_client = aioredis.Redis(host="127.0.0.1", port=redis_port, max_connections=CONCURRENCY + 10)

        async def naive_summary(category_id: int) -> bytes:
            key = f"naive:{{summary:{category_id}}}"
            cached = await naive_client.get(key)
            if cached is not None:
                return cached if isinstance(cached, bytes) else cached.encode()
            summary = await repository.category_summary(category_id)
            body = b"null" if summary is None else summary.model_dump_json().encode()
            await naive_client.set(key, body, px=300_000)
            return body

        async def tasks_services() -> list[CatalogService]:
            services = []
            for _ in range(CONCURRENCY):
                cache = await build_cache(settings, resources.metrics, redis_client=naive_client)
                services.append(CatalogService(repository, cache, STRATEGIES["cache-aside"](cache)))
            return services

        many_tasks = await tasks_services()
        variants: dict[str, Callable[[int], list[Awaitable[bytes]]]] = {
            "project, one task": lambda c: [resources.service.category_summary_json(c) for _ in range(CONCURRENCY)],
            "project, 100 tasks": lambda c: [s.category_summary_json(c) for s in many_tasks],
            "none (plain cache-aside)": lambda c: [naive_summary(c) for _ in range(CONCURRENCY)],
            "cashews 7.6 @cache": lambda c: [cashews_summary(c) for _ in range(CONCURRENCY)],
        }
        # Round-robin: every variant gets the same category back to back, so drift in the machine's
        # load and each category's own cost hit all variants alike.
        measured: dict[str, list[dict[str, Any]]] = {name: [] for name in variants}
        for category_id in categories:
            for name, make in variants.items():
                await _flush(redis_port)
                measured[name].append(await _round(make(category_id), resources))
        results = {name: _summary(rounds) for name, rounds in measured.items()}
        for name, summary in results.items():
            print(
                f"  {name:<26} db queries {summary['db_queries_median']:>5}  "
                f"wall {summary['wall_ms_median']:8.1f} ms  errors {summary['errors_total']}",
                flush=True,
            )
        await cashews.close()
        await naive_client.aclose()
        for service in many_tasks:
            # Their near caches' invalidation connections (the Redis client itself is shared).
            if isinstance(service.cache, NearCacheLayer):
                await service.cache.listener.close()
    finally:
        await resources.close()
    return {
        "concurrency": CONCURRENCY,
        "key": "category summary (the expensive read), a different category each round",
        "origin_ms_median": round(1000 * statistics.median(solo), 1),
        "database_pool_size": settings.database_pool_size,
        "variants": results,
    }
