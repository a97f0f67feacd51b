"""The Memcached backend (ElastiCache for Memcached, or any memcached 1.6), through emcache.

What Memcached cannot do, and what this backend does instead:

- **No server-side scripts, so no lease key beside the entry.** The lease lives *in* the entry's own
  key: a reader that misses does `add <key> L<token>` (stored only if the key is absent), reads the
  marker back with `gets` to learn its CAS unique, and fills with `cas <key> <value> <unique>`. The
  CAS succeeds only if nothing touched the key since: an invalidation's `delete` (or another
  reader's marker after it) changes or removes it, so a read that began before a write can no
  longer be stored. Other readers that find a marker wait for the fill, as with Redis leases. This
  costs three round trips on a miss (gets, add, gets) against Redis's one script call.
- **No atomic compare of versions**, so no write-through: a versioned put would need a gets/cas
  retry loop per key on every write. `CACHE_STRATEGY=write-through` is refused with this backend;
  cache-aside and read-through are allowed.
- **No key enumeration**, so no prefix invalidation except the whole cluster (`flush_all` on every
  node): the cluster belongs to this service alone.
- **No replication or persistence**: a node that restarts or is replaced comes back empty (never
  stale). Keys are spread over the nodes by emcache's rendezvous hashing; a node's outage makes its
  keys fail (and count towards the breaker) instead of moving to other nodes
  (`purge_unhealthy_nodes=False`), so a node that was only unreachable cannot serve copies that
  missed invalidations while its keys lived elsewhere.
- **No AUTH** on ElastiCache for Memcached (the security group is the only control) and **no client
  tracking** (a later near cache must not rely on invalidation messages from this backend).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from typing import Any

import emcache

from catalog.cache.backends.base import CacheBackend, Lease, LeaseReply, LeaseStatus

MARKER = b"L"
"""First byte of a fill-in-progress marker (entries start with V or N, see `codec`)."""

_STATS_FIELDS = (
    "version",
    "curr_items",
    "bytes",
    "limit_maxbytes",
    "evictions",
    "get_hits",
    "get_misses",
    "curr_connections",
)


def _seconds(ms: int) -> int:
    # Memcached's exptime is whole seconds (values above 30 days would be read as a Unix time; the
    # settings keep every TTL far below that).
    return max(1, math.ceil(ms / 1000))


def _is_marker(value: bytes) -> bool:
    return value[:1] == MARKER


class UnsupportedByMemcachedError(ValueError):
    """An operation Memcached has no command for."""


class MemcachedBackend(CacheBackend):
    """Entries on a set of Memcached nodes (all of them: a fixed list or ElastiCache auto discovery)."""

    name = "memcached"
    supports_versioned_put = False
    down_errors = (TimeoutError, OSError, emcache.ClusterNoAvailableNodes, emcache.CommandError)

    def __init__(self, client: emcache.Client) -> None:
        self.client = client

    def supports_prefix(self, logical_prefix: str) -> bool:
        """Only the whole namespace can be dropped (there is no SCAN)."""
        return logical_prefix == ""

    def nodes(self) -> list[emcache.MemcachedHostAddress]:
        """Every node the client knows (from the configuration endpoint under auto discovery)."""
        return [n for n in self.client.cluster_managment().nodes() if isinstance(n, emcache.MemcachedHostAddress)]

    async def get(self, key: str) -> bytes | None:
        item = await self.client.get(key.encode())
        if item is None or _is_marker(item.value):
            return None
        value: bytes = item.value
        return value

    async def get_or_lease(self, key: str, token: str, lease_ms: int) -> LeaseReply:
        raw_key = key.encode()
        item = await self.client.get(raw_key)
        if item is not None:
            return LeaseReply(LeaseStatus.HELD) if _is_marker(item.value) else LeaseReply(LeaseStatus.HIT, item.value)
        marker = MARKER + token.encode()
        try:
            await self.client.add(raw_key, marker, exptime=_seconds(lease_ms))
        except emcache.NotStoredStorageCommandError:
            # Someone else's marker, or a fill that landed since our get.
            item = await self.client.get(raw_key)
            if item is not None and not _is_marker(item.value):
                return LeaseReply(LeaseStatus.HIT, item.value)
            return LeaseReply(LeaseStatus.HELD)
        mine = await self.client.gets(raw_key)
        if mine is None or mine.value != marker or mine.cas is None:
            return LeaseReply(LeaseStatus.HELD)  # invalidated already: our lease is gone
        return LeaseReply(LeaseStatus.GRANTED, lease=Lease(token, cas=mine.cas))

    async def fill(self, key: str, lease: Lease, value: bytes, ttl_ms: int) -> bool:
        assert lease.cas is not None
        try:
            await self.client.cas(key.encode(), value, lease.cas, exptime=_seconds(ttl_ms))
        except emcache.StorageCommandError:  # EXISTS (touched since) or NOT_FOUND (deleted since)
            return False
        return True

    async def release(self, key: str, lease: Lease) -> None:
        assert lease.cas is not None
        # No compare-and-delete: a CAS with a negative exptime stores our marker already expired,
        # and only while it is still ours.
        with contextlib.suppress(emcache.StorageCommandError):
            await self.client.cas(key.encode(), MARKER + lease.token.encode(), lease.cas, exptime=-1)

    async def put_versioned(self, key: str, version: int, value: bytes, ttl_ms: int) -> bool:
        raise UnsupportedByMemcachedError("write-through needs an atomic version compare, which memcached lacks")

    async def generation(self, key: str, fresh: str, ttl_ms: int) -> str:
        raw_key = key.encode()
        item = await self.client.get(raw_key)
        if item is not None:
            return str(item.value.decode())
        try:
            await self.client.add(raw_key, fresh.encode(), exptime=_seconds(ttl_ms))
        except emcache.NotStoredStorageCommandError:
            item = await self.client.get(raw_key)
            if item is not None:
                return str(item.value.decode())
        return fresh

    async def _delete_one(self, key: str) -> int:
        try:
            await self.client.delete(key.encode())
        except emcache.NotFoundCommandError:
            return 0
        return 1

    async def _set(self, key: str, value: str, ttl_ms: int) -> None:
        await self.client.set(key.encode(), value.encode(), exptime=_seconds(ttl_ms))

    async def delete(self, keys: list[str], renewals: dict[str, str], generation_ttl_ms: int) -> int:
        # Deleting the entry also removes a fill marker (same key), which cancels that fill.
        replies = await asyncio.gather(
            *(self._delete_one(key) for key in keys),
            *(self._set(gen, token, generation_ttl_ms) for gen, token in renewals.items()),
        )
        return sum(reply for reply in replies if isinstance(reply, int))

    async def delete_matching(self, pattern: str, logical_prefix: str) -> int:
        if not self.supports_prefix(logical_prefix):
            raise UnsupportedByMemcachedError(
                f"memcached cannot enumerate keys: prefix {logical_prefix!r} cannot be invalidated "
                "(allowed: single keys, or prefix '' to flush the whole cluster)"
            )
        nodes = self.nodes()
        if not nodes:
            raise emcache.ClusterNoAvailableNodes()
        await asyncio.gather(*(self.client.flush_all(node) for node in nodes))
        return 0  # memcached does not say how many items a flush dropped

    async def ping(self) -> None:
        nodes = self.nodes()
        if not nodes:
            raise emcache.ClusterNoAvailableNodes()
        await asyncio.gather(*(self.client.version(node) for node in nodes))

    async def info(self) -> dict[str, Any]:
        per_node: dict[str, Any] = {}
        for node in self.nodes():
            stats = await self.client.stats(node)
            per_node[f"{node.address}:{node.port}"] = {f: stats.get(f) for f in _STATS_FIELDS}
        return per_node

    async def close(self) -> None:
        await self.client.close()
