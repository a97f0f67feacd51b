"""Redis stopped, hung or restarted mid-test: requests keep succeeding from PostgreSQL, latency stays bounded."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.app.conftest import SettingsFactory
from tests.app.helpers import AppUnderTest, new_product, running_app, wait_until
from tests.app.servers import RedisServer


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    """A private redis-server this test may stop, pause and restart."""
    server = RedisServer().start()
    try:
        yield server
    finally:
        server.close()


def outage_settings(server: RedisServer) -> dict[str, str]:
    return {
        "REDIS_PORT": str(server.port),
        "REDIS_TIMEOUT_SECONDS": "0.05",
        "REDIS_CONNECT_TIMEOUT_SECONDS": "0.05",
        "REDIS_BREAKER_THRESHOLD": "3",
        "REDIS_BREAKER_RESET_SECONDS": "0.3",
    }


async def timed_get(app: AppUnderTest, url: str) -> tuple[int, float, bytes]:
    started = time.perf_counter()
    response = await app.client.get(url)
    return response.status_code, time.perf_counter() - started, response.content


async def test_redis_stopped_then_restarted(make_settings: SettingsFactory, own_redis: RedisServer) -> None:
    async with running_app(make_settings(**outage_settings(own_redis))) as app:
        cache = app.resources.cache
        warm = await app.client.get("/api/products/21")
        assert (await app.client.get("/api/products/21")).content == warm.content
        assert cache.counters["hits"] == 1

        own_redis.stop()
        results = [await timed_get(app, f"/api/products/{21 + i % 5}") for i in range(40)]
        assert {status for status, _, _ in results} == {200}
        assert results[0][2] == warm.content  # served from PostgreSQL, same body
        assert max(elapsed for _, elapsed, _ in results) < 1.0  # a few 50 ms timeouts at most, then none
        assert cache.breaker.state in ("open", "half-open")
        errors = cache.counters["errors"]
        assert errors <= 6  # the breaker opened after 3 failures; later requests did not touch Redis
        tail = results[10:]
        assert sum(elapsed for _, elapsed, _ in tail) / len(tail) < 0.1  # breaker open: PostgreSQL only

        ready = await app.client.get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["cache"] == "degraded"

        own_redis.start()  # empty: it keeps nothing on disk
        await wait_until(lambda: cache.breaker.state == "closed")
        hits = cache.counters["hits"]
        await app.client.get("/api/products/21")
        await app.client.get("/api/products/21")
        assert cache.counters["hits"] == hits + 1  # filled and hit again
        assert (await app.client.get("/readyz")).json()["cache"] == "ok"


async def test_hung_redis_trips_the_breaker_and_queued_invalidations_land_first(
    make_settings: SettingsFactory, own_redis: RedisServer
) -> None:
    async with running_app(make_settings(**outage_settings(own_redis))) as app:
        cache = app.resources.cache
        product = await new_product(app.client, name="Before the outage")
        url = f"/api/products/{product['id']}"
        await app.client.get(url)  # cached

        own_redis.pause()  # SIGSTOP: sockets open, nothing answers
        started = time.perf_counter()
        statuses = [(await app.client.get(url)).status_code for _ in range(10)]
        assert statuses == [200] * 10
        assert time.perf_counter() - started < 2.0  # 3 timeouts of 50 ms, then the breaker is open

        patched = await app.client.patch(url, json={"name": "During the outage"})
        assert patched.status_code == 200  # the write succeeds; its invalidation is queued
        assert cache.pending_invalidations > 0
        assert (await app.client.get(url)).json()["name"] == "During the outage"

        own_redis.resume()  # Redis still holds the old row under the key
        await wait_until(lambda: cache.breaker.state == "closed")
        assert cache.pending_invalidations == 0
        assert cache.counters["invalidations_replayed"] >= 1  # the old row Redis still held was deleted
        assert (await app.client.get(url)).json()["name"] == "During the outage"  # not the stale copy
        assert (await app.client.get(url)).json()["name"] == "During the outage"


async def test_service_starts_while_redis_is_down(make_settings: SettingsFactory, own_redis: RedisServer) -> None:
    own_redis.stop()
    async with running_app(make_settings(**outage_settings(own_redis))) as app:
        assert (await app.client.get("/api/products/22")).status_code == 200
        ready = await app.client.get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["status"] == "degraded"
        stats = (await app.client.get("/ops/cache/stats")).json()
        assert stats["server"] is None
        prefix = await app.client.post("/ops/cache/invalidate", json={"prefix": "product:"})
        assert prefix.status_code == 503
        assert prefix.json()["error"] == "cache_unavailable"


async def test_a_hung_redis_costs_one_timeout_and_a_closed_socket_one_redial(
    make_settings: SettingsFactory, own_redis: RedisServer
) -> None:
    """Timeouts are not retried (a hung server would cost the timeout twice); a dropped connection is."""
    settings = make_settings(REDIS_PORT=str(own_redis.port), REDIS_TIMEOUT_SECONDS="0.3", REDIS_BREAKER_THRESHOLD="50")
    async with running_app(settings) as app:
        cache = app.resources.cache
        await app.client.get("/api/products/23")  # a pooled connection exists now
        own_redis.pause()
        started = time.perf_counter()
        assert (await app.client.get("/api/products/24")).status_code == 200
        elapsed = time.perf_counter() - started
        own_redis.resume()
        assert elapsed < 0.6  # one 0.3 s timeout, not two
        assert cache.counters["errors"] == 1

        # A server that closed our pooled sockets (a restart, a failover): one re-dial, no error.
        own_redis.stop()
        own_redis.start()
        errors = cache.counters["errors"]
        assert (await app.client.get("/api/products/23")).status_code == 200
        assert cache.counters["errors"] == errors
