"""AUTH with secrets that change while the service runs: ElastiCache IAM tokens and a rotated AUTH token.

redis-py asks its credential provider on every new connection, which covers the first AUTH. Two
things it does not do, and the connection classes here add:
- a refused secret (WRONGPASS after a rotation) is fetched again and the handshake retried once on
  a new socket, so a rotation needs neither a restart nor a failed command;
- with IAM, a connection that stays open AUTHs again with the renewed token on its next command,
  because ElastiCache closes IAM-authenticated connections 12 hours after their last AUTH.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from redis.asyncio import RedisCluster
from redis.asyncio.connection import AbstractConnection, Connection, SSLConnection
from redis.credentials import CredentialProvider
from redis.exceptions import AuthenticationError, ConnectionError

from catalog.aws_auth import AwsAuthError, RenewingValue


class RenewingCredentialProvider(CredentialProvider):
    """(user, secret) for AUTH, the secret from a `RenewingValue` (an IAM token, or the rotated AUTH token).

    `reauthenticate`: open connections AUTH again once the secret was renewed (IAM: yes; a rotated
    AUTH token: no, an authenticated connection stays valid after a rotation).
    """

    def __init__(self, user: str | None, secret: RenewingValue, *, reauthenticate: bool) -> None:
        self.user = user
        self.secret = secret
        self.reauthenticate = reauthenticate

    def _pair(self, secret: str) -> tuple[str] | tuple[str, str]:
        return (self.user, secret) if self.user else (secret,)

    def get_credentials(self) -> tuple[str] | tuple[str, str]:
        try:
            return self._pair(self.secret.get_blocking())
        except AwsAuthError as exc:
            raise ConnectionError(str(exc)) from exc

    async def get_credentials_async(self) -> tuple[str] | tuple[str, str]:
        # No token or secret now is the cache being unavailable: a redis ConnectionError, which the
        # cache layer fails open on, instead of an error that would reach the request.
        try:
            return self._pair(await self.secret.get())
        except AwsAuthError as exc:
            raise ConnectionError(str(exc)) from exc

    async def rejected(self, generation: int) -> bool:
        """The secret of `generation` was refused: True when another one is now current (see RenewingValue)."""
        try:
            return await self.secret.rejected(generation)
        except AwsAuthError as exc:
            raise ConnectionError(str(exc)) from exc


class _RenewingAuth(AbstractConnection):
    """Mixed into redis-py's connection classes (before them): retry a refused AUTH, re-AUTH after renewal."""

    _auth_generation = 0

    def _renewing(self) -> RenewingCredentialProvider | None:
        provider = self.credential_provider
        return provider if isinstance(provider, RenewingCredentialProvider) else None

    async def on_connect_check_health(self, check_health: bool = True) -> None:
        provider = self._renewing()
        if provider is None:
            await super().on_connect_check_health(check_health)
            return
        # Renew first (if due), so the AUTH redis-py sends uses the value of this generation.
        await provider.get_credentials_async()
        self._auth_generation = provider.secret.generation
        try:
            await super().on_connect_check_health(check_health)
        except AuthenticationError:
            if not await provider.rejected(self._auth_generation):
                raise
            self._auth_generation = provider.secret.generation
            # A new socket: redis-py drops the connection on an error during the handshake, and
            # Redis may close it after a refused HELLO. The caller's retry budget stays untouched.
            await self.disconnect()
            try:
                await self._connect()  # type: ignore[no-untyped-call]  # redis-py leaves it untyped
            except (TimeoutError, OSError) as exc:
                raise ConnectionError(self._error_message(exc)) from exc
            await super().on_connect_check_health(check_health)

    def _reauth_due(self, provider: RenewingCredentialProvider) -> bool:
        return provider.reauthenticate and (
            provider.secret.due() or provider.secret.generation != self._auth_generation
        )

    async def send_packed_command(self, command: bytes | str | Iterable[bytes], check_health: bool = True) -> None:
        # Health-check PINGs and AUTH/HELLO pass check_health=False, and during the handshake the
        # connection already holds the current generation: only a caller's command re-authenticates.
        provider = self._renewing()
        if check_health and provider is not None and self.is_connected and self._reauth_due(provider):
            await self._reauthenticate(provider)
        await super().send_packed_command(command, check_health)

    async def _reauthenticate(self, provider: RenewingCredentialProvider) -> None:
        credentials = await provider.get_credentials_async()
        generation = provider.secret.generation
        try:
            await super().send_packed_command(self.pack_command("AUTH", *credentials), check_health=False)
            await self.read_response()
        except AuthenticationError:
            # The caller's retry reconnects, and a new connection fetches again if refused.
            await self.disconnect()
            raise
        self._auth_generation = generation


class RenewingAuthConnection(_RenewingAuth, Connection):
    """A TCP connection whose AUTH secret may change."""


class RenewingAuthSSLConnection(_RenewingAuth, SSLConnection):
    """A TLS connection whose AUTH secret may change (ElastiCache requires TLS for AUTH and IAM)."""


def connection_class(tls: bool) -> type[Connection]:
    """The connection class for a renewing provider."""
    return RenewingAuthSSLConnection if tls else RenewingAuthConnection


def use_connection_class(client: RedisCluster, cls: type[Connection]) -> None:
    """Make a cluster client open `cls` connections: RedisCluster takes no connection class (it picks
    Connection or SSLConnection), but reads it from the kwargs every node it discovers is built from."""
    kwargs: dict[str, Any] = client.connection_kwargs
    kwargs["connection_class"] = cls
    for node in client.startup_nodes:
        node.connection_class = cls
