"""Hit/miss behaviour per strategy, TTL and jitter, negative caching, invalidation with no stale reads."""

from __future__ import annotations

import asyncio
import secrets

import pytest
import redis
from catalog.cache import CacheLayer, Entry

from tests.app.conftest import SettingsFactory
from tests.app.helpers import AppUnderTest, new_product, running_app

STRATEGIES = ["cache-aside", "read-through", "write-through"]


@pytest.mark.parametrize("strategy", STRATEGIES)
async def test_miss_then_hit_and_what_a_write_does(make_settings: SettingsFactory, strategy: str) -> None:
    async with running_app(make_settings(CACHE_STRATEGY=strategy)) as app:
        product = await new_product(app.client)
        url = f"/api/products/{product['id']}"
        await app.client.post("/ops/cache/invalidate", json={"key": f"product:{product['id']}"})
        async with app.expect_queries(1):  # miss: one database read
            first = await app.client.get(url)
        async with app.expect_queries(0):  # hit
            second = await app.client.get(url)
        assert first.json() == second.json() == product
        assert app.resources.cache.counters["hits"] == 1

        await app.client.patch(url, json={"name": "Renamed"})
        # write-through: the write stored the new row (a hit); the others deleted the entry (a miss)
        async with app.expect_queries(0 if strategy == "write-through" else 1):
            after = await app.client.get(url)
        assert after.json()["name"] == "Renamed"


@pytest.mark.parametrize("strategy", STRATEGIES)
async def test_no_stale_read_after_a_write_returns(make_settings: SettingsFactory, strategy: str) -> None:
    async with running_app(make_settings(CACHE_STRATEGY=strategy)) as app:
        product = await new_product(app.client, category_id=4)
        url = f"/api/products/{product['id']}"
        for price in range(100, 110):
            await app.client.get(url)
            await app.client.get("/api/categories/4/summary")
            await app.client.get("/api/products", params={"category": 4, "limit": 100})
            assert (await app.client.patch(url, json={"price_cents": price})).status_code == 200
            assert (await app.client.get(url)).json()["price_cents"] == price
            summary = (await app.client.get("/api/categories/4/summary")).json()
            assert summary["price_cents"]["max"] >= price
            page = (await app.client.get("/api/products", params={"category": 4, "limit": 100})).json()
            mine = [item for item in page["items"] if item["id"] == product["id"]]
            assert page["next_cursor"] is not None or mine
            assert all(item["price_cents"] == price for item in mine)

        # Deletes: the product, the category summary and the lists all forget it.
        count = (await app.client.get("/api/categories/4/summary")).json()["product_count"]
        assert (await app.client.delete(url)).status_code == 204
        assert (await app.client.get(url)).status_code == 404
        assert (await app.client.get("/api/categories/4/summary")).json()["product_count"] == count - 1


@pytest.mark.parametrize("strategy", STRATEGIES)
async def test_moving_a_product_refreshes_both_categories(make_settings: SettingsFactory, strategy: str) -> None:
    async with running_app(make_settings(CACHE_STRATEGY=strategy)) as app:
        product = await new_product(app.client, category_id=5)
        before = {c: (await app.client.get(f"/api/categories/{c}/summary")).json()["product_count"] for c in (5, 6)}
        await app.client.patch(f"/api/products/{product['id']}", json={"category_id": 6})
        after = {c: (await app.client.get(f"/api/categories/{c}/summary")).json()["product_count"] for c in (5, 6)}
        assert after == {5: before[5] - 1, 6: before[6] + 1}


async def test_reviews_refresh_product_and_summary(svc: AppUnderTest) -> None:
    product = await new_product(svc.client, category_id=7)
    summary = (await svc.client.get("/api/categories/7/summary")).json()
    await svc.client.get(f"/api/products/{product['id']}")
    await svc.client.post(f"/api/products/{product['id']}/reviews", json={"rating": 5})
    assert (await svc.client.get(f"/api/products/{product['id']}")).json()["rating"] == {"average": 5.0, "count": 1}
    after = (await svc.client.get("/api/categories/7/summary")).json()
    assert after["reviews"]["count"] == summary["reviews"]["count"] + 1


async def test_negative_caching_and_create_replaces_it(svc: AppUnderTest, sync_redis: redis.Redis) -> None:
    conn_queries = svc.queries
    missing = 10**12
    assert (await svc.client.get(f"/api/products/{missing}")).status_code == 404
    assert (await svc.client.get(f"/api/products/{missing}")).status_code == 404
    assert svc.queries == conn_queries + 1  # the second 404 came from Redis
    assert svc.resources.cache.counters["negative_hits"] == 1
    ttl_ms = sync_redis.pttl(svc.key(f"product:{missing}"))
    assert 0 < ttl_ms <= 30 * 1.1 * 1000  # CACHE_NEGATIVE_TTL_SECONDS=30 with 10 % jitter

    # A negative entry for the id the next product will get must not hide it once created.
    async with svc.resources.pool.acquire() as conn:
        next_id = await conn.fetchval("SELECT last_value + 1 FROM products_id_seq")
    assert (await svc.client.get(f"/api/products/{next_id}")).status_code == 404
    created = await new_product(svc.client)
    assert created["id"] == next_id
    assert (await svc.client.get(f"/api/products/{next_id}")).status_code == 200


async def test_ttl_with_jitter(make_settings: SettingsFactory, sync_redis: redis.Redis) -> None:
    async with running_app(make_settings(CACHE_TTL_SECONDS="100", CACHE_TTL_JITTER="0.2")) as app:
        for product_id in range(10, 40):
            await app.client.get(f"/api/products/{product_id}")
        ttls = [sync_redis.pttl(app.key(f"product:{product_id}")) for product_id in range(10, 40)]
    assert all(80_000 - 1000 <= ttl <= 120_000 for ttl in ttls), ttls
    assert len({ttl // 1000 for ttl in ttls}) > 5  # spread out, not all expiring together
    assert max(ttls) - min(ttls) > 10_000


async def test_entries_expire(make_settings: SettingsFactory) -> None:
    async with running_app(make_settings(CACHE_TTL_SECONDS="1", CACHE_TTL_JITTER="0")) as app:
        await app.client.get("/api/products/11")
        async with app.expect_queries(0):
            await app.client.get("/api/products/11")
        await asyncio.sleep(1.1)
        async with app.expect_queries(1):
            await app.client.get("/api/products/11")


async def test_write_through_never_replaces_a_newer_version(svc: AppUnderTest, sync_redis: redis.Redis) -> None:
    cache: CacheLayer = svc.resources.cache
    logical = f"product:{secrets.randbelow(10**9) + 10**10}"
    assert await cache.put(logical, Entry(b'{"v":5}', 5)) is True
    assert await cache.put(logical, Entry(b'{"v":4}', 4)) is False  # a slower writer of an older row
    assert sync_redis.get(svc.key(logical)) == b'V5\n{"v":5}'
    assert await cache.put(logical, Entry(None, 6)) is True  # delete tombstone
    assert await cache.put(logical, Entry(b'{"v":5}', 5)) is False
    assert sync_redis.get(svc.key(logical)) == b"N6\n"
