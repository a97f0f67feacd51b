"""What the cache layer needs from a remote cache, whatever protocol it speaks.

Keys here are physical keys (`KeySpace.entry(...)`); values are encoded entries (`codec`). Every
method raises one of the backend's `down_errors` when the server cannot serve the command; the
guarded call turns those into "the cache is unavailable" and the breaker counts them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable
from dataclasses import dataclass
from enum import Enum
from typing import Any, ClassVar


@dataclass(frozen=True, slots=True)
class Lease:
    """The right to fill one entry: a random token, and for Memcached the CAS unique of our marker."""

    token: str
    cas: int | None = None


class LeaseStatus(Enum):
    """What a lease attempt found."""

    HIT = 1
    """The entry exists (value returned)."""
    GRANTED = 2
    """No entry; the lease is ours."""
    HELD = 3
    """No entry; another reader holds the lease and is filling it."""


@dataclass(frozen=True, slots=True)
class LeaseReply:
    """The answer to `get_or_lease`."""

    status: LeaseStatus
    value: bytes | None = None
    lease: Lease | None = None


class CacheBackend(ABC):
    """One remote cache (a Redis standalone server or cluster, or a set of Memcached nodes)."""

    name: ClassVar[str]
    """`redis` or `memcached`."""
    supports_versioned_put: ClassVar[bool]
    """Whether `put_versioned` compares versions atomically on the server (write-through needs it)."""
    down_errors: tuple[type[BaseException], ...]
    """Exceptions that mean "the cache cannot serve us now"."""

    @abstractmethod
    def get(self, key: str) -> Awaitable[bytes | None]:
        """The value at `key`, None when absent (a fill in progress counts as absent).

        Any awaitable: a backend may hand on its client's coroutine rather than wrap it in its own.
        """

    async def get_with_ttl(self, key: str) -> tuple[bytes | None, int]:
        """The value and its remaining TTL in ms; only a backend that can host a near cache has it."""
        raise NotImplementedError(f"the {self.name} backend cannot host a near cache")

    @abstractmethod
    async def get_or_lease(self, key: str, token: str, lease_ms: int) -> LeaseReply:
        """The entry, or else try to take the fill lease (one atomic step where the server allows)."""

    @abstractmethod
    async def fill(self, key: str, lease: Lease, value: bytes, ttl_ms: int) -> bool:
        """Store `value` only while `lease` still holds (no invalidation since it was taken)."""

    @abstractmethod
    async def release(self, key: str, lease: Lease) -> None:
        """Give the lease back (the database read failed); a lease someone else took is left alone."""

    @abstractmethod
    async def put_versioned(self, key: str, version: int, value: bytes, ttl_ms: int) -> bool:
        """Write-through: store unless a newer version is there; cancel in-flight fills."""

    @abstractmethod
    async def generation(self, key: str, fresh: str, ttl_ms: int) -> str:
        """The generation token at `key`, set to `fresh` when missing."""

    @abstractmethod
    async def delete(self, keys: list[str], renewals: dict[str, str], generation_ttl_ms: int) -> int:
        """Delete entries with their leases and set new generation tokens; the number of keys removed."""

    @abstractmethod
    async def delete_matching(self, pattern: str, logical_prefix: str) -> int:
        """Delete every key matching `pattern` (SCAN MATCH form) under the logical prefix; the number removed."""

    def supports_prefix(self, logical_prefix: str) -> bool:
        """Whether `delete_matching` can drop this logical prefix."""
        return True

    @abstractmethod
    async def ping(self) -> None:
        """One round trip to every server."""

    @abstractmethod
    async def info(self) -> dict[str, Any]:
        """A few server statistics (per node where there are several)."""

    @abstractmethod
    async def close(self) -> None:
        """Close the connections."""
