"""Build the cache layer the settings describe: Redis or Memcached behind the same resilience pieces."""

from __future__ import annotations

from collections import Counter

from redis.asyncio import Redis

from catalog.cache.backends.base import CacheBackend
from catalog.cache.backends.memcached_backend import MemcachedBackend
from catalog.cache.backends.memcached_client import build_memcached_client
from catalog.cache.backends.redis_backend import RedisBackend
from catalog.cache.backends.redis_client import RedisClient, build_redis_client
from catalog.cache.keys import KeySpace
from catalog.cache.layer import CacheLayer
from catalog.cache.near import InvalidationListener, NearCache, NearCacheLayer
from catalog.cache.remote import RemoteCache
from catalog.cache.resilience import CircuitBreaker
from catalog.credentials import Credentials
from catalog.metrics import Metrics
from catalog.settings import Settings


async def build_backend(
    settings: Settings,
    keys: KeySpace,
    *,
    redis_client: RedisClient | None = None,
    credentials: Credentials | None = None,
) -> CacheBackend:
    """The backend of `CACHE_BACKEND`; `redis_client` replaces the one built from the settings."""
    if settings.cache_backend == "memcached":
        return MemcachedBackend(await build_memcached_client(settings))
    return RedisBackend(redis_client or build_redis_client(settings, credentials), keys)


async def build_cache(
    settings: Settings,
    metrics: Metrics,
    *,
    redis_client: RedisClient | None = None,
    credentials: Credentials | None = None,
) -> CacheLayer:
    """The cache layer the service runs with; constructible without the web app (benchmarks use it)."""
    keys = KeySpace(settings.cache_key_prefix)
    backend = await build_backend(settings, keys, redis_client=redis_client, credentials=credentials)
    in_cluster = settings.cache_backend == "redis" and settings.redis_cluster_mode
    remote = RemoteCache(
        backend,
        keys=keys,
        metrics=metrics,
        counters=Counter(),
        ttl_seconds=settings.cache_ttl_seconds,
        ttl_jitter=settings.cache_ttl_jitter,
        negative_ttl_seconds=settings.cache_negative_ttl_seconds,
        lease_ttl_seconds=settings.cache_lease_ttl_seconds,
        lease_wait_seconds=settings.cache_lease_wait_seconds,
        breaker=CircuitBreaker(settings.redis_breaker_threshold),
        breaker_reset_seconds=settings.redis_breaker_reset_seconds,
        probe_timeout_seconds=max(1.0, 4 * settings.redis_timeout_seconds),
        # Redis: the pools raise when exhausted (redis_client.py), so in-flight commands wait here.
        max_in_flight=settings.redis_pool_size if settings.cache_backend == "redis" else None,
    )
    if settings.cache_near_enabled and isinstance(backend, RedisBackend) and not in_cluster:
        assert isinstance(backend.client, Redis)
        near = NearCache(max_entries=settings.cache_near_max_entries, max_bytes=settings.cache_near_max_bytes)
        listener = InvalidationListener(
            near,
            backend.client,
            [settings.cache_key_prefix],
            heartbeat_seconds=settings.cache_near_heartbeat_seconds,
        )
        listener.start()
        return NearCacheLayer(remote, near, listener)
    return CacheLayer(remote)
