"""Eviction policies: hit ratio of a Redis capped at 20% of the trace's working set, one private server per policy.

Each request of the trace is one pipelined EVALSHA of a small script that does what the app does to
an entry: a read GETs the key and, on a miss, SETs a value of the app's mean entry size (with the
app's TTL, 300 s ± 10%, or without one); a write deletes the key (invalidate on write). Key names
are the app's. The working set is what an unbounded Redis holds after storing every key the trace
touches (used_memory above an empty server); `maxmemory` = empty server + 20% of that.

volatile-lru evicts only keys with a TTL: without TTLs nothing is evictable, so once memory is full
every new entry is refused with an OOM error (ElastiCache's default policy, see docs/benchmarks.md).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

import redis

from bench.ideal import ideal_read_misses, lru_read_misses, window_stats, windows
from bench.servers import PrivateRedis
from bench.trace import Trace

KEY_PREFIX = "catalog:v1:"
APP_TTL_MS = 300_000
APP_TTL_JITTER = 0.1
SHARE = 0.20
BATCH = 1000

# KEYS[1] entry; ARGV[1] 'r' | 'w', ARGV[2] value size, ARGV[3] ttl in ms ('0': none).
# Returns 1 hit, 0 miss stored, -1 miss refused (OOM), 2 write (deleted).
_ACCESS = """
if ARGV[1] == 'w' then
  redis.call('UNLINK', KEYS[1])
  return 2
end
if redis.call('GET', KEYS[1]) then return 1 end
local reply
if ARGV[3] == '0' then
  reply = redis.pcall('SET', KEYS[1], string.rep('x', tonumber(ARGV[2])))
else
  reply = redis.pcall('SET', KEYS[1], string.rep('x', tonumber(ARGV[2])), 'PX', ARGV[3])
end
if type(reply) == 'table' and reply.err then return -1 end
return 0
"""


@dataclass(frozen=True)
class Policy:
    """One configuration to measure."""

    label: str
    policy: str
    ttl: bool


POLICIES = (
    Policy("allkeys-lru", "allkeys-lru", ttl=True),
    Policy("allkeys-lfu", "allkeys-lfu", ttl=True),
    Policy("volatile-lru (TTLs)", "volatile-lru", ttl=True),
    Policy("volatile-lru (no TTLs)", "volatile-lru", ttl=False),
)


def _key(product_id: int) -> str:
    return f"{KEY_PREFIX}{{product:{product_id}}}"


def _replay(client: redis.Redis, trace: Trace, size: int, *, ttl: bool, seed: int) -> list[int]:
    """Run the trace through the script, `BATCH` requests per pipeline; one result code per request."""
    sha = client.script_load(_ACCESS)
    rng = random.Random(seed)  # noqa: S311 - TTL jitter, as the app draws it
    codes: list[int] = []
    for lo in range(0, len(trace), BATCH):
        pipe = client.pipeline(transaction=False)
        for i in range(lo, min(lo + BATCH, len(trace))):
            expire = int(APP_TTL_MS * (1 + rng.uniform(-APP_TTL_JITTER, APP_TTL_JITTER))) if ttl else 0
            pipe.evalsha(sha, 1, _key(trace.keys[i]), "w" if trace.writes[i] else "r", size, expire)
        codes.extend(int(reply) if isinstance(reply, int) else -1 for reply in pipe.execute(raise_on_error=False))
    return codes


def _used_memory(client: redis.Redis) -> int:
    info: dict[str, Any] = client.info("memory")
    return int(info["used_memory"])


def measure_working_set(trace: Trace, size: int) -> dict[str, int]:
    """Bytes an unbounded Redis needs for every key the trace touches (with TTLs, as the app stores them)."""
    with PrivateRedis() as server:
        client = server.client()
        try:
            client.script_load(_ACCESS)
            empty = _used_memory(client)
            distinct = sorted(set(trace.keys))
            rng = random.Random(0)  # noqa: S311
            for lo in range(0, len(distinct), BATCH):
                pipe = client.pipeline(transaction=False)
                for product_id in distinct[lo : lo + BATCH]:
                    ttl = int(APP_TTL_MS * (1 + rng.uniform(-APP_TTL_JITTER, APP_TTL_JITTER)))
                    pipe.set(_key(product_id), b"x" * size, px=ttl)
                pipe.execute()
            full = _used_memory(client)
        finally:
            client.close()
    return {"keys": len(distinct), "empty_used_memory": empty, "working_set_bytes": full - empty}


def run(trace: Trace, *, entry_bytes: int, warmup: int, window: int) -> dict[str, Any]:
    """Every policy on the same trace, plus exact-LRU and unbounded references."""
    working_set = measure_working_set(trace, entry_bytes)
    maxmemory = working_set["empty_used_memory"] + int(SHARE * working_set["working_set_bytes"])
    results: list[dict[str, Any]] = []
    for policy in POLICIES:
        server = PrivateRedis(maxmemory=maxmemory, policy=policy.policy)
        with server:
            client = server.client()
            try:
                codes = _replay(client, trace, entry_bytes, ttl=policy.ttl, seed=trace.seed)
                info: dict[str, Any] = client.info("all")
                resident = int(client.dbsize())
            finally:
                client.close()
        misses = [code in (0, -1) for code in codes]
        steady = window_stats(trace.writes, misses, warmup)
        results.append(
            {
                "label": policy.label,
                "policy": policy.policy,
                "ttl": policy.ttl,
                "steady_hit_ratio": round(steady.hit_ratio, 4),
                "whole_trace_hit_ratio": round(window_stats(trace.writes, misses).hit_ratio, 4),
                "refused_writes": sum(1 for code in codes if code == -1),
                "evicted_keys": int(info.get("evicted_keys", 0)),
                "resident_keys": resident,
                "used_memory": int(info["used_memory"]),
                "windows": [round(w.hit_ratio, 4) for w in windows(trace.writes, misses, window)],
            }
        )
        print(
            f"  {policy.label:<24} hit ratio {100 * steady.hit_ratio:5.1f}%  resident {resident:6d}  "
            f"refused {results[-1]['refused_writes']}",
            flush=True,
        )
    lru_capacity = max(1, results[0]["resident_keys"])
    references = {}
    for label, misses in (
        (f"exact LRU, {lru_capacity} entries", lru_read_misses(trace, lru_capacity)),
        ("unbounded (ideal)", ideal_read_misses(trace, writes_fill=False)),
    ):
        references[label] = {
            "steady_hit_ratio": round(window_stats(trace.writes, misses, warmup).hit_ratio, 4),
            "windows": [round(w.hit_ratio, 4) for w in windows(trace.writes, misses, window)],
        }
    return {
        "share_of_working_set": SHARE,
        "entry_bytes": entry_bytes,
        "working_set": working_set,
        "maxmemory": maxmemory,
        "warmup_requests": warmup,
        "window_requests": window,
        "policies": results,
        "references": references,
    }
