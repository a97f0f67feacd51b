"""Staying up while the cache is not: the guarded call, the circuit breaker, recovery and deferred invalidations.

Every piece here is backend-neutral: Redis and Memcached share them through `RemoteCache`.
"""

from catalog.cache.resilience.breaker import BreakerState, CircuitBreaker
from catalog.cache.resilience.deferred import DeferredInvalidations
from catalog.cache.resilience.guard import CacheUnavailableError, GuardedCall
from catalog.cache.resilience.recovery import Recovery

__all__ = [
    "BreakerState",
    "CacheUnavailableError",
    "CircuitBreaker",
    "DeferredInvalidations",
    "GuardedCall",
    "Recovery",
]
