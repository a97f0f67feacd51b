"""redis-py's connection pool, minus what it does per command that this service never uses.

Every command takes a connection from the pool and gives it back. In redis-py 8.1 each of those
steps takes the pool's `asyncio.Lock`, reports the connection-state change to redis-py's own
OpenTelemetry recorder (three awaits, a no-op without a collector), and a release dispatches an
`AfterConnectionReleasedEvent` (which only a `StreamingCredentialProvider` listens to, for its
re-AUTH). Measured with callgrind on the in-process hit path, that bookkeeping was 55k of the 69k
instructions a Redis hit cost above a bare ASGI app doing the same GET (issue 18; app/README.md,
"The hit path").

`LeanConnectionPool` keeps redis-py's pool (its lists, bound, `make_connection` and
`ensure_connection`, which re-dials a socket the server closed) and takes the uncontended path
without the bookkeeping: when nothing holds the pool's lock, a critical section with no `await` in
it runs exactly as it would under the lock, because nothing else runs on the event loop meanwhile.
When something does hold it (a pool-wide `disconnect`), or a connection must reconnect on release,
redis-py's own methods run, lock and all.

Not kept: redis-py's connection-count metrics (the service exports its own; it configures no
redis-py observability) and the release event, so a `StreamingCredentialProvider` is refused (the
service's renewing AUTH lives in its connection classes: `catalog.redis_auth`).
"""

from __future__ import annotations

from typing import Any

from redis.asyncio import ConnectionPool
from redis.asyncio.connection import AbstractConnection
from redis.credentials import StreamingCredentialProvider


class LeanConnectionPool(ConnectionPool):
    """A `ConnectionPool` whose uncontended get and release skip the lock, the recorder and the event."""

    def __init__(self, **kwargs: Any) -> None:
        if isinstance(kwargs.get("credential_provider"), StreamingCredentialProvider):
            raise ValueError(
                "LeanConnectionPool does not dispatch the release event a StreamingCredentialProvider re-AUTHs on"
            )
        super().__init__(**kwargs)

    async def get_connection(self, command_name: Any = None, *keys: Any, **options: Any) -> AbstractConnection:
        if self._lock.locked():
            # A pool-wide operation is under way: wait for it, as redis-py does.
            return await super().get_connection()  # type: ignore[no-untyped-call,no-any-return]  # untyped in redis-py
        connection: AbstractConnection = self.get_available_connection()  # type: ignore[no-untyped-call]
        try:
            await self.ensure_connection(connection)
        except BaseException:
            await self.release(connection)
            raise
        return connection

    async def release(self, connection: AbstractConnection) -> None:
        if self._lock.locked() or connection.should_reconnect():  # type: ignore[no-untyped-call]
            await super().release(connection)  # the disconnect awaits, so under the lock
            return
        self._in_use_connections.remove(connection)
        self._available_connections.append(connection)
