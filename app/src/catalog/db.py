"""The asyncpg connection pool and the mapping of connection failures to `DatabaseUnavailableError`."""

from __future__ import annotations

import contextlib
import ssl
from collections.abc import Iterator
from typing import Literal

import asyncpg

from catalog.aws_auth import AwsAuthError
from catalog.credentials import Credentials, credentials_from_settings
from catalog.errors import DatabaseUnavailableError
from catalog.settings import Settings

# Failures that mean "the database cannot serve us now", as opposed to "this statement is wrong".
UNAVAILABLE_ERRORS: tuple[type[BaseException], ...] = (
    OSError,  # refused, reset, unreachable (ConnectionError is an OSError)
    TimeoutError,  # connect timeout, pool acquire timeout, command_timeout
    asyncpg.PostgresConnectionError,  # SQLSTATE class 08, incl. ConnectionDoesNotExistError
    asyncpg.InterfaceError,  # "connection is closed", pool closing
    asyncpg.CannotConnectNowError,  # 57P03: starting up or shutting down
    asyncpg.AdminShutdownError,  # 57P01: the server is stopping
    asyncpg.CrashShutdownError,  # 57P02
    asyncpg.TooManyConnectionsError,  # 53300
    asyncpg.QueryCanceledError,  # 57014: statement_timeout
    asyncpg.ReadOnlySQLTransactionError,  # 25006: RDS failover in progress, writer became a reader
    AwsAuthError,  # no IAM token now (the task role's credentials endpoint is unreachable)
)


@contextlib.contextmanager
def unavailable_as_503() -> Iterator[None]:
    """Turn connection-level failures into `DatabaseUnavailableError` (503); let statement errors through."""
    try:
        yield
    except UNAVAILABLE_ERRORS as exc:
        raise DatabaseUnavailableError(f"database unavailable: {type(exc).__name__}") from exc


def ssl_option(settings: Settings) -> ssl.SSLContext | Literal["require"] | None:
    """asyncpg's `ssl` argument: verify-full with a CA bundle, encryption only (require) without one."""
    if not settings.database_ssl:
        return None
    if settings.database_ssl_root_cert:
        return ssl.create_default_context(cafile=settings.database_ssl_root_cert)
    return "require"


def _server_settings(settings: Settings) -> dict[str, str]:
    return {
        "application_name": "catalog-service",
        "statement_timeout": str(int(settings.database_statement_timeout_seconds * 1000)),
    }


async def connect(settings: Settings, credentials: Credentials | None = None) -> asyncpg.Connection:
    """One connection as the schema owner, DATABASE_USER (migrations, seeding)."""
    login = (credentials or credentials_from_settings(settings)).migration_login()
    return await asyncpg.connect(
        host=settings.database_host,
        port=settings.database_port,
        user=login.user,
        password=login.password,
        database=settings.database_name,
        ssl=ssl_option(settings),
        timeout=settings.database_connect_timeout_seconds,
        server_settings=_server_settings(settings),
    )


async def create_pool(settings: Settings, credentials: Credentials | None = None) -> asyncpg.Pool:
    """A lazily connecting pool (min_size 0): the service starts, and reports not ready, while the DB is down.

    The pool logs in as `credentials.database_login()`: asyncpg asks its password for every new
    connection, so with IAM each connection opens with a current token (cached until shortly
    before its 15 minutes end) while open connections stay as they are.
    """
    login = (credentials or credentials_from_settings(settings)).database_login()
    return await asyncpg.create_pool(
        host=settings.database_host,
        port=settings.database_port,
        user=login.user,
        password=login.password,
        database=settings.database_name,
        ssl=ssl_option(settings),
        timeout=settings.database_connect_timeout_seconds,
        server_settings=_server_settings(settings),
        min_size=0,
        max_size=settings.database_pool_size,
        command_timeout=settings.database_statement_timeout_seconds + 1,
        max_inactive_connection_lifetime=300,
    )
