"""Counters and histograms for the request path: updated on the event loop without locks, scraped as usual.

prometheus_client's metrics are built for threaded servers: every increment takes a lock, and a
histogram observation takes two (sum and bucket) after a Python loop over the bounds. A cached read
makes three such updates (its route's latency, the Redis GET's latency, the hit counter); over HTTP
they measured ~25 us of a ~230 us request (issue 18). This service updates them only on its one
event-loop thread (the ASGI app, the cache layer, the `/metrics` route are all coroutines), so a
plain int or float per series is enough: a bucket is found with `bisect` and counted with `+=`.

The families register as a Prometheus collector and expose exactly what the same
`prometheus_client.Counter`/`Histogram` would (names, `_total`, `_bucket`/`_count`/`_sum`, `le`
labels); a scrape copies each series' counts in one step, so buckets and count always agree.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator, Sequence
from typing import Generic, TypeVar

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString


class LoopCounterChild:
    """One labelled counter series."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0.0

    def inc(self, amount: float = 1.0) -> None:
        """Add `amount` (>= 0)."""
        if amount < 0:
            raise ValueError("counters can only be incremented by non-negative amounts")
        self.value += amount


class LoopHistogramChild:
    """One labelled histogram series: a count per bucket (the last is +Inf) and the sum."""

    __slots__ = ("_bounds", "_counts", "sum")

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self._bounds = bounds
        self._counts = [0] * (len(bounds) + 1)
        self.sum = 0.0

    def observe(self, amount: float) -> None:
        """Count one observation in the first bucket whose upper bound is >= amount."""
        self._counts[bisect_left(self._bounds, amount)] += 1
        self.sum += amount

    def snapshot(self) -> tuple[list[int], float]:
        """Per-bucket counts and the sum, read together."""
        return list(self._counts), self.sum


ChildT = TypeVar("ChildT", LoopCounterChild, LoopHistogramChild)


class _LoopFamily(Collector, Generic[ChildT]):
    """A labelled family: one child per tuple of label values, created on first use."""

    def __init__(self, name: str, documentation: str, labelnames: Sequence[str], registry: CollectorRegistry) -> None:
        self.name = name
        self.documentation = documentation
        self.labelnames = tuple(labelnames)
        self._children: dict[tuple[str, ...], ChildT] = {}
        registry.register(self)

    def labels(self, *values: str) -> ChildT:
        """The series of these label values (created on first use)."""
        child = self._children.get(values)
        if child is None:
            if len(values) != len(self.labelnames):
                raise ValueError(f"{self.name}: expected labels {self.labelnames}, got {values}")
            child = self._children[values] = self._new_child()
        return child

    def _new_child(self) -> ChildT:
        raise NotImplementedError


class LoopCounter(_LoopFamily[LoopCounterChild]):
    """A labelled counter family (`labels(...).inc()`), exposed as `<name>_total`."""

    def _new_child(self) -> LoopCounterChild:
        return LoopCounterChild()

    def describe(self) -> Iterator[Metric]:
        yield CounterMetricFamily(self.name, self.documentation, labels=self.labelnames)

    def collect(self) -> Iterator[Metric]:
        family = CounterMetricFamily(self.name, self.documentation, labels=self.labelnames)
        for values, child in list(self._children.items()):
            family.add_metric(list(values), child.value)
        yield family


class LoopHistogram(_LoopFamily[LoopHistogramChild]):
    """A labelled histogram family (`labels(...).observe(seconds)`) with fixed bucket bounds."""

    def __init__(
        self,
        name: str,
        documentation: str,
        labelnames: Sequence[str],
        registry: CollectorRegistry,
        *,
        buckets: Sequence[float],
    ) -> None:
        bounds = tuple(float(b) for b in buckets)
        if not bounds or list(bounds) != sorted(set(bounds)) or bounds[-1] == float("inf"):
            raise ValueError(f"{name}: buckets must be finite, increasing and unique, got {buckets}")
        self.bounds = bounds
        self._le = [floatToGoString(b) for b in bounds] + ["+Inf"]  # type: ignore[no-untyped-call]
        super().__init__(name, documentation, labelnames, registry)

    def _new_child(self) -> LoopHistogramChild:
        return LoopHistogramChild(self.bounds)

    def describe(self) -> Iterator[Metric]:
        yield HistogramMetricFamily(self.name, self.documentation, labels=self.labelnames)

    def collect(self) -> Iterator[Metric]:
        family = HistogramMetricFamily(self.name, self.documentation, labels=self.labelnames)
        for values, child in list(self._children.items()):
            counts, total = child.snapshot()
            cumulative, buckets = 0, []
            for le, count in zip(self._le, counts, strict=True):
                cumulative += count
                buckets.append((le, float(cumulative)))
            family.add_metric(list(values), buckets, total)
        yield family
