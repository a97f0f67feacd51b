"""The cache layer: entries, leases, single flight, resilience, two backends and the three strategies.

strategies  ->  CacheLayer (single flight, fills)  ->  RemoteCache (guarded, fail-open)  ->  backend
                                                          |- resilience: guard, breaker, recovery, deferred
                                                          '- backends: Redis (Lua) or Memcached (add/cas)
"""

from catalog.cache.backends.redis_client import RedisClient, build_redis_client
from catalog.cache.build import build_cache
from catalog.cache.codec import Entry
from catalog.cache.keys import KeySpace
from catalog.cache.layer import CacheLayer, Loader
from catalog.cache.resilience import CacheUnavailableError, CircuitBreaker
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
    "CacheLayer",
    "CacheStrategy",
    "CacheUnavailableError",
    "CircuitBreaker",
    "Entry",
    "KeySpace",
    "Loader",
    "ProductChange",
    "ReadThrough",
    "RedisClient",
    "WriteThrough",
    "build_cache",
    "build_redis_client",
]
