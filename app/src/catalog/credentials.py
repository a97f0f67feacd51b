"""Where the service's secrets come from: the one seam for another source (e.g. IAM auth tokens).

Today both secrets are static values from the environment (Secrets Manager injects them in ECS).
A provider that mints short-lived tokens implements the same two members and is passed to
`open_resources`; asyncpg calls `database_password` for every new connection, and redis-py asks
its credential provider on every (re)connect, so rotating tokens need no other change.
"""

from __future__ import annotations

from typing import Protocol

from redis.credentials import CredentialProvider, UsernamePasswordCredentialProvider

from catalog.settings import Settings


class Credentials(Protocol):
    """Secrets for PostgreSQL and Redis, asked for whenever a connection is opened."""

    async def database_password(self) -> str:
        """The password for the next PostgreSQL connection ("" when the server asks for none)."""
        ...

    def redis_credentials(self) -> CredentialProvider | None:
        """redis-py's provider of (username, password) for AUTH, or None when Redis has no AUTH."""
        ...


class SettingsCredentials:
    """The static secrets of the settings (`DATABASE_PASSWORD`, `REDIS_USERNAME`/`REDIS_AUTH_TOKEN`)."""

    def __init__(self, settings: Settings) -> None:
        self._database_password = settings.database_password.get_secret_value()
        token = settings.redis_auth_token.get_secret_value() if settings.redis_auth_token else None
        self._redis = (
            UsernamePasswordCredentialProvider(settings.redis_username, token)
            if token or settings.redis_username
            else None
        )

    async def database_password(self) -> str:
        return self._database_password

    def redis_credentials(self) -> CredentialProvider | None:
        return self._redis
