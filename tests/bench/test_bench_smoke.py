"""The benchmark suite's pure parts on tiny inputs: the Zipf trace generator and the ideal-miss computation.

Nothing here is timed and nothing needs Redis, PostgreSQL, numpy or matplotlib.
"""

from __future__ import annotations

from collections import Counter

import pytest

from bench.ideal import ideal_read_misses, lru_read_misses, window_stats, windows
from bench.trace import Trace, zipf_head_share, zipf_trace


def _trace(keys: list[int], writes: list[bool]) -> Trace:
    n_keys = max(keys)
    return Trace(keys, writes, n_keys, 1.0, 0.0, 0, hottest=list(range(1, n_keys + 1)))


def test_same_seed_same_trace_and_ids_in_range() -> None:
    first = zipf_trace(2_000, n_keys=500, seed=7)
    assert first == zipf_trace(2_000, n_keys=500, seed=7)
    assert first.keys != zipf_trace(2_000, n_keys=500, seed=8).keys
    assert len(first) == 2_000
    assert set(first.keys) <= set(range(1, 501))
    assert sorted(first.hottest) == list(range(1, 501))


def test_zipf_head_gets_its_share() -> None:
    # s=1 over 1000 keys: the top 1% (10 keys) should get H(10)/H(1000), about 39% of requests.
    trace = zipf_trace(20_000, n_keys=1_000, s=1.0, write_ratio=0.0, seed=3)
    expected = zipf_head_share(1_000, 1.0, 10)
    assert expected == pytest.approx(0.3913, abs=1e-3)
    head = set(trace.hottest[:10])
    observed = sum(1 for key in trace.keys if key in head) / len(trace)
    assert observed == pytest.approx(expected, abs=0.02)
    counts = Counter(trace.keys)
    # Rank 1 is the most requested id, and about twice as popular as rank 2 (1/r^s).
    assert counts.most_common(1)[0][0] == trace.hottest[0]
    assert counts[trace.hottest[0]] / counts[trace.hottest[1]] == pytest.approx(2.0, rel=0.2)
    # s=0 is uniform: no head at all.
    assert zipf_head_share(1_000, 0.0, 10) == pytest.approx(0.01)


def test_write_ratio() -> None:
    trace = zipf_trace(20_000, n_keys=1_000, write_ratio=0.05, seed=5)
    assert sum(trace.writes) / len(trace) == pytest.approx(0.05, abs=0.006)
    assert trace.read_count == len(trace) - sum(trace.writes)
    assert not any(zipf_trace(1_000, n_keys=100, write_ratio=0.0).writes)


def test_ideal_counts_first_touches_and_reads_after_writes() -> None:
    #        read 1  read 1  read 2  write 1  read 1  read 2  write 3  read 3
    trace = _trace([1, 1, 2, 1, 1, 2, 3, 3], [False, False, False, True, False, False, True, False])
    assert ideal_read_misses(trace, writes_fill=False) == [True, False, True, False, True, False, False, True]
    # Write-through stores on write: the read after a write hits, and so does a read of a key only written.
    assert ideal_read_misses(trace, writes_fill=True) == [True, False, True, False, False, False, False, False]


def test_ideal_without_writes_is_the_distinct_keys() -> None:
    trace = zipf_trace(5_000, n_keys=2_000, write_ratio=0.0, seed=11)
    assert sum(ideal_read_misses(trace, writes_fill=False)) == len(set(trace.keys))


@pytest.mark.parametrize("capacity", [1, 10, 100, 1_000])
def test_ideal_is_a_lower_bound(capacity: int) -> None:
    trace = zipf_trace(5_000, n_keys=1_000, write_ratio=0.05, seed=13)
    ideal = ideal_read_misses(trace, writes_fill=False)
    lru = lru_read_misses(trace, capacity)
    assert sum(ideal) <= sum(lru)
    # Every window, not only the total: a bounded cache never beats the unbounded one.
    for best, real in zip(windows(trace.writes, ideal, 500), windows(trace.writes, lru, 500), strict=True):
        assert best.misses <= real.misses
    assert sum(ideal_read_misses(trace, writes_fill=True)) <= sum(ideal)


def test_lru_as_large_as_the_key_space_is_the_ideal() -> None:
    trace = zipf_trace(3_000, n_keys=300, write_ratio=0.05, seed=17)
    assert lru_read_misses(trace, 300) == ideal_read_misses(trace, writes_fill=False)
    assert lru_read_misses(trace, 300, writes_fill=True) == ideal_read_misses(trace, writes_fill=True)


def test_window_stats() -> None:
    writes = [False, True, False, False]
    misses = [True, False, False, True]
    whole = window_stats(writes, misses)
    assert (whole.reads, whole.misses) == (3, 2)
    assert whole.hit_ratio == pytest.approx(1 / 3)
    assert [w.end for w in windows(writes, misses, 3)] == [3, 4]
    assert window_stats([True], [False]).hit_ratio == 1.0


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="write_ratio"):
        zipf_trace(10, write_ratio=1.5)
    with pytest.raises(ValueError, match="n_keys"):
        zipf_trace(10, n_keys=0)
    with pytest.raises(ValueError, match="capacity"):
        lru_read_misses(_trace([1], [False]), 0)
