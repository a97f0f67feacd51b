"""The near cache: an in-process L1 in front of Redis/Valkey, kept coherent by server-assisted invalidation.

A hit here costs a dict lookup instead of a Redis round trip. Coherence comes from Redis client
tracking in broadcast mode (`CLIENT TRACKING on REDIRECT <id> BCAST PREFIX <cache prefix>`, Redis 6+,
Valkey, ElastiCache): every change to a key under the cache's prefix, by any task, expiry and
eviction included, is announced on `__redis__:invalidate` to one dedicated RESP2 connection per
process, which evicts the key here. redis-py's own client-side cache would do this too, but it
refuses servers below Redis 7.4 (ElastiCache offers 7.1).

What it guarantees, and how:
- The writing task never serves its own stale value after an acknowledged write: the cache layer
  evicts the written keys here after the Redis delete or put returns and before the write returns.
- A read that started before an invalidation never inserts what it read: every L1 fill holds a
  `FillTicket` taken before its Redis GET; an invalidation of that key (or a flush) voids the ticket,
  and a void ticket's value is not inserted. So the order in which the GET reply and the
  invalidation message arrive (two sockets) does not matter.
- A missed invalidation never leaves a stale entry: while the invalidation connection is down, not
  yet subscribed, or silent for longer than the heartbeat allows (a paused or partitioned server),
  the L1 is flushed and bypassed; when tracking is back it starts empty, and fills begun before
  that are void. Reads also bypass (and flush) it while the Redis circuit breaker is not closed.
  "Silent for longer than allowed" is checked by every read itself, on the clock: each reply on
  the invalidation connection trusts the L1 for twice the heartbeat, and a read after that instant
  flushes and bypasses it, however late the watchdog task gets to run (a busy loop, a paused
  server just after a reply: issue 18's staleness benchmark found stale reads up to 0.5 s past the limit when
  only the watchdog, which wakes once per heartbeat, decided).
- Entries expire no later than their Redis key: a fill reads the key's remaining TTL with the value.
Bounded by entries and by bytes, least recently used first out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from catalog.cache.codec import Entry
from catalog.cache.layer import CacheLayer
from catalog.cache.remote import RemoteCache
from catalog.cache.resilience import CacheUnavailableError

log = logging.getLogger(__name__)

INVALIDATE_CHANNEL = "__redis__:invalidate"
ENTRY_OVERHEAD_BYTES = 200
"""What an entry costs beyond its key and payload (tuple, dict slot, Entry object), counted against the byte bound."""


@dataclass(slots=True)
class FillTicket:
    """Taken before the Redis read that may fill `key`; voided by an invalidation of the key or a flush."""

    key: str
    valid: bool = True


class NearCache:
    """The L1 itself: LRU bounded by entries and bytes, usable only while tracking is live (`enabled`).

    Synchronous and single-threaded (the event loop's thread): every method runs to completion
    without awaiting, so no lock is needed.
    """

    def __init__(self, *, max_entries: int, max_bytes: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._clock = clock
        # key -> (entry, expires_at, cost)
        self._entries: OrderedDict[str, tuple[Entry, float, int]] = OrderedDict()
        self._fills: dict[str, list[FillTicket]] = {}
        self.bytes = 0
        self.enabled = False
        # Until when the invalidation connection's last reply vouches for the L1 (clock time).
        self._trusted_until = -math.inf
        self._lapsed = False
        self.stats: dict[str, int] = {
            "hits": 0,
            "misses": 0,
            "inserts": 0,
            "void_fills": 0,
            "evicted_lru": 0,
            "invalidated": 0,
            "flushes": 0,
            "expired": 0,
            "lapses": 0,
        }

    def __len__(self) -> int:
        return len(self._entries)

    # ---------------------------------------------------------------- reads

    def get(self, key: str) -> Entry | None:
        """The live entry at `key`, or None (absent, expired, tracking down or silent too long)."""
        if not self.enabled or not self._trusted():
            return None
        found = self._entries.get(key)
        if found is None:
            self.stats["misses"] += 1
            return None
        entry, expires_at, _ = found
        if expires_at <= self._clock():
            self._drop(key)
            self.stats["expired"] += 1
            self.stats["misses"] += 1
            return None
        self._entries.move_to_end(key)
        self.stats["hits"] += 1
        return entry

    def ticket(self, key: str) -> FillTicket:
        """Take before reading `key` from Redis; pass to `insert`, and always to `release`."""
        ticket = FillTicket(key, valid=self.enabled and self._trusted())
        self._fills.setdefault(key, []).append(ticket)
        return ticket

    def insert(self, ticket: FillTicket, entry: Entry, ttl_ms: int) -> bool:
        """Store what the ticket's read found, unless an invalidation or flush came since (then False)."""
        if not (ticket.valid and self.enabled and self._trusted()) or ttl_ms <= 0:
            self.stats["void_fills"] += 1
            return False
        key = ticket.key
        cost = len(key) + len(entry.payload or b"") + ENTRY_OVERHEAD_BYTES
        if cost > self.max_bytes:
            return False
        self._drop(key)
        self._entries[key] = (entry, self._clock() + ttl_ms / 1000, cost)
        self.bytes += cost
        self.stats["inserts"] += 1
        while len(self._entries) > self.max_entries or self.bytes > self.max_bytes:
            oldest = next(iter(self._entries))
            self._drop(oldest)
            self.stats["evicted_lru"] += 1
        return True

    def release(self, ticket: FillTicket) -> None:
        """The fill is over (inserted or not)."""
        tickets = self._fills.get(ticket.key)
        if tickets is None:
            return
        with contextlib.suppress(ValueError):
            tickets.remove(ticket)
        if not tickets:
            del self._fills[ticket.key]

    # ---------------------------------------------------------------- coherence

    def invalidate(self, keys: Iterable[str]) -> None:
        """These keys changed (a write here, or the server said so): evict them and void their fills."""
        for key in keys:
            if self._drop(key):
                self.stats["invalidated"] += 1
            for ticket in self._fills.get(key, ()):
                ticket.valid = False

    def flush(self) -> None:
        """Forget everything and void every fill in progress."""
        self._entries.clear()
        self.bytes = 0
        for tickets in self._fills.values():
            for ticket in tickets:
                ticket.valid = False
        self.stats["flushes"] += 1

    def enable(self, trusted_for: float = math.inf) -> None:
        """Tracking is live from now on: start empty (anything read before may have missed an invalidation).

        `trusted_for`: seconds the L1 may be used without a further `heard` (the listener passes twice
        its heartbeat; the default, forever, is for callers that manage tracking themselves).
        """
        self.flush()
        self.enabled = True
        self.heard(trusted_for)

    def heard(self, trusted_for: float) -> None:
        """The invalidation connection just delivered something: the L1 is vouched for `trusted_for` more seconds.

        A reply arrives after every invalidation sent before it (one ordered connection), so nothing
        was missed; after a lapse the L1 is already empty and fills again from here.
        """
        self._trusted_until = self._clock() + trusted_for
        self._lapsed = False

    def _trusted(self) -> bool:
        if self._clock() <= self._trusted_until:
            return True
        if not self._lapsed:
            # Silent too long: whatever the L1 holds may have missed an invalidation.
            self._lapsed = True
            self.flush()
            self.stats["lapses"] += 1
        return False

    def disable(self) -> None:
        """Tracking is down: flush and bypass until `enable`."""
        self.enabled = False
        self.flush()

    def _drop(self, key: str) -> bool:
        found = self._entries.pop(key, None)
        if found is None:
            return False
        self.bytes -= found[2]
        return True


class InvalidationListener:
    """One dedicated RESP2 connection: tracking in broadcast mode on our prefixes, redirected to itself.

    Enables the near cache once subscribed; disables (flushes) it the moment the connection fails,
    or when no reply to its heartbeat PING came within twice `heartbeat_seconds`, then reconnects with
    backoff. Keeping the subscription and the tracking on one connection means one cannot outlive
    the other unnoticed.
    """

    def __init__(
        self,
        near: NearCache,
        client: Redis,
        prefixes: list[str],
        *,
        heartbeat_seconds: float,
        on_state: Callable[[bool], None] | None = None,
    ) -> None:
        self.near = near
        self.prefixes = prefixes
        self.heartbeat_seconds = heartbeat_seconds
        pool = client.connection_pool
        kwargs = dict(pool.connection_kwargs)
        # Its own protocol and timeouts: RESP2 so invalidations arrive as pub/sub messages, no read
        # timeout (an idle subscription is normal; the heartbeat detects a dead one), no health
        # check PING interleaved by redis-py.
        kwargs.update(protocol=2, socket_timeout=None, health_check_interval=0, client_name="catalog-near-cache")
        # redis-py's maintenance notifications need RESP3; this connection has nothing to gain from them.
        for key in ("maint_notifications_config", "maint_notifications_pool_handler"):
            kwargs.pop(key, None)
        self._make_connection: Callable[[], Any] = lambda: pool.connection_class(**kwargs)
        self._on_state = on_state
        self._task: asyncio.Task[None] | None = None
        self._connection: Any = None
        self.connected = asyncio.Event()
        self.reconnects = 0
        self.messages = 0
        """Invalidation messages handled (tests wait on it)."""

    def start(self) -> None:
        """Run in the background until `close`."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="near-cache-invalidations")

    async def close(self) -> None:
        """Stop listening; the near cache stays disabled."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self.near.disable()

    def drop_connection(self) -> None:
        """Close the socket under the listener (tests: what a network failure does)."""
        if self._connection is not None and self._connection._writer is not None:
            self._connection._writer.transport.abort()

    async def _run(self) -> None:
        backoff = 0.05
        while True:
            try:
                await self._session()
            except (RedisError, OSError, TimeoutError, ConnectionError) as exc:
                log.warning("near cache: invalidation connection lost, L1 bypassed", extra={"error": repr(exc)})
            finally:
                self._set_state(False)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 1.0)
            self.reconnects += 1

    def _set_state(self, live: bool) -> None:
        if live:
            self.near.enable(trusted_for=2 * self.heartbeat_seconds)
            self.connected.set()
        else:
            self.near.disable()
            self.connected.clear()
        if self._on_state is not None:
            self._on_state(live)

    async def _session(self) -> None:
        conn = self._make_connection()
        self._connection = conn
        try:
            await conn.connect()
            await conn.send_command("CLIENT", "ID")
            client_id = int(await conn.read_response())
            prefix_args: list[str] = []
            for prefix in self.prefixes:
                prefix_args += ["PREFIX", prefix]
            await conn.send_command("CLIENT", "TRACKING", "on", "REDIRECT", client_id, "BCAST", *prefix_args)
            reply = await conn.read_response()
            if reply not in (b"OK", "OK"):
                raise RedisError(f"CLIENT TRACKING answered {reply!r}")
            await conn.send_command("SUBSCRIBE", INVALIDATE_CHANNEL)
            reply = await conn.read_response()
            if not (isinstance(reply, list) and reply[0] in (b"subscribe", "subscribe")):
                raise RedisError(f"SUBSCRIBE answered {reply!r}")
            # From here every change under our prefixes reaches this socket: the L1 may be used.
            self._set_state(True)
            await self._pump(conn)
        finally:
            self._connection = None
            with contextlib.suppress(Exception):
                await conn.disconnect()

    async def _pump(self, conn: Any) -> None:
        loop = asyncio.get_running_loop()
        last_seen = loop.time()

        async def heartbeat() -> None:
            while True:
                await asyncio.sleep(self.heartbeat_seconds)
                if loop.time() - last_seen > 2 * self.heartbeat_seconds:
                    raise TimeoutError(f"no reply from Redis for {2 * self.heartbeat_seconds:.1f} s")
                # check_health=False: no re-AUTH here (IAM renewal would send AUTH, which a RESP2
                # subscriber may not, and read its reply under the reader). An IAM-authenticated
                # connection stays valid until ElastiCache drops it (12 h); then it reconnects.
                await conn.send_packed_command(conn.pack_command("PING"), check_health=False)

        beat = loop.create_task(heartbeat())
        read: asyncio.Task[Any] | None = None
        try:
            while True:
                read = loop.create_task(conn.read_response())
                done, _ = await asyncio.wait({read, beat}, return_when=asyncio.FIRST_COMPLETED)
                if read not in done:
                    beat.result()  # raises why it stopped
                message = read.result()
                read = None
                last_seen = loop.time()
                self.near.heard(2 * self.heartbeat_seconds)
                self._handle(message)
        finally:
            for task in (beat, read):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(BaseException):
                        await task

    def _handle(self, message: Any) -> None:
        if not isinstance(message, list) or len(message) < 3 or message[0] not in (b"message", "message"):
            return  # pong
        self.messages += 1
        keys = message[2]
        if keys is None:
            self.near.flush()  # FLUSHALL/FLUSHDB, or the server's tracking table overflowed
            return
        self.near.invalidate(k.decode() if isinstance(k, bytes) else str(k) for k in keys)


class NearCacheLayer(CacheLayer):
    """The cache layer with the near cache in front of `lookup`, evicting locally on every write."""

    def __init__(self, remote: RemoteCache, near: NearCache, listener: InvalidationListener) -> None:
        super().__init__(remote)
        self.near = near
        self.listener = listener

    async def lookup(self, key: str, entity: str) -> Entry | None:
        near = self.near
        if not near.enabled or not self.remote.breaker.allow():
            if len(near):
                near.flush()
            return await super().lookup(key, entity)
        entry = near.get(key)
        if entry is not None:
            self.remote.count_hit(entry, entity)
            self.counters["near_hits"] += 1
            return entry
        ticket = near.ticket(key)
        try:
            try:
                found = await self.remote.lookup_with_ttl(key, entity)
            except CacheUnavailableError:
                near.flush()
                raise
            if found is None:
                return None
            entry, ttl_ms = found
            near.insert(ticket, entry, ttl_ms)
        finally:
            near.release(ticket)
        return entry

    def _evict(self, logical_keys: Iterable[str]) -> None:
        self.near.invalidate([self.keys.entry(logical) for logical in logical_keys])

    async def invalidate(self, logical_keys: Iterable[str]) -> int | None:
        batch = list(dict.fromkeys(logical_keys))
        try:
            return await super().invalidate(batch)
        finally:
            # After the delete returned: a read that raced it holds a ticket this voids.
            self._evict(batch)

    async def put(self, logical: str, entry: Entry) -> bool | None:
        try:
            return await super().put(logical, entry)
        finally:
            self._evict([logical])

    async def invalidate_prefix(self, logical_prefix: str) -> int:
        try:
            return await super().invalidate_prefix(logical_prefix)
        finally:
            self.near.flush()

    async def close(self) -> None:
        await self.listener.close()
        await super().close()
