"""Where the service's secrets come from: static settings, IAM tokens or a rotated secret, behind one seam.

asyncpg calls a login's `password` for every new connection, and redis-py asks its credential
provider on every (re)connect, so short-lived tokens only have to be cached and renewed here:
- PostgreSQL, DATABASE_AUTH=password: DATABASE_USER with DATABASE_PASSWORD (local, and the fallback);
  DATABASE_AUTH=iam: the app logs in as DATABASE_APP_USER with RDS IAM tokens, and only the
  migrations log in as DATABASE_USER with its password.
- Redis, REDIS_AUTH=none | password (static REDIS_AUTH_TOKEN) | token (the rotated AUTH token from
  Secrets Manager, read again when refused) | iam (ElastiCache IAM tokens, renewed before expiry).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from redis.credentials import CredentialProvider, UsernamePasswordCredentialProvider

from catalog.aws_auth import (
    IAM_TOKEN_LIFETIME_SECONDS,
    IAM_TOKEN_RENEW_BEFORE_SECONDS,
    AwsAuth,
    Clock,
    RenewingValue,
)
from catalog.redis_auth import RenewingCredentialProvider
from catalog.settings import Settings

SECRET_REREAD_SECONDS = 300.0
"""The rotated AUTH token is read again this often (and at once when the server refuses it)."""

PasswordSource = Callable[[], Awaitable[str]]


@dataclass(frozen=True)
class DatabaseLogin:
    """A PostgreSQL role and where its password comes from (asked for every new connection)."""

    user: str
    password: PasswordSource


class Credentials(Protocol):
    """Logins for PostgreSQL and Redis, asked for whenever a connection is opened."""

    def database_login(self) -> DatabaseLogin:
        """The login of the app's pool."""
        ...

    def migration_login(self) -> DatabaseLogin:
        """The schema owner's login (migrations, seeding): DATABASE_USER."""
        ...

    def redis_credentials(self) -> CredentialProvider | None:
        """redis-py's provider of (username, password) for AUTH, or None when Redis has no AUTH."""
        ...


def _static(value: str) -> PasswordSource:
    async def password() -> str:
        return value

    return password


def _renewing(value: RenewingValue) -> PasswordSource:
    async def password() -> str:
        return await value.get()

    return password


@dataclass(frozen=True)
class StoreCredentials:
    """The `Credentials` the settings describe (built by `credentials_from_settings`)."""

    database: DatabaseLogin
    migrations: DatabaseLogin
    redis: CredentialProvider | None
    database_token: RenewingValue | None = None
    """The RDS IAM token cache with DATABASE_AUTH=iam (tests look at its generation)."""

    def database_login(self) -> DatabaseLogin:
        return self.database

    def migration_login(self) -> DatabaseLogin:
        return self.migrations

    def redis_credentials(self) -> CredentialProvider | None:
        return self.redis


def iam_token(fetch: Callable[[], str], clock: Clock) -> RenewingValue:
    """An IAM token cache: reused for new connections until shortly before its 15 minutes are up."""
    return RenewingValue(
        fetch, lifetime=IAM_TOKEN_LIFETIME_SECONDS, renew_before=IAM_TOKEN_RENEW_BEFORE_SECONDS, clock=clock
    )


def _redis_provider(settings: Settings, aws: Callable[[], AwsAuth], clock: Clock) -> CredentialProvider | None:
    mode = settings.redis_auth_mode
    if mode == "none":
        return None
    if mode == "password":
        assert settings.redis_auth_token is not None
        return UsernamePasswordCredentialProvider(settings.redis_user, settings.redis_auth_token.get_secret_value())
    if mode == "token":
        arn = settings.redis_auth_secret_arn
        assert arn is not None
        auth = aws()
        secret = RenewingValue(lambda: auth.secret_string(arn), lifetime=SECRET_REREAD_SECONDS, clock=clock)
        return RenewingCredentialProvider(settings.redis_user, secret, reauthenticate=False)
    user, cache_name = settings.redis_user, settings.redis_cache_name
    assert user is not None
    assert cache_name is not None
    auth = aws()
    token = iam_token(lambda: auth.elasticache_token(cache_name, user), clock)
    return RenewingCredentialProvider(user, token, reauthenticate=True)


def credentials_from_settings(
    settings: Settings, *, aws: AwsAuth | None = None, clock: Clock | None = None
) -> StoreCredentials:
    """The logins of DATABASE_AUTH and REDIS_AUTH; `aws` and `clock` are seams (default: AWS_REGION's session)."""
    now = clock or time.monotonic
    built: list[AwsAuth] = [aws] if aws is not None else []

    def session() -> AwsAuth:
        if not built:
            assert settings.aws_region is not None  # the validator requires it for every IAM or secret mode
            built.append(AwsAuth(settings.aws_region))
        return built[0]

    owner = DatabaseLogin(settings.database_user, _static(settings.database_password.get_secret_value()))
    database, token = owner, None
    if settings.database_auth == "iam":
        user = settings.database_login_user
        auth = session()
        token = iam_token(lambda: auth.rds_token(settings.database_host, settings.database_port, user), now)
        database = DatabaseLogin(user, _renewing(token))
    redis = None if settings.cache_backend == "memcached" else _redis_provider(settings, session, now)
    return StoreCredentials(database=database, migrations=owner, redis=redis, database_token=token)
