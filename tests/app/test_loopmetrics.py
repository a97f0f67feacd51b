"""Loop metrics expose, scrape for scrape, exactly what prometheus_client's own Counter and Histogram would."""

from __future__ import annotations

import random

import prometheus_client
import pytest
from catalog.loopmetrics import LoopCounter, LoopHistogram
from catalog.metrics import Metrics
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)


@pytest.fixture(autouse=True)
def _no_created_series() -> None:
    # As the server runs (catalog.server): *_created series off, so both sides print the same lines.
    prometheus_client.disable_created_metrics()  # type: ignore[no-untyped-call]


def test_the_exposition_is_prometheus_clients_own() -> None:
    ours, theirs = CollectorRegistry(), CollectorRegistry()
    hist = LoopHistogram("t_latency_seconds", "Latency.", ["route", "status"], ours, buckets=BUCKETS)
    ref_hist = Histogram("t_latency_seconds", "Latency.", ["route", "status"], registry=theirs, buckets=BUCKETS)
    count = LoopCounter("t_hits", "Hits.", ["entity"], ours)
    ref_count = Counter("t_hits", "Hits.", ["entity"], registry=theirs)
    rng = random.Random(7)
    # Values on the bounds too: a bucket is "less than or equal to" its bound on both sides.
    samples = [*BUCKETS, 0.0, 2.0, *(rng.expovariate(300) for _ in range(2000))]
    for value in samples:
        labels = (rng.choice(["/a", "/b/{id}"]), rng.choice(["200", "404"]))
        hist.labels(*labels).observe(value)
        ref_hist.labels(*labels).observe(value)
        entity = rng.choice(["product", "summary"])
        count.labels(entity).inc()
        ref_count.labels(entity).inc()
    count.labels("list")  # a series created and never counted is exposed as 0 on both sides
    ref_count.labels("list")
    assert generate_latest(ours).decode() == generate_latest(theirs).decode()


def test_the_service_metrics_scrape_and_refuse_bad_labels() -> None:
    metrics = Metrics()
    metrics.request_latency("GET", "/api/products/{product_id}", 200).observe(0.003)
    metrics.request_latency("BREW", "/x", 418).observe(0.2)  # an unknown method is one series: OTHER
    metrics.hit["product"].inc()
    text = generate_latest(metrics.registry).decode()
    assert (
        'catalog_http_request_duration_seconds_bucket{le="0.005",method="GET",'
        'route="/api/products/{product_id}",status="200"} 1.0'
    ) in text
    assert 'catalog_http_request_duration_seconds_count{method="OTHER",route="/x",status="418"} 1.0' in text
    assert 'catalog_cache_hits_total{entity="product",kind="positive"} 1.0' in text
    assert 'catalog_cache_hits_total{entity="summary",kind="negative"} 0.0' in text
    with pytest.raises(ValueError, match="expected labels"):
        metrics.cache_hits.labels("product")
    with pytest.raises(ValueError, match="non-negative"):
        metrics.hit["product"].inc(-1)
    with pytest.raises(ValueError, match="buckets"):
        LoopHistogram("t_bad", "Bad.", [], CollectorRegistry(), buckets=(1.0, 0.5))
    # One name, one family: registering it twice is the registry's duplicate error, as for prometheus_client.
    with pytest.raises(ValueError, match="Duplicated"):
        LoopCounter("catalog_cache_hits", "Again.", ["entity", "kind"], metrics.registry)
