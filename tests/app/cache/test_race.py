"""The classic cache-aside race, forced deterministically: a slow reader must not put back an old row.

Interleaving (each step waits for the previous with an event):
  1. reader misses, takes the fill lease, reads the OLD row from PostgreSQL, and is paused;
  2. writer commits the NEW row and invalidates the key (write-through: stores it), deleting the lease;
  3. reader resumes and tries to store the OLD row.
Without the lease step 3 succeeds and every later read is stale until the TTL; with it, the fill is refused.
"""

from __future__ import annotations

import pytest
import redis
from catalog.cache import Entry

from tests.app.conftest import SettingsFactory
from tests.app.gates import GatedRepository, GatedWriteThrough
from tests.app.helpers import AppUnderTest, new_product, running_app

STRATEGIES = ["cache-aside", "read-through", "write-through"]


@pytest.mark.parametrize("strategy", STRATEGIES)
async def test_slow_reader_cannot_store_a_row_a_writer_replaced(
    make_settings: SettingsFactory, sync_redis: redis.Redis, strategy: str
) -> None:
    async with running_app(make_settings(CACHE_STRATEGY=strategy), repository_factory=GatedRepository) as app:
        repo = app.resources.repository
        assert isinstance(repo, GatedRepository)
        product = await new_product(app.client, name="Old name")
        url = f"/api/products/{product['id']}"
        key = app.key(f"product:{product['id']}")
        sync_redis.delete(key)  # write-through stored the new product on create; start cold

        reader = await repo.gate.pause(app.client.get(url))  # 1. the reader holds the lease and the old row
        assert sync_redis.exists(f"{key}:lease")

        patched = await app.client.patch(url, json={"name": "New name"})  # 2. commit + invalidate
        assert patched.status_code == 200
        assert not sync_redis.exists(f"{key}:lease")

        repo.gate.open()  # 3. the reader tries to store what it read
        stale_response = await reader
        assert stale_response.json()["name"] == "Old name"  # it began before the write: fine to answer
        assert app.resources.cache.counters["fills_rejected"] == 1
        assert b"Old name" not in (sync_redis.get(key) or b"")

        assert (await app.client.get(url)).json()["name"] == "New name"
        assert (await app.client.get(url)).json()["name"] == "New name"


async def test_same_interleaving_without_the_lease_leaves_stale_data(
    svc: AppUnderTest, sync_redis: redis.Redis
) -> None:
    """The control: a plain SET after the read (what naive cache-aside does) really does go stale."""
    product = await new_product(svc.client, name="Old name")
    url = f"/api/products/{product['id']}"
    key = svc.key(f"product:{product['id']}")
    old = await svc.resources.repository.get_product(product["id"])  # 1. slow reader reads the old row
    assert old is not None
    await svc.client.patch(url, json={"name": "New name"})  # 2. writer commits and deletes the entry
    sync_redis.set(key, Entry(old.model_dump_json().encode(), old.version).encode())  # 3. naive SET
    assert (await svc.client.get(url)).json()["name"] == "Old name"  # stale until the TTL


async def test_delete_racing_a_slow_reader_does_not_resurrect_the_row(
    make_settings: SettingsFactory, sync_redis: redis.Redis
) -> None:
    async with running_app(make_settings(), repository_factory=GatedRepository) as app:
        repo = app.resources.repository
        assert isinstance(repo, GatedRepository)
        product = await new_product(app.client)
        url = f"/api/products/{product['id']}"
        reader = await repo.gate.pause(app.client.get(url))
        assert (await app.client.delete(url)).status_code == 204
        repo.gate.open()
        assert (await reader).status_code == 200
        assert (await app.client.get(url)).status_code == 404


async def test_summary_fill_racing_a_review_is_refused(make_settings: SettingsFactory) -> None:
    async with running_app(make_settings(), repository_factory=GatedRepository) as app:
        repo = app.resources.repository
        assert isinstance(repo, GatedRepository)
        product = await new_product(app.client, category_id=8)
        reader = await repo.gate.pause(app.client.get("/api/categories/8/summary"))
        await app.client.post(f"/api/products/{product['id']}/reviews", json={"rating": 1})
        repo.gate.open()
        before = (await reader).json()["reviews"]["count"]
        assert (await app.client.get("/api/categories/8/summary")).json()["reviews"]["count"] == before + 1


async def test_write_through_writers_finishing_out_of_order_keep_the_newest(
    make_settings: SettingsFactory, sync_redis: redis.Redis
) -> None:
    async with running_app(make_settings(CACHE_STRATEGY="write-through")) as app:
        strategy = GatedWriteThrough(app.resources.cache)
        app.resources.service.strategy = strategy
        product = await new_product(app.client)
        url = f"/api/products/{product['id']}"

        first = await strategy.gate.pause(app.client.patch(url, json={"name": "First write"}))
        # committed (version 2), cache not yet updated
        second = await app.client.patch(url, json={"name": "Second write"})  # commits version 3, stores it
        assert second.json()["version"] == 3
        strategy.gate.open()
        assert (await first).json()["version"] == 2  # its put of version 2 arrives last and is refused

        assert b"Second write" in (sync_redis.get(app.key(f"product:{product['id']}")) or b"")
        async with app.expect_queries(0):  # a hit, and the right one
            assert (await app.client.get(url)).json()["name"] == "Second write"
