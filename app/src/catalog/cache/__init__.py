"""The Redis cache layer: entries, leases, circuit breaker and the three strategies."""

from catalog.cache.breaker import CircuitBreaker
from catalog.cache.client import RedisClient, build_redis_client
from catalog.cache.codec import Entry
from catalog.cache.keys import KeySpace
from catalog.cache.store import CacheUnavailableError, Loader, RedisCache
from catalog.cache.strategies import (
    STRATEGIES,
    CacheAside,
    CacheStrategy,
    ProductChange,
    ReadThrough,
    WriteThrough,
)

__all__ = [
    "STRATEGIES",
    "CacheAside",
    "CacheStrategy",
    "CacheUnavailableError",
    "CircuitBreaker",
    "Entry",
    "KeySpace",
    "Loader",
    "ProductChange",
    "ReadThrough",
    "RedisCache",
    "RedisClient",
    "WriteThrough",
    "build_redis_client",
]
