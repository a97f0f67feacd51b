"""Prometheus metrics, one registry per app instance (so tests and benchmarks can run several apps)."""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector
from prometheus_client.gc_collector import GCCollector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from catalog.loopmetrics import LoopCounter, LoopCounterChild, LoopHistogram, LoopHistogramChild

ENTITIES = ("product", "summary", "list", "categories")

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_FAST = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)
_HTTP = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """The service's counters and histograms, registered in `registry`."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        # The process's CPU, memory and file descriptors, and the collector's runs per generation
        # (what the default registry would carry; this one is per app instance).
        ProcessCollector(registry=r)
        GCCollector(registry=r)
        # The three series a cached read updates are loop metrics (catalog.loopmetrics: no locks).
        self.cache_hits = LoopCounter(
            "catalog_cache_hits", "Reads answered from Redis.", ["entity", "kind"], registry=r
        )
        self.cache_misses = Counter(
            "catalog_cache_misses",
            "Reads that went to the database (one per in-process flight).",
            ["entity"],
            registry=r,
        )
        self.cache_coalesced = Counter(
            "catalog_cache_coalesced",
            "Misses that joined another request's in-process flight.",
            ["entity"],
            registry=r,
        )
        self.cache_bypassed = Counter(
            "catalog_cache_bypassed",
            "Reads that skipped Redis (breaker open or Redis error).",
            ["entity"],
            registry=r,
        )
        self.cache_lease_waits = Counter(
            "catalog_cache_lease_waits", "Times a miss waited for another task's fill lease.", registry=r
        )
        self.cache_fills = Counter("catalog_cache_fills", "Attempts to store a database read.", ["result"], registry=r)
        self.cache_errors = Counter(
            "catalog_cache_errors", "Redis calls that failed or timed out.", ["operation"], registry=r
        )
        self.cache_invalidations = Counter(
            "catalog_cache_invalidations", "Logical keys invalidated after writes.", ["result"], registry=r
        )
        self.cache_breaker_open = Gauge(
            "catalog_cache_breaker_open", "1 while the Redis circuit breaker is open.", registry=r
        )
        self.cache_operation_seconds = LoopHistogram(
            "catalog_cache_operation_duration_seconds",
            "Redis call latency.",
            ["operation"],
            buckets=_FAST,
            registry=r,
        )
        self.db_queries = Counter("catalog_db_queries", "Database statements executed.", ["query"], registry=r)
        self.db_query_seconds = Histogram(
            "catalog_db_query_duration_seconds",
            "Database statement latency.",
            ["query"],
            buckets=_FAST,
            registry=r,
        )
        self.db_errors = Counter("catalog_db_errors", "Database calls that failed.", ["kind"], registry=r)
        self.http_request_seconds = LoopHistogram(
            "catalog_http_request_duration_seconds",
            "HTTP request latency by route template.",
            ["method", "route", "status"],
            buckets=_HTTP,
            registry=r,
        )
        # Label lookups cost more than the increment itself; the hot path uses these bound children.
        self.hit: dict[str, LoopCounterChild] = {e: self.cache_hits.labels(e, "positive") for e in ENTITIES}
        self.negative_hit: dict[str, LoopCounterChild] = {e: self.cache_hits.labels(e, "negative") for e in ENTITIES}
        self._request_children: dict[tuple[str, str, int], LoopHistogramChild] = {}

    def request_latency(self, method: str, template: str, status: int) -> LoopHistogramChild:
        """The latency histogram child of one (method, route template, status), bound once."""
        key = (method if method in _METHODS else "OTHER", template, status)
        child = self._request_children.get(key)
        if child is None:
            child = self.http_request_seconds.labels(key[0], key[1], str(key[2]))
            self._request_children[key] = child
        return child


class HttpMetricsMiddleware:
    """Pure ASGI middleware timing each request by its route template (bounded label values)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            self.metrics.request_latency(scope["method"], template, status).observe(time.perf_counter() - start)
