"""Request traces for the cache benchmarks: Zipf-distributed product ids with a share of writes.

Pure standard library (no numpy), so the smoke tests run in the default environment.

A trace is a sequence of (product id, is-write) pairs. Ids are drawn from a Zipf law with exponent
`s` over ranks 1..n_keys (P(rank r) ∝ 1/r^s); rank -> id is a seeded random permutation, so the hot
products are spread over the id space instead of being ids 1, 2, 3. Writes target the same
distribution as reads (popular products are also the ones that change most often), each request
being a write with probability `write_ratio`, independently.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from itertools import accumulate

DEFAULT_KEYS = 100_000
DEFAULT_S = 1.0
DEFAULT_WRITE_RATIO = 0.05


@dataclass(frozen=True)
class Trace:
    """A reproducible request sequence; `keys[i]` is the product id of request i, `writes[i]` its kind."""

    keys: list[int]
    """Product ids, 1..n_keys."""
    writes: list[bool]
    """True where request i is a write (an update of that product)."""
    n_keys: int
    s: float
    write_ratio: float
    seed: int
    hottest: list[int] = field(repr=False)
    """Product ids by popularity rank: hottest[0] is the most requested id."""

    def __len__(self) -> int:
        return len(self.keys)

    @property
    def read_count(self) -> int:
        """How many requests are reads."""
        return len(self.writes) - sum(self.writes)


def zipf_weights(n_keys: int, s: float) -> list[float]:
    """Unnormalised Zipf weights 1/r^s for ranks r = 1..n_keys."""
    if n_keys < 1:
        raise ValueError(f"n_keys must be >= 1, got {n_keys}")
    if s < 0:
        raise ValueError(f"s must be >= 0, got {s}")
    return [1.0 / (rank**s) for rank in range(1, n_keys + 1)]


def zipf_head_share(n_keys: int, s: float, top: int) -> float:
    """The probability mass of the `top` most popular ranks (e.g. top 1% of 100k keys at s=1: ~0.62)."""
    weights = zipf_weights(n_keys, s)
    return sum(weights[:top]) / sum(weights)


def zipf_trace(
    n_requests: int,
    *,
    n_keys: int = DEFAULT_KEYS,
    s: float = DEFAULT_S,
    write_ratio: float = DEFAULT_WRITE_RATIO,
    seed: int = 1,
) -> Trace:
    """`n_requests` requests over product ids 1..n_keys; the same arguments always give the same trace."""
    if n_requests < 0:
        raise ValueError(f"n_requests must be >= 0, got {n_requests}")
    if not 0.0 <= write_ratio <= 1.0:
        raise ValueError(f"write_ratio must be in [0, 1], got {write_ratio}")
    rng = random.Random(seed)  # noqa: S311 - a reproducible workload, not security
    cumulative = list(accumulate(zipf_weights(n_keys, s)))
    hottest = list(range(1, n_keys + 1))
    rng.shuffle(hottest)
    ranks = rng.choices(range(n_keys), cum_weights=cumulative, k=n_requests)
    keys = [hottest[rank] for rank in ranks]
    writes = [rng.random() < write_ratio for _ in range(n_requests)]
    return Trace(keys=keys, writes=writes, n_keys=n_keys, s=s, write_ratio=write_ratio, seed=seed, hottest=hottest)
