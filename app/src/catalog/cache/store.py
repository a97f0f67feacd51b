"""The cache layer: fail-open reads, lease-guarded fills, in-process miss merging and ordered write-through.

Race fix (the classic cache-aside race, where a slow reader puts an old value back after a writer
invalidated it): a reader that misses takes a *lease* on the key (SET NX, short TTL, random token)
before it reads the database, and may store its result only while its lease still exists (a Lua
compare-and-set). Every writer deletes the lease together with the entry after its commit, so a
read that began before the write can no longer be stored. Leases also bound stampedes across tasks:
one task holds the lease, the others wait for its fill. Write-through puts carry the row version and
only replace an older version, so two writers finishing out of order cannot leave the older row.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import secrets
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Sequence
from functools import partial
from typing import Any, TypeVar

from redis.asyncio import RedisCluster
from redis.exceptions import RedisError

from catalog.cache.breaker import CircuitBreaker
from catalog.cache.client import RedisClient, build_redis_client
from catalog.cache.codec import CorruptEntryError, Entry, decode
from catalog.cache.keys import KeySpace
from catalog.metrics import Metrics
from catalog.settings import Settings

log = logging.getLogger(__name__)

T = TypeVar("T")
Loader = Callable[[], Awaitable[Entry]]
"""Reads one entry from the database (counted by the repository)."""

GENERATION_TTL_MS = 24 * 3600 * 1000
MAX_PENDING_INVALIDATIONS = 10_000
_REDIS_DOWN = (RedisError, OSError, TimeoutError)

# KEYS[1] entry, KEYS[2] lease; ARGV[1] token, ARGV[2] lease ttl (ms).
# Returns {1, value} when the entry exists, {2} when the lease was granted, {3} when someone else holds it.
_GET_OR_LEASE = """
local value = redis.call('GET', KEYS[1])
if value then return {1, value} end
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then return {2} end
return {3}
"""
# KEYS[1] entry, KEYS[2] lease; ARGV[1] token, ARGV[2] value, ARGV[3] ttl (ms).
# Stores only while our lease is still there: a writer's invalidation deleted it otherwise.
_FILL = """
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[2])
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
"""
# KEYS[1] lease; ARGV[1] token. Give the lease back when the database read failed.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
# KEYS[1] entry, KEYS[2] lease; ARGV[1] version, ARGV[2] value, ARGV[3] ttl (ms).
# Write-through: cancel in-flight fills, and never replace a newer version with an older one.
_PUT_VERSIONED = """
redis.call('DEL', KEYS[2])
local current = redis.call('GET', KEYS[1])
if current then
  local version = tonumber(string.match(current, '^[VN](%d+)\\n'))
  if version and version >= tonumber(ARGV[1]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
"""
# KEYS[1] generation key; ARGV[1] a fresh token, ARGV[2] ttl (ms). The current generation, created if missing.
_GENERATION = """
local current = redis.call('GET', KEYS[1])
if current then return current end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return ARGV[1]
"""


class CacheUnavailableError(Exception):
    """Redis could not be used (breaker open, error or timeout); callers fall back to the database."""


class RedisCache:
    """Entries in Redis under one key prefix, with the guarantees described in this module's docstring.

    Every public method fails open: with Redis slow or down it answers "miss" (reads) or queues the
    work (invalidations) instead of raising, and a circuit breaker stops calling Redis at all after
    `breaker.threshold` consecutive failures until a background probe succeeds.
    """

    def __init__(
        self,
        client: RedisClient,
        *,
        keys: KeySpace,
        metrics: Metrics,
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
        self.client = client
        self.keys = keys
        self.metrics = metrics
        self.breaker = breaker
        self.ttl_seconds = ttl_seconds
        self.ttl_jitter = ttl_jitter
        self.negative_ttl_seconds = negative_ttl_seconds
        self._lease_ms = max(1, int(lease_ttl_seconds * 1000))
        self._lease_wait = lease_wait_seconds
        self._reset_seconds = breaker_reset_seconds
        self._probe_timeout = probe_timeout_seconds
        self._limit = asyncio.Semaphore(max_in_flight) if max_in_flight else None
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not security
        self._flights: dict[str, asyncio.Task[Entry]] = {}
        self._pending: set[str] = set()
        self._pending_prefixes: set[str] = set()
        self._recovery: asyncio.Task[None] | None = None
        self.counters: Counter[str] = Counter()
        """Plain counts for /ops/cache/stats and tests (Prometheus has the same, labelled)."""
        self._get_or_lease = client.register_script(_GET_OR_LEASE)
        self._fill_script = client.register_script(_FILL)
        self._release_script = client.register_script(_RELEASE)
        self._put_script = client.register_script(_PUT_VERSIONED)
        self._generation_script = client.register_script(_GENERATION)

    @classmethod
    def from_settings(cls, settings: Settings, metrics: Metrics, client: RedisClient | None = None) -> RedisCache:
        """The cache the service runs with; `client` defaults to one built from the same settings."""
        return cls(
            client or build_redis_client(settings),
            keys=KeySpace(settings.cache_key_prefix),
            metrics=metrics,
            ttl_seconds=settings.cache_ttl_seconds,
            ttl_jitter=settings.cache_ttl_jitter,
            negative_ttl_seconds=settings.cache_negative_ttl_seconds,
            lease_ttl_seconds=settings.cache_lease_ttl_seconds,
            lease_wait_seconds=settings.cache_lease_wait_seconds,
            breaker=CircuitBreaker(settings.redis_breaker_threshold),
            breaker_reset_seconds=settings.redis_breaker_reset_seconds,
            probe_timeout_seconds=max(1.0, 4 * settings.redis_timeout_seconds),
            max_in_flight=settings.redis_pool_size if settings.redis_cluster_mode else None,
        )

    # ---------------------------------------------------------------- calling Redis

    async def _call(self, operation: str, call: Callable[[], Awaitable[T]]) -> T:
        if not self.breaker.allow():
            raise CacheUnavailableError("circuit breaker open")
        start = time.perf_counter()
        try:
            if self._limit is None:
                result = await call()
            else:
                async with self._limit:
                    result = await call()
        except _REDIS_DOWN as exc:
            self._failed(operation, exc)
            raise CacheUnavailableError(f"{operation}: {exc!r}") from exc
        self.breaker.record_success()
        self.metrics.cache_operation_seconds.labels(operation).observe(time.perf_counter() - start)
        return result

    def _failed(self, operation: str, exc: BaseException) -> None:
        self.counters["errors"] += 1
        self.metrics.cache_errors.labels(operation).inc()
        log.debug("redis %s failed: %r", operation, exc)
        if self.breaker.record_failure():
            log.warning("redis unavailable, circuit breaker open", extra={"operation": operation, "error": repr(exc)})
            self._start_recovery()

    def _start_recovery(self) -> None:
        self.metrics.cache_breaker_open.set(1)
        if self._recovery is None or self._recovery.done():
            self._recovery = asyncio.get_running_loop().create_task(self._recover(), name="redis-recovery")

    async def _recover(self) -> None:
        """While open: every reset interval, ping Redis and deliver queued invalidations; then close."""
        while True:
            await asyncio.sleep(self._reset_seconds)
            self.breaker.probing()
            try:
                async with asyncio.timeout(self._probe_timeout):
                    await self.client.ping()
                await self._replay_pending()  # each command is bounded by the socket timeout
            except _REDIS_DOWN as exc:
                log.debug("redis probe failed: %r", exc)
                self.breaker.trip()
                continue
            self.breaker.close()
            self.metrics.cache_breaker_open.set(0)
            log.warning("redis reachable again, circuit breaker closed")
            return

    async def _replay_pending(self) -> None:
        # Invalidations that could not be delivered must land before any read trusts Redis again.
        for prefix in sorted(self._pending_prefixes):
            await self._unlink_matching(prefix)
            self._pending_prefixes.discard(prefix)
        if self._pending:
            batch = sorted(self._pending)
            await self._delete_logical(batch)
            self._pending.difference_update(batch)
            self.counters["invalidations_replayed"] += len(batch)

    def _defer(self, logical_keys: Iterable[str]) -> None:
        self._pending.update(logical_keys)
        self.metrics.cache_invalidations.labels("deferred").inc()
        if len(self._pending) > MAX_PENDING_INVALIDATIONS:
            # Too many to remember: flush the whole namespace when Redis is back.
            self._pending.clear()
            self._pending_prefixes.add("")
        # An undelivered invalidation means Redis may hold stale rows: stop reading it until delivered.
        self.breaker.trip()
        self._start_recovery()

    # ---------------------------------------------------------------- reads

    def _ttl_ms(self, entry: Entry) -> int:
        base = self.ttl_seconds if entry.found else self.negative_ttl_seconds
        jitter = self._rng.uniform(-self.ttl_jitter, self.ttl_jitter) if self.ttl_jitter else 0.0
        return max(1, int(base * (1.0 + jitter) * 1000))

    async def lookup(self, key: str, entity: str) -> Entry | None:
        """The entry at `key`, or None on a miss; raises `CacheUnavailableError` when Redis is unusable."""
        raw: bytes | None = await self._call("get", lambda: self.client.get(key))  # type: ignore[arg-type,return-value]
        if raw is None:
            return None
        try:
            entry = decode(raw)
        except CorruptEntryError:
            log.warning("ignoring a malformed cache entry", extra={"key": key})
            return None
        if entry.payload is None:
            self.counters["negative_hits"] += 1
            self.metrics.negative_hit[entity].inc()
        else:
            self.counters["hits"] += 1
            self.metrics.hit[entity].inc()
        return entry

    async def get_or_load(self, key: str, entity: str, load: Loader) -> Entry:
        """Read-through: the cached entry, else `load_on_miss`; `load_uncached` when Redis is unusable."""
        try:
            entry = await self.lookup(key, entity)
        except CacheUnavailableError:
            return await self.load_uncached(key, entity, load)
        if entry is not None:
            return entry
        return await self.load_on_miss(key, entity, load)

    async def load_on_miss(self, key: str, entity: str, load: Loader) -> Entry:
        """After a miss: one database read per key per process, stored under a lease."""
        return await self._flight(key, entity, load, use_cache=True)

    async def load_uncached(self, key: str, entity: str, load: Loader) -> Entry:
        """Redis is unusable: read the database (still one read per key per process) and store nothing."""
        self.counters["bypassed"] += 1
        self.metrics.cache_bypassed.labels(entity).inc()
        return await self._flight(key, entity, load, use_cache=False)

    async def _flight(self, key: str, entity: str, load: Loader, *, use_cache: bool) -> Entry:
        task = self._flights.get(key)
        if task is None:
            self.counters["misses"] += 1
            self.metrics.cache_misses.labels(entity).inc()
            task = asyncio.get_running_loop().create_task(self._load_and_fill(key, load, use_cache=use_cache))
            self._flights[key] = task
            task.add_done_callback(lambda done: self._flight_done(key, done))
        else:
            self.counters["coalesced"] += 1
            self.metrics.cache_coalesced.labels(entity).inc()
        # shield: a caller that goes away must not cancel the read the others are waiting for.
        return await asyncio.shield(task)

    def _flight_done(self, key: str, task: asyncio.Task[Entry]) -> None:
        if self._flights.get(key) is task:
            del self._flights[key]
        if not task.cancelled():
            task.exception()  # retrieved here so an unawaited failure is not reported as lost

    async def _load_and_fill(self, key: str, load: Loader, *, use_cache: bool) -> Entry:
        token: str | None = None
        if use_cache:
            try:
                token, entry = await self._acquire_lease(key)
            except CacheUnavailableError:
                token, entry = None, None
            if entry is not None:
                return entry
        try:
            entry = await load()
        except BaseException:
            if token is not None:
                await self._release_lease(key, token)
            raise
        if token is not None:
            await self._fill(key, token, entry)
        return entry

    async def _acquire_lease(self, key: str) -> tuple[str | None, Entry | None]:
        """(our lease token, None), or (None, the entry another task stored), or (None, None) on timeout."""
        token = secrets.token_hex(8)
        lease = self.keys.lease(key)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._lease_wait
        delay = 0.002
        waited = False
        while True:
            reply: list[Any] = await self._call(
                "lease", lambda: self._get_or_lease(keys=[key, lease], args=[token, self._lease_ms])
            )
            status = int(reply[0])
            if status == 1:
                if waited:
                    self.counters["lease_wait_hits"] += 1
                try:
                    return None, decode(reply[1])
                except CorruptEntryError:
                    return None, None
            if status == 2:
                return token, None
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

    async def _fill(self, key: str, token: str, entry: Entry) -> bool:
        ttl_ms = self._ttl_ms(entry)
        try:
            stored = await self._call(
                "fill",
                lambda: self._fill_script(keys=[key, self.keys.lease(key)], args=[token, entry.encode(), ttl_ms]),
            )
        except CacheUnavailableError:
            self.metrics.cache_fills.labels("error").inc()
            return False
        result = "stored" if int(stored) == 1 else "rejected"
        self.counters[f"fills_{result}"] += 1
        self.metrics.cache_fills.labels(result).inc()
        return result == "stored"

    async def _release_lease(self, key: str, token: str) -> None:
        with contextlib.suppress(CacheUnavailableError):  # otherwise the lease expires by itself
            await self._call("release", lambda: self._release_script(keys=[self.keys.lease(key)], args=[token]))

    async def generation(self, scope: str) -> str | None:
        """The current generation of a list scope, or None when Redis is unusable (then skip the cache)."""
        fresh = secrets.token_hex(6)
        try:
            value = await self._call(
                "generation",
                lambda: self._generation_script(keys=[self.keys.generation(scope)], args=[fresh, GENERATION_TTL_MS]),
            )
        except CacheUnavailableError:
            return None
        return value.decode() if isinstance(value, bytes) else str(value)

    # ---------------------------------------------------------------- writes

    async def invalidate(self, logical_keys: Iterable[str]) -> int:
        """Delete entries and their leases (list keys: renew the generation); queue them without Redis.

        Returns the number of Redis keys removed (0 when queued).
        """
        batch = list(dict.fromkeys(logical_keys))
        if not batch:
            return 0
        try:
            deleted = await self._call("invalidate", lambda: self._delete_logical(batch))
        except CacheUnavailableError:
            self._defer(batch)
            return 0
        self.metrics.cache_invalidations.labels("delivered").inc(len(batch))
        return deleted

    async def _delete_logical(self, logical_keys: list[str]) -> int:
        renewals = {
            self.keys.generation(logical.removeprefix("list:")): secrets.token_hex(6)
            for logical in logical_keys
            if logical.startswith("list:")
        }
        entries = [self.keys.entry(logical) for logical in logical_keys]
        if isinstance(self.client, RedisCluster):
            # A cluster pipeline cannot take multi-key commands: send one UNLINK per entry (entry and
            # lease share a hash slot), concurrently.
            replies = await asyncio.gather(
                *(self.client.unlink(key, self.keys.lease(key)) for key in entries),
                *(self.client.set(gen, token, px=GENERATION_TTL_MS) for gen, token in renewals.items()),
            )
        else:
            pipe = self.client.pipeline(transaction=False)
            for key in entries:
                pipe.unlink(key, self.keys.lease(key))
            for gen, token in renewals.items():
                pipe.set(gen, token, px=GENERATION_TTL_MS)
            replies = await pipe.execute()
        return sum(reply for reply in replies if isinstance(reply, int) and not isinstance(reply, bool))

    async def put(self, logical: str, entry: Entry) -> bool:
        """Write-through: store `entry` unless Redis holds a newer version; cancels in-flight fills."""
        key = self.keys.entry(logical)
        ttl_ms = self._ttl_ms(entry)
        try:
            stored = await self._call(
                "put",
                lambda: self._put_script(
                    keys=[key, self.keys.lease(key)], args=[entry.version, entry.encode(), ttl_ms]
                ),
            )
        except CacheUnavailableError:
            self._defer([logical])
            return False
        result = "stored" if int(stored) == 1 else "older"
        self.counters[f"puts_{result}"] += 1
        return result == "stored"

    async def invalidate_prefix(self, logical_prefix: str) -> int:
        """Remove every key whose logical key starts with `logical_prefix`; raise if Redis is unusable."""
        try:
            return await self._call("invalidate_prefix", lambda: self._unlink_matching(logical_prefix))
        except CacheUnavailableError:
            self._pending_prefixes.add(logical_prefix)
            self.breaker.trip()
            self._start_recovery()
            raise

    async def _unlink_matching(self, logical_prefix: str) -> int:
        deleted = 0
        batch: list[bytes] = []
        async for key in self.client.scan_iter(match=self.keys.match(logical_prefix), count=1000):
            batch.append(key)
            if len(batch) >= 500:
                deleted += int(await self.client.unlink(*batch))
                batch = []
        if batch:
            deleted += int(await self.client.unlink(*batch))
        return deleted

    async def warm(self, logical_keys: Sequence[str], load: Callable[[list[str]], Awaitable[dict[str, Entry]]]) -> int:
        """Take leases on the keys, read them with one `load` call, store them; return how many were stored.

        Leases come first so a write that commits during the read cancels that key's fill, exactly
        as for a normal miss. Keys another task is filling right now are skipped.
        """
        tokens: dict[str, str] = {}
        for logical in dict.fromkeys(logical_keys):
            key = self.keys.entry(logical)
            try:
                token, _ = await self._acquire_lease_once(key)
            except CacheUnavailableError:
                break
            if token is not None:
                tokens[logical] = token
        if not tokens:
            return 0
        try:
            entries = await load(list(tokens))
        except BaseException:
            for logical, token in tokens.items():
                await self._release_lease(self.keys.entry(logical), token)
            raise
        stored = 0
        for logical, token in tokens.items():
            entry = entries.get(logical)
            key = self.keys.entry(logical)
            if entry is None:
                await self._release_lease(key, token)
            elif await self._fill(key, token, entry):
                stored += 1
        return stored

    async def _acquire_lease_once(self, key: str) -> tuple[str | None, Entry | None]:
        token = secrets.token_hex(8)
        reply: list[Any] = await self._call(
            "lease",
            lambda: self._get_or_lease(keys=[key, self.keys.lease(key)], args=[token, self._lease_ms]),
        )
        return (token, None) if int(reply[0]) == 2 else (None, None)

    # ---------------------------------------------------------------- ops

    async def ping(self) -> bool:
        """True when Redis answers now; False while the breaker is open (Redis is not touched then)."""
        try:
            await self._call("ping", self.client.ping)
        except CacheUnavailableError:
            return False
        return True

    @property
    def pending_invalidations(self) -> int:
        """Invalidations waiting for Redis (a pending namespace flush counts as one)."""
        return len(self._pending) + len(self._pending_prefixes)

    async def server_info(self) -> dict[str, Any] | None:
        """A few fields of Redis INFO (per node in cluster mode), or None when Redis is unusable."""
        fields = (
            "redis_version",
            "used_memory_human",
            "maxmemory_policy",
            "evicted_keys",
            "expired_keys",
            "keyspace_hits",
            "keyspace_misses",
            "connected_clients",
        )
        client = self.client
        try:
            if isinstance(client, RedisCluster):
                per_node: dict[str, Any] = {}
                for node in client.get_primaries():
                    node_info: dict[str, Any] = await self._call("info", partial(client.info, target_nodes=node))
                    per_node[node.name] = {f: node_info.get(f) for f in fields}
                return per_node
            info: dict[str, Any] = await self._call("info", client.info)
        except CacheUnavailableError:
            return None
        return {f: info.get(f) for f in fields}

    async def close(self) -> None:
        """Stop the recovery probe and close the connections."""
        if self._recovery is not None:
            self._recovery.cancel()
        for task in list(self._flights.values()):
            task.cancel()
        await self.client.aclose()
