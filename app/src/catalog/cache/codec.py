"""How a cache entry is laid out in Redis: a short header, then the JSON the API serves as is."""

from __future__ import annotations

from dataclasses import dataclass

# b"V<version>\n<json>" for a row, b"N<version>\n" for "no such row" (negative entry or delete tombstone).
# The Lua scripts read the version with string.match(value, '^[VN](%d+)\n').
_POSITIVE = ord("V")
_NEGATIVE = ord("N")


class CorruptEntryError(ValueError):
    """A value under one of our keys does not have the entry layout."""


@dataclass(frozen=True, slots=True)
class Entry:
    """A cached read: the JSON body, or None when the row does not exist; `version` orders writes."""

    payload: bytes | None
    version: int = 0

    @property
    def found(self) -> bool:
        """True when the row exists."""
        return self.payload is not None

    def encode(self) -> bytes:
        """The bytes stored in Redis."""
        if self.payload is None:
            return b"N%d\n" % self.version
        return b"V%d\n" % self.version + self.payload


def decode(raw: bytes) -> Entry:
    """Parse what `Entry.encode` wrote."""
    newline = raw.find(b"\n")
    if newline < 2 or raw[0] not in (_POSITIVE, _NEGATIVE):
        raise CorruptEntryError(f"not a cache entry: {raw[:20]!r}")
    version = int(raw[1:newline])
    if raw[0] == _NEGATIVE:
        return Entry(None, version)
    return Entry(raw[newline + 1 :], version)
