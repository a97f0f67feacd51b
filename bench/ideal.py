"""What a cache could at best do for a trace, and the reference curves the measurements are compared with.

The *ideal* is an unbounded cache that never expires: the only database reads it cannot avoid are
first touches (the key was never read, nor stored by a write-through) and, for strategies that
delete on write (cache-aside, read-through), the first read after each write of that key.
Write-through stores the new row on write, so only first touches remain.

Pure standard library, like `bench.trace`.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from bench.trace import Trace


def ideal_read_misses(trace: Trace, *, writes_fill: bool) -> list[bool]:
    """Per request: True for a read that no cache can serve (False for hits and for every write)."""
    cached: set[int] = set()
    misses: list[bool] = []
    for key, write in zip(trace.keys, trace.writes, strict=True):
        if write:
            if writes_fill:
                cached.add(key)
            else:
                cached.discard(key)
            misses.append(False)
        elif key in cached:
            misses.append(False)
        else:
            cached.add(key)
            misses.append(True)
    return misses


def lru_read_misses(trace: Trace, capacity: int, *, writes_fill: bool = False) -> list[bool]:
    """Per request: True for a read an exact LRU cache of `capacity` entries misses (a reference curve)."""
    if capacity < 1:
        raise ValueError(f"capacity must be >= 1, got {capacity}")
    cache: OrderedDict[int, None] = OrderedDict()
    misses: list[bool] = []

    def insert(key: int) -> None:
        cache[key] = None
        cache.move_to_end(key)
        if len(cache) > capacity:
            cache.popitem(last=False)

    for key, write in zip(trace.keys, trace.writes, strict=True):
        if write:
            if writes_fill:
                insert(key)
            else:
                cache.pop(key, None)
            misses.append(False)
        elif key in cache:
            cache.move_to_end(key)
            misses.append(False)
        else:
            insert(key)
            misses.append(True)
    return misses


@dataclass(frozen=True)
class WindowStats:
    """Reads and read misses in requests [start, end) of a trace."""

    start: int
    end: int
    reads: int
    misses: int

    @property
    def hit_ratio(self) -> float:
        """Share of reads served without the database (1.0 for a window without reads)."""
        return 1.0 - self.misses / self.reads if self.reads else 1.0


def window_stats(writes: list[bool], misses: list[bool], start: int = 0, end: int | None = None) -> WindowStats:
    """Count reads and misses in [start, end)."""
    end = len(writes) if end is None else end
    reads = sum(1 for w in writes[start:end] if not w)
    return WindowStats(start, end, reads, sum(misses[start:end]))


def windows(writes: list[bool], misses: list[bool], size: int) -> list[WindowStats]:
    """Consecutive windows of `size` requests (the last one may be shorter)."""
    if size < 1:
        raise ValueError(f"size must be >= 1, got {size}")
    return [window_stats(writes, misses, lo, min(lo + size, len(writes))) for lo in range(0, len(writes), size)]
