"""The cache layer the strategies use: single flight in front of the remote tier, fills under leases.

The seams: `remote` is the one remote tier today (Redis or Memcached); a near cache in this
process would sit between the strategies and it with the same read and invalidate calls.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

from catalog.cache import outcome
from catalog.cache.codec import Entry
from catalog.cache.flights import Flights, Loaded
from catalog.cache.keys import KeySpace
from catalog.cache.outbox import Outbox
from catalog.cache.remote import RemoteCache
from catalog.cache.resilience import CacheUnavailableError, CircuitBreaker
from catalog.metrics import Metrics

Loader = Callable[[], Awaitable[Entry]]
"""Reads one entry from the database (counted by the repository)."""


class CacheLayer:
    """Reads: one database load per key per process, stored under a lease; writes: invalidate or put."""

    def __init__(self, remote: RemoteCache) -> None:
        self.remote = remote
        self.flights = Flights()

    @property
    def keys(self) -> KeySpace:
        """The key space (the one home of key formats)."""
        return self.remote.keys

    @property
    def breaker(self) -> CircuitBreaker:
        """The remote cache's circuit breaker."""
        return self.remote.breaker

    @property
    def counters(self) -> Counter[str]:
        """Plain counts for /ops/cache/stats and tests (Prometheus has the same, labelled)."""
        return self.remote.counters

    @property
    def metrics(self) -> Metrics:
        """The app's metrics."""
        return self.remote.metrics

    @property
    def backend_name(self) -> str:
        """`redis` or `memcached`."""
        return self.remote.backend.name

    # ---------------------------------------------------------------- reads

    def lookup(self, key: str, entity: str) -> Awaitable[Entry | None]:
        """The entry at `key`, or None on a miss; raises `CacheUnavailableError` when the cache is unusable.

        The remote tier's own coroutine, not one wrapping it (the remote tier notes the hit as the
        request's outcome where it counts it; issue 18). The near layer overrides this.
        """
        return self.remote.lookup(key, entity)

    async def get_or_load(self, key: str, entity: str, load: Loader) -> Entry:
        """Read-through: the cached entry, else `load_on_miss`; `load_uncached` when the cache is unusable."""
        try:
            entry = await self.lookup(key, entity)
        except CacheUnavailableError:
            return await self.load_uncached(key, entity, load)
        if entry is not None:
            return entry
        return await self.load_on_miss(key, entity, load)

    async def load_on_miss(self, key: str, entity: str, load: Loader) -> Entry:
        """After a miss: one database read per key per process, stored under a lease."""
        outcome.record("miss")
        return await self._flight(key, entity, load, use_cache=True)

    async def load_uncached(self, key: str, entity: str, load: Loader) -> Entry:
        """The cache is unusable: read the database (still one read per key per process) and store nothing."""
        outcome.record("bypass")
        self.counters["bypassed"] += 1
        self.metrics.cache_bypassed.labels(entity).inc()
        return await self._flight(key, entity, load, use_cache=False)

    async def _flight(self, key: str, entity: str, load: Loader, *, use_cache: bool) -> Entry:
        arrived = self.flights.now()
        while True:
            flight = self.flights.join(key)
            if flight is None:
                self.counters["misses"] += 1
                self.metrics.cache_misses.labels(entity).inc()
                flight = self.flights.start(key, lambda: self._load_and_fill(key, load, use_cache=use_cache))
            else:
                self.counters["coalesced"] += 1
                self.metrics.cache_coalesced.labels(entity).inc()
            # shield: a caller that goes away must not cancel the read the others are waiting for.
            loaded = await asyncio.shield(flight.task)
            if loaded.answers(arrived):
                return loaded.entry
            # Unconfirmed, and its database read began before we arrived: it may predate a write
            # acknowledged since. It answers no later caller either, so it is forgotten (joining it
            # again would spin); a load started after our arrival always answers us, so this ends.
            self.flights.forget(key, flight)
            self.counters["rereads"] += 1

    async def _load_and_fill(self, key: str, load: Loader, *, use_cache: bool) -> Loaded:
        if not use_cache:
            # Nothing can confirm a load while the cache is unusable; writes in this process detach
            # it, and other processes' writes are the bounded-staleness case (README, "Failing open").
            return Loaded(await load(), confirmed=True)
        try:
            lease, cached = await self.remote.acquire_lease(key)
        except CacheUnavailableError:
            # The cache failed under us: as for a bypassed read, nothing can confirm this load.
            return Loaded(await load(), confirmed=True)
        if cached is not None:
            return Loaded(cached, confirmed=True)  # another task's fill, stored under its lease
        read_at = self.flights.now()
        try:
            entry = await load()
        except BaseException:
            if lease is not None:
                await self.remote.release(key, lease)
            raise
        if lease is None:
            return Loaded(entry, confirmed=False, read_at=read_at)  # the lease wait ran out: unleased read
        stored = await self.remote.fill(key, lease, entry)
        # Refused (False) is evidence of a write since our lease; an error (None) is only the cache
        # failing, treated like a bypassed read.
        return Loaded(entry, confirmed=stored is not False, read_at=read_at)

    async def generation(self, scope: str) -> str | None:
        """The current generation of a list scope, or None when the cache is unusable."""
        return await self.remote.generation(scope)

    # ---------------------------------------------------------------- writes

    def _detach(self, logical_keys: list[str]) -> None:
        scopes = [scope for scope in map(self.keys.scope_of, logical_keys) if scope is not None]
        self.flights.detach(
            [self.keys.entry(logical) for logical in logical_keys],
            [self.keys.list_scope_keys(scope) for scope in scopes],
        )

    async def invalidate(self, logical_keys: Iterable[str]) -> int | None:
        """Delete entries and their leases; detach loads in flight. None: queued (the cache is unusable)."""
        batch = list(dict.fromkeys(logical_keys))
        try:
            return await self.remote.invalidate(batch)
        finally:
            # After the delete: a load started before it lost its lease and will not be confirmed.
            self._detach(batch)

    async def put(self, logical: str, entry: Entry) -> bool | None:
        """Write-through: store `entry` unless the cache holds a newer one; detach loads. None: queued."""
        try:
            return await self.remote.put(logical, entry)
        finally:
            self._detach([logical])

    async def invalidate_prefix(self, logical_prefix: str) -> int:
        """Remove every key under a logical prefix; raises `CacheUnavailableError` (queued) without the cache."""
        return await self.remote.invalidate_prefix(logical_prefix)

    async def warm(self, logical_keys: Sequence[str], load: Callable[[list[str]], Awaitable[dict[str, Entry]]]) -> int:
        """Take leases on the keys, read them with one `load` call, store them; return how many were stored.

        Leases come first so a write that commits during the read cancels that key's fill, exactly
        as for a normal miss. Keys another task is filling right now are skipped.
        """
        remote = self.remote
        leases = {}
        for logical in dict.fromkeys(logical_keys):
            try:
                lease = await remote.acquire_lease_once(self.keys.entry(logical))
            except CacheUnavailableError:
                break
            if lease is not None:
                leases[logical] = lease
        if not leases:
            return 0
        try:
            entries = await load(list(leases))
        except BaseException:
            for logical, lease in leases.items():
                await remote.release(self.keys.entry(logical), lease)
            raise
        stored = 0
        for logical, lease in leases.items():
            entry = entries.get(logical)
            key = self.keys.entry(logical)
            if entry is None:
                await remote.release(key, lease)
            elif await remote.fill(key, lease, entry):
                stored += 1
        return stored

    @property
    def outbox(self) -> Outbox | None:
        """Where writes record the invalidations they owe, in their own transaction (None: nowhere)."""
        return self.remote.outbox

    def use_outbox(self, outbox: Outbox) -> None:
        """Drain `outbox` on recovery (before the breaker closes) and periodically (rows of dead writers)."""
        self.remote.use_outbox(outbox)

    # ---------------------------------------------------------------- ops

    async def ping(self) -> bool:
        """True when the cache answers now; False while the breaker is open."""
        return await self.remote.ping()

    @property
    def pending_invalidations(self) -> int:
        """Invalidations waiting for the cache."""
        return self.remote.pending_invalidations

    async def server_info(self) -> dict[str, Any] | None:
        """Server statistics, or None when the cache is unusable."""
        return await self.remote.server_info()

    async def close(self) -> None:
        """Stop background work, cancel loads in flight, close the connections."""
        self.flights.cancel_all()
        await self.remote.close()
