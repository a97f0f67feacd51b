"""What ElastiCache needs: AUTH, TLS with a verified certificate, and cluster mode, against real redis-servers."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.app.conftest import SettingsFactory
from tests.app.helpers import AppUnderTest, new_product, running_app
from tests.app.servers import RedisServer, make_tls_files

TOKEN = "an-elasticache-style-token-0123456789"


@pytest.fixture
def servers() -> Iterator[list[RedisServer]]:
    started: list[RedisServer] = []
    yield started
    for server in started:
        server.close()


async def exercise(app: AppUnderTest) -> None:
    """Miss, hit, write invalidation, lists, prefix invalidation and stats, all through this Redis."""
    cache = app.resources.cache
    product = await new_product(app.client, category_id=2)
    url = f"/api/products/{product['id']}"
    await app.client.get(url)
    queries = app.queries
    assert (await app.client.get(url)).json() == product
    assert app.queries == queries
    await app.client.get("/api/products", params={"category": 2, "limit": 5})
    await app.client.get("/api/categories/2/summary")
    assert (await app.client.patch(url, json={"name": "Changed"})).status_code == 200
    assert (await app.client.get(url)).json()["name"] == "Changed"
    deleted = (await app.client.post("/ops/cache/invalidate", json={"prefix": ""})).json()["deleted"]
    assert deleted >= 2
    responses = await asyncio.gather(*(app.client.get("/api/products/30") for _ in range(20)))
    assert {r.status_code for r in responses} == {200}
    stats = (await app.client.get("/ops/cache/stats")).json()
    assert stats["server"] is not None
    assert cache.counters["errors"] == 0
    assert cache.breaker.state == "closed"


async def test_auth_token(make_settings: SettingsFactory, servers: list[RedisServer]) -> None:
    server = RedisServer(password=TOKEN).start()
    servers.append(server)
    async with running_app(make_settings(REDIS_PORT=str(server.port), REDIS_AUTH_TOKEN=TOKEN)) as app:
        await exercise(app)


async def test_wrong_auth_token_fails_open(make_settings: SettingsFactory, servers: list[RedisServer]) -> None:
    server = RedisServer(password=TOKEN).start()
    servers.append(server)
    settings = make_settings(REDIS_PORT=str(server.port), REDIS_AUTH_TOKEN="not-the-token-0123456789")
    async with running_app(settings) as app:
        for _ in range(6):
            assert (await app.client.get("/api/products/31")).status_code == 200
        ready = (await app.client.get("/readyz")).json()
        assert ready["status"] == "degraded"
        assert ready["cache_breaker"] != "closed"


async def test_tls_with_verified_certificate_and_auth(
    make_settings: SettingsFactory, servers: list[RedisServer], tmp_path: Path
) -> None:
    cert, key, ca = make_tls_files(tmp_path)
    server = RedisServer(password=TOKEN, tls=(cert, key, ca)).start()
    servers.append(server)
    # Generous timeouts: 20 concurrent TLS handshakes on a busy 2-core machine can outlast 0.25 s, and
    # timeouts are not retried (a hung server would cost them twice).
    settings = make_settings(
        REDIS_PORT=str(server.port),
        REDIS_TLS="true",
        REDIS_TLS_CA_FILE=str(ca),
        REDIS_AUTH_TOKEN=TOKEN,
        REDIS_TIMEOUT_SECONDS="2",
        REDIS_CONNECT_TIMEOUT_SECONDS="2",
        REDIS_POOL_SIZE="4",  # 20 concurrent reads then share 4 handshakes instead of starting 20 at once
    )
    async with running_app(settings) as app:
        await exercise(app)


async def test_tls_refuses_a_server_it_cannot_verify(
    make_settings: SettingsFactory, servers: list[RedisServer], tmp_path: Path
) -> None:
    cert, key, ca = make_tls_files(tmp_path)
    server = RedisServer(tls=(cert, key, ca)).start()
    servers.append(server)
    async with running_app(make_settings(REDIS_PORT=str(server.port), REDIS_TLS="true")) as app:  # system CAs only
        assert (await app.client.get("/api/products/32")).status_code == 200  # fails open to the database
        assert app.resources.cache.counters["errors"] >= 1
        assert app.resources.cache.counters["hits"] == 0


async def test_cluster_mode(make_settings: SettingsFactory, servers: list[RedisServer]) -> None:
    server = RedisServer(cluster=True).start()
    servers.append(server)
    async with running_app(make_settings(REDIS_PORT=str(server.port), REDIS_CLUSTER_MODE="true")) as app:
        await exercise(app)
        stats = (await app.client.get("/ops/cache/stats")).json()
        assert f"127.0.0.1:{server.port}" in stats["server"]
