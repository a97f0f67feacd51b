"""Remote cache backends: Redis (standalone or cluster, Valkey, ElastiCache) and Memcached."""

from catalog.cache.backends.base import CacheBackend, Lease, LeaseReply, LeaseStatus

__all__ = ["CacheBackend", "Lease", "LeaseReply", "LeaseStatus"]
