"""Memcached as the cache: cache-aside and read-through over real memcached servers, all nodes, TLS, outages.

Every server here is a private `memcached` started on a free port (Debian's package, installed by
`tools/apt-install` through the `memcached_installed` fixture). The configuration endpoint of
ElastiCache's auto discovery is the one stand-in: memcached has no `config get cluster`, so a small
server answers it with the real nodes' addresses.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.app.conftest import SettingsFactory
from tests.app.gates import GatedRepository
from tests.app.helpers import AppUnderTest, new_product, running_app, wait_until
from tests.app.servers import ConfigEndpoint, MemcachedServer, make_tls_files

STRATEGIES = ["cache-aside", "read-through"]


def memcached_env(server: MemcachedServer, **extra: str) -> dict[str, str]:
    return {"CACHE_BACKEND": "memcached", "MEMCACHED_PORT": str(server.port), **extra}


@pytest.fixture
def more_memcached(memcached_installed: None) -> Iterator[list[MemcachedServer]]:
    """Further private memcached nodes a test starts; all stopped afterwards."""
    started: list[MemcachedServer] = []
    yield started
    for server in started:
        server.stop()


@pytest.fixture
async def config_endpoint() -> AsyncIterator[list[ConfigEndpoint]]:
    endpoints: list[ConfigEndpoint] = []
    yield endpoints
    for endpoint in endpoints:
        await endpoint.close()


async def exercise(app: AppUnderTest) -> None:
    """Miss, hit, write invalidation, summaries, lists, a whole-cache flush and stats, all through memcached."""
    product = await new_product(app.client, category_id=2)
    url = f"/api/products/{product['id']}"
    async with app.expect_queries(1):
        assert (await app.client.get(url)).json() == product
    async with app.expect_queries(0):
        assert (await app.client.get(url)).json() == product
    page = await app.client.get("/api/products", params={"category": 2, "limit": 5})
    summary = (await app.client.get("/api/categories/2/summary")).json()
    async with app.expect_queries(0):
        assert (await app.client.get("/api/products", params={"category": 2, "limit": 5})).json() == page.json()
        assert (await app.client.get("/api/categories/2/summary")).json() == summary

    assert (await app.client.patch(url, json={"name": "Changed", "price_cents": 99})).status_code == 200
    assert (await app.client.get(url)).json()["name"] == "Changed"
    after = (await app.client.get("/api/categories/2/summary")).json()
    assert after["price_cents"]["min"] <= 99
    mine = [
        item
        for item in (await app.client.get("/api/products", params={"category": 2, "limit": 100})).json()["items"]
        if item["id"] == product["id"]
    ]
    assert all(item["name"] == "Changed" for item in mine)

    assert (await app.client.post("/ops/cache/invalidate", json={"prefix": ""})).status_code == 200
    async with app.expect_queries(1):
        await app.client.get(url)  # the flush emptied the cache
    responses = await asyncio.gather(*(app.client.get("/api/products/30") for _ in range(20)))
    assert {r.status_code for r in responses} == {200}
    stats = (await app.client.get("/ops/cache/stats")).json()
    assert stats["backend"] == "memcached"
    assert stats["server"]
    assert app.resources.cache.counters["errors"] == 0
    assert app.resources.cache.breaker.state == "closed"


@pytest.mark.parametrize("strategy", STRATEGIES)
async def test_memcached_as_the_cache(
    make_settings: SettingsFactory, memcached: MemcachedServer, strategy: str
) -> None:
    async with running_app(make_settings(**memcached_env(memcached, CACHE_STRATEGY=strategy))) as app:
        await exercise(app)
    assert memcached.items() > 0


async def test_prefix_invalidation_other_than_everything_is_refused(
    make_settings: SettingsFactory, memcached: MemcachedServer
) -> None:
    async with running_app(make_settings(**memcached_env(memcached))) as app:
        refused = await app.client.post("/ops/cache/invalidate", json={"prefix": "product:"})
        assert refused.status_code == 400
        assert "cannot enumerate keys" in refused.json()["detail"]
        assert (await app.client.post("/ops/cache/invalidate", json={"key": "product:3"})).status_code == 200


async def test_a_slow_reader_cannot_store_a_row_a_writer_replaced(
    make_settings: SettingsFactory, memcached: MemcachedServer
) -> None:
    """The lease without a lease key: the reader's `add`ed marker and `cas` fill, against a writer's delete."""
    async with running_app(make_settings(**memcached_env(memcached)), repository_factory=GatedRepository) as app:
        repo = app.resources.repository
        assert isinstance(repo, GatedRepository)
        product = await new_product(app.client, name="Old name")
        url = f"/api/products/{product['id']}"
        key = app.key(f"product:{product['id']}")

        reader = await repo.gate.pause(app.client.get(url))  # holds the marker and the old row
        marker = memcached.get(key)
        assert marker is not None
        assert marker.startswith(b"L")
        assert (await app.client.patch(url, json={"name": "New name"})).status_code == 200
        assert memcached.get(key) is None  # the write deleted the marker with the entry

        repo.gate.open()
        assert (await reader).json()["name"] == "Old name"  # began before the write
        assert app.resources.cache.counters["fills_rejected"] == 1  # its cas found the marker gone
        assert b"Old name" not in (memcached.get(key) or b"")
        assert (await app.client.get(url)).json()["name"] == "New name"
        assert (await app.client.get(url)).json()["name"] == "New name"


async def test_across_tasks_the_marker_holder_reads_and_the_others_wait(
    make_settings: SettingsFactory, memcached: MemcachedServer
) -> None:
    settings = make_settings(**memcached_env(memcached))
    async with (
        running_app(settings, repository_factory=GatedRepository) as task_a,
        running_app(settings) as task_b,
    ):
        repo_a = task_a.resources.repository
        assert isinstance(repo_a, GatedRepository)
        leader = await repo_a.gate.pause(task_a.client.get("/api/products/43"))
        followers = [asyncio.create_task(task_b.client.get("/api/products/43")) for _ in range(30)]
        await wait_until(lambda: task_b.resources.cache.counters["lease_waits"] >= 1, what="B waits on A's marker")
        repo_a.gate.open()
        responses = [await leader, *await asyncio.gather(*followers)]
        assert {r.status_code for r in responses} == {200}
        assert len({r.content for r in responses}) == 1
        assert repo_a.queries["get_product"] == 1
        assert task_b.resources.repository.queries["get_product"] == 0


async def test_auto_discovery_spreads_keys_over_every_node_and_follows_changes(
    make_settings: SettingsFactory,
    memcached: MemcachedServer,
    more_memcached: list[MemcachedServer],
    config_endpoint: list[ConfigEndpoint],
) -> None:
    second = MemcachedServer().start()
    more_memcached.append(second)
    endpoint = await ConfigEndpoint([memcached.port, second.port]).start()
    config_endpoint.append(endpoint)
    env = {
        "CACHE_BACKEND": "memcached",
        "MEMCACHED_PORT": str(endpoint.port),
        "MEMCACHED_AUTODISCOVERY": "true",
        "MEMCACHED_AUTODISCOVERY_INTERVAL_SECONDS": "0.2",
    }
    async with running_app(make_settings(**env)) as app:
        for product_id in range(1, 61):
            assert (await app.client.get(f"/api/products/{product_id}")).status_code == 200
        assert memcached.items() > 5
        assert second.items() > 5
        assert memcached.items() + second.items() == 60
        async with app.expect_queries(0):
            for product_id in range(1, 61):
                await app.client.get(f"/api/products/{product_id}")

        third = MemcachedServer().start()  # a node added to the cluster
        more_memcached.append(third)
        endpoint.set_nodes([memcached.port, second.port, third.port])
        await wait_until(lambda: len(app.resources.cache.remote.backend.nodes()) == 3, what="third node discovered")
        for product_id in range(61, 121):
            await app.client.get(f"/api/products/{product_id}")
        assert third.items() > 0
        stats = (await app.client.get("/ops/cache/stats")).json()
        assert set(stats["server"]) == {f"127.0.0.1:{s.port}" for s in (memcached, second, third)}
    assert endpoint.requests >= 2


async def test_tls_with_a_verified_certificate(
    make_settings: SettingsFactory, memcached_installed: None, more_memcached: list[MemcachedServer], tmp_path: Path
) -> None:
    cert, key, ca = make_tls_files(tmp_path)
    server = MemcachedServer(tls=(cert, key, ca)).start()
    more_memcached.append(server)
    # Generous timeouts: TLS handshakes on a busy 2-core machine can outlast the 0.25 s default.
    env = memcached_env(
        server,
        MEMCACHED_TLS="true",
        MEMCACHED_TLS_CA_FILE=str(ca),
        REDIS_TIMEOUT_SECONDS="2",
        REDIS_CONNECT_TIMEOUT_SECONDS="2",
    )
    async with running_app(make_settings(**env)) as app:
        await exercise(app)


async def test_tls_refuses_a_server_it_cannot_verify(
    make_settings: SettingsFactory, memcached_installed: None, more_memcached: list[MemcachedServer], tmp_path: Path
) -> None:
    cert, key, ca = make_tls_files(tmp_path)
    server = MemcachedServer(tls=(cert, key, ca)).start()
    more_memcached.append(server)
    env = memcached_env(server, MEMCACHED_TLS="true", REDIS_TIMEOUT_SECONDS="0.2")
    async with running_app(make_settings(**env)) as app:  # system CAs only
        assert (await app.client.get("/api/products/32")).status_code == 200  # fails open to the database
        assert app.resources.cache.counters["errors"] >= 1
        assert app.resources.cache.counters["hits"] == 0


async def test_a_hung_node_fails_open_and_a_write_during_it_lands_before_reads_trust_it(
    make_settings: SettingsFactory, memcached: MemcachedServer
) -> None:
    env = memcached_env(
        memcached,
        REDIS_TIMEOUT_SECONDS="0.05",
        REDIS_BREAKER_THRESHOLD="3",
        REDIS_BREAKER_RESET_SECONDS="0.3",
    )
    async with running_app(make_settings(**env)) as app:
        cache = app.resources.cache
        product = await new_product(app.client, name="Before the outage")
        url = f"/api/products/{product['id']}"
        await app.client.get(url)  # cached on the node

        memcached.pause()
        statuses = [(await app.client.get(url)).status_code for _ in range(10)]
        assert statuses == [200] * 10
        assert cache.breaker.state != "closed"
        assert (await app.client.patch(url, json={"name": "During the outage"})).status_code == 200
        assert cache.pending_invalidations > 0
        assert (await app.client.get(url)).json()["name"] == "During the outage"

        memcached.resume()  # the node still holds the old row
        await wait_until(lambda: cache.breaker.state == "closed", what="breaker closed")
        assert cache.pending_invalidations == 0
        assert (await app.client.get(url)).json()["name"] == "During the outage"


async def test_a_restarted_node_comes_back_empty_and_is_used_again(
    make_settings: SettingsFactory, memcached: MemcachedServer
) -> None:
    env = memcached_env(memcached, REDIS_TIMEOUT_SECONDS="0.1", REDIS_BREAKER_THRESHOLD="3")
    async with running_app(make_settings(**env)) as app:
        await app.client.get("/api/products/21")
        memcached.stop()
        for _ in range(8):
            assert (await app.client.get("/api/products/21")).status_code == 200
        memcached.start()
        await wait_until(lambda: app.resources.cache.breaker.state == "closed", timeout=15, what="breaker closed")
        await app.client.get("/api/products/21")
        async with app.expect_queries(0):
            await app.client.get("/api/products/21")
