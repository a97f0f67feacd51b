"""The machine's shared PostgreSQL and Redis, used without disturbing others: a database and a key
prefix of our own, removed afterwards."""

from __future__ import annotations

import asyncio
import secrets
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

import asyncpg
import redis

POSTGRES_HOST: Final = "127.0.0.1"
POSTGRES_PORT: Final = 5432
POSTGRES_USER: Final = "postgres"
REDIS_HOST: Final = "127.0.0.1"
REDIS_PORT: Final = 6379


async def _admin(statement: str) -> None:
    conn = await asyncpg.connect(host=POSTGRES_HOST, port=POSTGRES_PORT, user=POSTGRES_USER, database="postgres")
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@contextmanager
def scratch_database(label: str) -> Iterator[str]:
    """A new database on the shared server, dropped (with its connections) afterwards."""
    name = f"catalog_{label}_{secrets.token_hex(4)}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield name
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def redis_client() -> redis.Redis:
    return redis.Redis(host=REDIS_HOST, port=REDIS_PORT, socket_timeout=5)


@contextmanager
def scratch_prefix(label: str) -> Iterator[str]:
    """A Redis key prefix no one else uses; its keys are deleted afterwards."""
    prefix = f"{label}:{secrets.token_hex(5)}:"
    try:
        yield prefix
    finally:
        client = redis_client()
        keys = list(client.scan_iter(match=f"{prefix}*", count=500))
        if keys:
            client.delete(*keys)
        client.close()


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """No server listens on ``port`` (connections of a server just stopped, in TIME_WAIT, do not
    count: servers bind with SO_REUSEADDR, and so does this probe)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port
