"""The remote tier: entries in Redis or Memcached, every command guarded, every failure a miss.

Race fix (the classic cache-aside race, where a slow reader puts an old value back after a writer
invalidated it): a reader that misses takes a *lease* on the key before it reads the database, and
may store its result only while its lease still holds. Every writer deletes the lease together
with the entry after its commit, so a read that began before the write can no longer be stored.
Leases also bound stampedes across tasks: one task holds the lease, the others wait for its fill.
Write-through puts carry the row version and only replace an older version, so two writers
finishing out of order cannot leave the older row. How a backend implements leases is its own
business (`backends/`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import secrets
from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from catalog.cache import outcome
from catalog.cache.backends.base import CacheBackend, Lease, LeaseStatus
from catalog.cache.codec import CorruptEntryError, Entry, decode
from catalog.cache.keys import KeySpace
from catalog.cache.resilience import (
    CacheUnavailableError,
    CircuitBreaker,
    DeferredInvalidations,
    GuardedCall,
    Recovery,
)
from catalog.errors import DatabaseUnavailableError
from catalog.metrics import Metrics

if TYPE_CHECKING:
    from catalog.cache.outbox import Outbox

log = logging.getLogger(__name__)

GENERATION_TTL_MS = 24 * 3600 * 1000


class RemoteCache:
    """Entries under one key space in one backend, with the guarantees described in this module's docstring.

    Every public method fails open: with the cache slow or down it answers "miss" (reads) or queues
    the work (invalidations) instead of raising, and the circuit breaker stops calling it at all
    after `breaker.threshold` consecutive failures until the background recovery probe succeeds.
    """

    def __init__(
        self,
        backend: CacheBackend,
        *,
        keys: KeySpace,
        metrics: Metrics,
        counters: Counter[str],
        ttl_seconds: float,
        ttl_jitter: float,
        negative_ttl_seconds: float,
        lease_ttl_seconds: float,
        lease_wait_seconds: float,
        breaker: CircuitBreaker,
        breaker_reset_seconds: float,
        probe_timeout_seconds: float = 1.0,
        max_in_flight: int | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.backend = backend
        self.keys = keys
        self.metrics = metrics
        self.counters = counters
        self.breaker = breaker
        self.ttl_seconds = ttl_seconds
        self.ttl_jitter = ttl_jitter
        self.negative_ttl_seconds = negative_ttl_seconds
        self._lease_ms = max(1, int(lease_ttl_seconds * 1000))
        self._lease_wait = lease_wait_seconds
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not security
        self.deferred = DeferredInvalidations()
        self.outbox: Outbox | None = None
        """The durable copy of owed invalidations (`use_outbox`); without it they live only in `deferred`."""
        self.recovery = Recovery(
            breaker,
            probe=backend.ping,
            replay=self._replay_deferred,
            owed=lambda: len(self.deferred) > 0,
            down_errors=backend.down_errors,
            reset_seconds=breaker_reset_seconds,
            probe_timeout_seconds=probe_timeout_seconds,
            metrics=metrics,
        )
        self.call = GuardedCall(
            breaker,
            metrics=metrics,
            counters=counters,
            down_errors=backend.down_errors,
            on_open=self.recovery.start,
            max_in_flight=max_in_flight,
        )

    # ---------------------------------------------------------------- reads

    def ttl_ms(self, entry: Entry) -> int:
        """The TTL of a new entry, jittered."""
        base = self.ttl_seconds if entry.found else self.negative_ttl_seconds
        jitter = self._rng.uniform(-self.ttl_jitter, self.ttl_jitter) if self.ttl_jitter else 0.0
        return max(1, int(base * (1.0 + jitter) * 1000))

    async def lookup(self, key: str, entity: str) -> Entry | None:
        """The entry at `key`, or None on a miss; raises `CacheUnavailableError` when the cache is unusable."""
        raw = await self.call("get", self.backend.get, key)
        return self._decoded(raw, key, entity)

    async def lookup_with_ttl(self, key: str, entity: str) -> tuple[Entry, int] | None:
        """As `lookup`, with the entry's remaining TTL in ms (one round trip; the near cache's fill)."""
        raw, ttl_ms = await self.call("get", self.backend.get_with_ttl, key)
        entry = self._decoded(raw, key, entity)
        return None if entry is None else (entry, ttl_ms)

    def _decoded(self, raw: bytes | None, key: str, entity: str) -> Entry | None:
        if raw is None:
            return None
        try:
            entry = decode(raw)
        except CorruptEntryError:
            log.warning("ignoring a malformed cache entry", extra={"key": key})
            return None
        self.count_hit(entry, entity)
        return entry

    def count_hit(self, entry: Entry, entity: str) -> None:
        """Count a read the cache answered (positive or negative entry), and note it as the request's outcome."""
        outcome.record("hit")
        if entry.payload is None:
            self.counters["negative_hits"] += 1
            self.metrics.negative_hit[entity].inc()
        else:
            self.counters["hits"] += 1
            self.metrics.hit[entity].inc()

    async def raw(self, logical: str) -> bytes | None:
        """Exactly one cache read of a logical key's entry, bytes as stored (the benchmark baseline)."""
        return await self.backend.get(self.keys.entry(logical))

    async def acquire_lease(self, key: str) -> tuple[Lease | None, Entry | None]:
        """(our lease, None), or (None, the entry another task stored), or (None, None) on timeout."""
        token = secrets.token_hex(8)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._lease_wait
        delay = 0.002
        waited = False
        while True:
            reply = await self.call("lease", self.backend.get_or_lease, key, token, self._lease_ms)
            if reply.status is LeaseStatus.HIT:
                if waited:
                    self.counters["lease_wait_hits"] += 1
                assert reply.value is not None
                try:
                    return None, decode(reply.value)
                except CorruptEntryError:
                    return None, None
            if reply.status is LeaseStatus.GRANTED:
                return reply.lease, None
            if not waited:
                waited = True
                self.counters["lease_waits"] += 1
                self.metrics.cache_lease_waits.inc()
            remaining = deadline - loop.time()
            if remaining <= 0:
                self.counters["lease_timeouts"] += 1
                return None, None
            await asyncio.sleep(min(delay, remaining))
            delay = min(delay * 2, 0.05)

    async def acquire_lease_once(self, key: str) -> Lease | None:
        """A lease on `key` if nobody holds one and the entry is absent; never waits."""
        token = secrets.token_hex(8)
        reply = await self.call("lease", self.backend.get_or_lease, key, token, self._lease_ms)
        return reply.lease if reply.status is LeaseStatus.GRANTED else None

    async def fill(self, key: str, lease: Lease, entry: Entry) -> bool | None:
        """Store a database read under our lease: True; False when a write took the lease away; None on error."""
        ttl_ms = self.ttl_ms(entry)
        try:
            stored = await self.call("fill", self.backend.fill, key, lease, entry.encode(), ttl_ms)
        except CacheUnavailableError:
            self.metrics.cache_fills.labels("error").inc()
            return None
        result = "stored" if stored else "rejected"
        self.counters[f"fills_{result}"] += 1
        self.metrics.cache_fills.labels(result).inc()
        return stored

    async def release(self, key: str, lease: Lease) -> None:
        """Give a lease back after a failed database read (else it expires by itself)."""
        with contextlib.suppress(CacheUnavailableError):
            await self.call("release", self.backend.release, key, lease)

    async def generation(self, scope: str) -> str | None:
        """The current generation of a list scope, or None when the cache is unusable (then skip it)."""
        fresh = secrets.token_hex(6)
        key = self.keys.generation(scope)
        try:
            return await self.call("generation", self.backend.generation, key, fresh, GENERATION_TTL_MS)
        except CacheUnavailableError:
            return None

    # ---------------------------------------------------------------- writes

    async def invalidate(self, logical_keys: Iterable[str]) -> int | None:
        """Delete entries and their leases (list keys: renew the generation); queue them without the cache.

        Returns the number of cache keys removed, or None when the invalidation was queued instead.
        """
        batch = list(dict.fromkeys(logical_keys))
        if not batch:
            return 0
        try:
            deleted = await self.call("invalidate", self._delete_logical, batch)
        except CacheUnavailableError:
            self._defer(batch)
            return None
        self.metrics.cache_invalidations.labels("delivered").inc(len(batch))
        return deleted

    async def _delete_logical(self, logical_keys: list[str]) -> int:
        renewals: dict[str, str] = {}
        entries: list[str] = []
        for logical in logical_keys:
            scope = self.keys.scope_of(logical)
            if scope is not None:
                renewals[self.keys.generation(scope)] = secrets.token_hex(6)
            entries.append(self.keys.entry(logical))
        return await self.backend.delete(entries, renewals, GENERATION_TTL_MS)

    def _defer(self, logical_keys: Iterable[str]) -> None:
        self.deferred.add_keys(logical_keys)
        self.metrics.cache_invalidations.labels("deferred").inc()
        # An undelivered invalidation means the cache may hold stale rows: stop reading it until delivered.
        self.breaker.trip()
        self.recovery.start()

    async def put(self, logical: str, entry: Entry) -> bool | None:
        """Write-through: store `entry` unless the cache holds a newer version; cancels in-flight fills.

        True when stored, False when the cache held a newer version, None when queued as an invalidation.
        """
        key = self.keys.entry(logical)
        ttl_ms = self.ttl_ms(entry)
        try:
            stored = await self.call("put", self.backend.put_versioned, key, entry.version, entry.encode(), ttl_ms)
        except CacheUnavailableError:
            self._defer([logical])
            return None
        result = "stored" if stored else "older"
        self.counters[f"puts_{result}"] += 1
        return stored

    def supports_prefix(self, logical_prefix: str) -> bool:
        """Whether the backend can drop every key under this prefix."""
        return self.backend.supports_prefix(logical_prefix)

    async def invalidate_prefix(self, logical_prefix: str) -> int:
        """Remove every key whose logical key starts with `logical_prefix`; raise if the cache is unusable."""
        try:
            return await self.call(
                "invalidate_prefix", self.backend.delete_matching, self.keys.match(logical_prefix), logical_prefix
            )
        except CacheUnavailableError:
            self.deferred.add_prefix(logical_prefix)
            self.breaker.trip()
            self.recovery.start()
            raise

    def use_outbox(self, outbox: Outbox) -> None:
        """Deliver `outbox` before the breaker closes, and every `outbox.drain_seconds` while it is closed."""
        self.outbox = outbox
        outbox.start(self._deliver_guarded, self.breaker.allow)

    async def _deliver_guarded(self, logical_keys: list[str]) -> None:
        # A drain's delete: guarded like any command, and never queued (the outbox rows stay instead).
        await self.call("invalidate", self._delete_logical, logical_keys)
        self.metrics.cache_invalidations.labels("outbox").inc(len(logical_keys))

    async def _drain_outbox(self) -> None:
        # Recovery's drain runs half-open, so it calls the backend directly; a cache error propagates
        # (the recovery trips the breaker again and retries).
        if self.outbox is None:
            return
        try:
            delivered = await self.outbox.drain(self._delete_logical)
        except DatabaseUnavailableError as exc:
            # Without the database this task cannot read the rows, nor serve misses; keeping the
            # cache closed would fail the reads it can still serve. The periodic drain catches up.
            log.warning("outbox not drained on recovery: database unavailable", extra={"error": str(exc)})
            return
        self.counters["outbox_replayed"] += delivered

    async def _replay_deferred(self) -> None:
        # Invalidations that could not be delivered must land before any read trusts the cache again:
        # every task's (the outbox), then this task's own (its queue, which also holds prefixes).
        await self._drain_outbox()
        keys, prefixes = self.deferred.snapshot()
        for prefix in sorted(prefixes):
            await self.backend.delete_matching(self.keys.match(prefix), prefix)
        if keys:
            await self._delete_logical(sorted(keys))
        self.deferred.delivered(keys, prefixes)
        self.counters["invalidations_replayed"] += len(keys)

    # ---------------------------------------------------------------- ops

    async def ping(self) -> bool:
        """True when the cache answers now; False while the breaker is open (the cache is not touched then)."""
        try:
            await self.call("ping", self.backend.ping)
        except CacheUnavailableError:
            return False
        return True

    @property
    def pending_invalidations(self) -> int:
        """Invalidations waiting for the cache (a pending namespace flush counts as one)."""
        return len(self.deferred)

    async def server_info(self) -> dict[str, Any] | None:
        """A few server statistics (per node where there are several), or None when the cache is unusable."""
        try:
            return await self.call("info", self.backend.info)
        except CacheUnavailableError:
            return None

    async def close(self) -> None:
        """Stop the recovery probe and the outbox drain, and close the connections."""
        self.recovery.cancel()
        if self.outbox is not None:
            await self.outbox.close()
        await self.backend.close()
