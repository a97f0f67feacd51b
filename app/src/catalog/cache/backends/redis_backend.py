"""The Redis (and Valkey, and ElastiCache) backend: leases as keys beside the entry, Lua for atomic steps.

A reader that misses takes `SET <key>:lease <token> NX PX <ttl>` in the same script that found the
entry missing, and its fill is a compare-and-set that succeeds while its token still holds the
lease. Invalidations delete the lease with the entry, so a read that began before a write can no
longer be stored. Write-through puts compare the row version inside Redis.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from functools import partial
from typing import Any, cast

from redis.asyncio import RedisCluster
from redis.exceptions import RedisError

from catalog.cache.backends.base import CacheBackend, Lease, LeaseReply, LeaseStatus
from catalog.cache.backends.redis_client import RedisClient
from catalog.cache.keys import KeySpace

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
# The version is read with the entry layout of `codec`: b"V<version>\n..." or b"N<version>\n".
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

_INFO_FIELDS = (
    "redis_version",
    "used_memory_human",
    "maxmemory_policy",
    "evicted_keys",
    "expired_keys",
    "keyspace_hits",
    "keyspace_misses",
    "connected_clients",
)


class RedisBackend(CacheBackend):
    """Entries, leases and generations in Redis (standalone or cluster) through redis-py asyncio."""

    name = "redis"
    supports_versioned_put = True
    down_errors = (RedisError, OSError, TimeoutError)

    def __init__(self, client: RedisClient, keys: KeySpace) -> None:
        if client.get_encoder().decode_responses:
            # Entries are bytes (codec), and `get` hands redis-py's reply on unconverted.
            raise ValueError("the Redis cache backend needs a client with decode_responses=False")
        self.client = client
        self._keys = keys
        self._get_or_lease = client.register_script(_GET_OR_LEASE)
        self._fill = client.register_script(_FILL)
        self._release = client.register_script(_RELEASE)
        self._put = client.register_script(_PUT_VERSIONED)
        self._generation = client.register_script(_GENERATION)

    def get(self, key: str) -> Awaitable[bytes | None]:
        # redis-py's own coroutine, not one awaiting it: a frame fewer on every cached read (issue 18).
        return cast("Awaitable[bytes | None]", self.client.get(key))

    async def get_with_ttl(self, key: str) -> tuple[bytes | None, int]:
        """The value and its remaining TTL in ms (-1: none, -2: absent), pipelined in one round trip."""
        pipe = self.client.pipeline(transaction=False)
        pipe.get(key)
        pipe.pttl(key)
        raw, ttl_ms = await pipe.execute()
        return raw, int(ttl_ms)

    async def get_or_lease(self, key: str, token: str, lease_ms: int) -> LeaseReply:
        reply: list[Any] = await self._get_or_lease(keys=[key, self._keys.lease(key)], args=[token, lease_ms])
        status = LeaseStatus(int(reply[0]))
        if status is LeaseStatus.HIT:
            return LeaseReply(status, value=reply[1])
        if status is LeaseStatus.GRANTED:
            return LeaseReply(status, lease=Lease(token))
        return LeaseReply(status)

    async def fill(self, key: str, lease: Lease, value: bytes, ttl_ms: int) -> bool:
        stored = await self._fill(keys=[key, self._keys.lease(key)], args=[lease.token, value, ttl_ms])
        return int(stored) == 1

    async def release(self, key: str, lease: Lease) -> None:
        await self._release(keys=[self._keys.lease(key)], args=[lease.token])

    async def put_versioned(self, key: str, version: int, value: bytes, ttl_ms: int) -> bool:
        stored = await self._put(keys=[key, self._keys.lease(key)], args=[version, value, ttl_ms])
        return int(stored) == 1

    async def generation(self, key: str, fresh: str, ttl_ms: int) -> str:
        value = await self._generation(keys=[key], args=[fresh, ttl_ms])
        return value.decode() if isinstance(value, bytes) else str(value)

    async def delete(self, keys: list[str], renewals: dict[str, str], generation_ttl_ms: int) -> int:
        if isinstance(self.client, RedisCluster):
            # A cluster pipeline cannot take multi-key commands: send one UNLINK per entry (entry and
            # lease share a hash slot), concurrently.
            replies = await asyncio.gather(
                *(self.client.unlink(key, self._keys.lease(key)) for key in keys),
                *(self.client.set(gen, token, px=generation_ttl_ms) for gen, token in renewals.items()),
            )
        else:
            pipe = self.client.pipeline(transaction=False)
            for key in keys:
                pipe.unlink(key, self._keys.lease(key))
            for gen, token in renewals.items():
                pipe.set(gen, token, px=generation_ttl_ms)
            replies = await pipe.execute()
        return sum(reply for reply in replies if isinstance(reply, int) and not isinstance(reply, bool))

    async def delete_matching(self, pattern: str, logical_prefix: str) -> int:
        deleted = 0
        batch: list[bytes] = []
        async for key in self.client.scan_iter(match=pattern, count=1000):
            batch.append(key)
            if len(batch) >= 500:
                deleted += int(await self.client.unlink(*batch))
                batch = []
        if batch:
            deleted += int(await self.client.unlink(*batch))
        return deleted

    async def ping(self) -> None:
        await self.client.ping()

    async def info(self) -> dict[str, Any]:
        client = self.client
        if isinstance(client, RedisCluster):
            per_node: dict[str, Any] = {}
            for node in client.get_primaries():
                node_info: dict[str, Any] = await partial(client.info, target_nodes=node)()
                per_node[node.name] = {f: node_info.get(f) for f in _INFO_FIELDS}
            return per_node
        info: dict[str, Any] = await client.info()
        return {f: info.get(f) for f in _INFO_FIELDS}

    async def close(self) -> None:
        await self.client.aclose()
