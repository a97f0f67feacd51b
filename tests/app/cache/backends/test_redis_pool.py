"""The lean connection pool against a real redis-server: redis-py's pool semantics, minus its bookkeeping."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest
from catalog.cache.backends.redis_client import build_redis_client
from catalog.cache.backends.redis_pool import LeanConnectionPool
from catalog.settings import Settings, load_settings
from redis.asyncio import Redis
from redis.credentials import StreamingCredentialProvider
from redis.exceptions import MaxConnectionsError

from tests.app.servers import RedisServer


@pytest.fixture(scope="module")
def server() -> Iterator[RedisServer]:
    started = RedisServer().start()
    yield started
    started.close()


@pytest.fixture
async def pool(server: RedisServer) -> AsyncIterator[LeanConnectionPool]:
    made = LeanConnectionPool(host="127.0.0.1", port=server.port, max_connections=4, socket_timeout=2)
    yield made
    await made.aclose()


def counts(pool: LeanConnectionPool) -> tuple[int, int]:
    """(idle, in use)"""
    return len(pool._available_connections), len(pool._in_use_connections)


def settings_for(server: RedisServer) -> Settings:
    return load_settings({"APP_ENV": "dev", "REDIS_HOST": "127.0.0.1", "REDIS_PORT": str(server.port)})


def test_the_service_builds_its_standalone_client_on_the_lean_pool(server: RedisServer) -> None:
    settings = settings_for(server)
    client = build_redis_client(settings)
    assert isinstance(client, Redis)
    assert type(client.connection_pool) is LeanConnectionPool
    assert client.connection_pool.max_connections == settings.redis_pool_size + 4


async def test_commands_reuse_one_connection_and_return_it(pool: LeanConnectionPool) -> None:
    client = Redis.from_pool(pool)
    await client.set("lean:key", b"value")
    for _ in range(50):
        assert await client.get("lean:key") == b"value"
    assert counts(pool) == (1, 0)


async def test_concurrent_commands_stay_within_the_bound_and_all_come_back(pool: LeanConnectionPool) -> None:
    client = Redis.from_pool(pool)
    await client.set("lean:key", b"value")
    # Four at a time (the bound), forty in all: redis-py's pool would raise past the bound too.
    for _ in range(10):
        assert await asyncio.gather(*(client.get("lean:key") for _ in range(4))) == [b"value"] * 4
    idle, in_use = counts(pool)
    assert in_use == 0
    assert 1 <= idle <= 4


async def test_past_the_bound_it_raises_as_redis_py_does(pool: LeanConnectionPool) -> None:
    held = [await pool.get_connection() for _ in range(4)]
    with pytest.raises(MaxConnectionsError):
        await pool.get_connection()
    for connection in held:
        await pool.release(connection)
    assert counts(pool) == (4, 0)


async def test_a_connection_the_server_closed_is_redialled(server: RedisServer) -> None:
    # The service's client: its one retry on a connection error re-dials the dead pooled socket.
    client = build_redis_client(settings_for(server))
    assert isinstance(client, Redis)
    pool = client.connection_pool
    assert isinstance(pool, LeanConnectionPool)
    await client.set("lean:key", b"value")
    admin = Redis(host="127.0.0.1", port=server.port)
    try:
        # Every normal client but the admin's own: the pooled socket is now dead.
        await admin.execute_command("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes")  # type: ignore[no-untyped-call]
    finally:
        await admin.aclose()
    await asyncio.sleep(0.05)
    try:
        assert await client.get("lean:key") == b"value"
        assert counts(pool) == (1, 0)
    finally:
        await client.aclose()


async def test_a_pool_wide_operation_holding_the_lock_is_waited_for(pool: LeanConnectionPool) -> None:
    await pool.release(await pool.get_connection())
    async with pool._lock:
        taker = asyncio.create_task(pool.get_connection())
        await asyncio.sleep(0.01)
        assert not taker.done()  # the uncontended path is taken only when nothing holds the lock
    connection = await taker
    assert counts(pool) == (0, 1)
    await pool.release(connection)
    assert counts(pool) == (1, 0)


async def test_a_connection_marked_to_reconnect_is_disconnected_on_release(pool: LeanConnectionPool) -> None:
    connection = await pool.get_connection()
    assert connection.is_connected
    connection.mark_for_reconnect()  # what a maintenance notification does
    await pool.release(connection)
    assert not connection.is_connected
    assert counts(pool) == (1, 0)


def test_a_streaming_credential_provider_is_refused() -> None:
    class Streaming(StreamingCredentialProvider):
        def get_credentials(self) -> tuple[str]:
            return ("secret",)

        async def get_credentials_async(self) -> tuple[str]:
            return ("secret",)

        def on_next(self, callback: object) -> None:
            pass

        def on_error(self, callback: object) -> None:
            pass

        def is_streaming(self) -> bool:
            return True

    with pytest.raises(ValueError, match="StreamingCredentialProvider"):
        LeanConnectionPool(host="127.0.0.1", port=1, credential_provider=Streaming())
