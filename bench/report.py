"""Markdown tables of a run, printed by the runner and written into docs/benchmarks.md between markers."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

BEGIN = "<!-- BEGIN generated:bench-results -->"
END = "<!-- END generated:bench-results -->"


def _pct(value: float) -> str:
    return f"{100 * value:.1f}%"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return [*lines, ""]


def _yes(met: bool | None) -> str:
    return "n/a" if met is None else ("**met**" if met else "**missed**")


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target of issue 9 with what this run measured."""
    rows: list[dict[str, Any]] = []
    db = results.get("db_load")
    if db:
        for run in db["strategies"]:
            rows.append(
                {
                    "target": f"DB reads avoided within 2 points of the ideal ({run['strategy']})",
                    "measured": f"{_pct(run['avoided'])} vs ideal {_pct(run['ideal_avoided'])} "
                    f"(gap {run['gap_points']:.2f} points)",
                    "met": run["gap_points"] <= 2.0,
                }
            )
        best = max(run["avoided"] for run in db["strategies"])
        rows.append(
            {
                "target": "worklog claim: 70% of DB reads avoided",
                "measured": f"{_pct(best)} at best; the ideal for this trace is "
                f"{_pct(db['strategies'][0]['ideal_avoided'])} (delete on write)",
                "met": None,
            }
        )
    http = results.get("http")
    if http:
        ratios = http["ratios"]
        rows.append(
            {
                "target": "cache-hit path >= 0.9x the bare one-GET endpoint",
                "measured": f"{ratios['hit_vs_one_get']:.2f}x",
                "met": http["targets"]["hit_vs_one_get"]["met"],
            }
        )
        rows.append(
            {
                "target": "expensive read >= 3x with the cache than without",
                "measured": f"{ratios['summary_cache_vs_db']:.0f}x",
                "met": http["targets"]["summary_cache_vs_db"]["met"],
            }
        )
    stampede = results.get("stampede")
    if stampede:
        ours = stampede["variants"]["project, one task"]
        rows.append(
            {
                "target": "stampede: 100 concurrent cold requests -> 1 DB query (project's protection)",
                "measured": f"{ours['db_queries_median']} query, {ours['wall_ms_median']:.0f} ms",
                "met": ours["db_queries_median"] == 1 and ours["errors_total"] == 0,
            }
        )
    outage = results.get("outage")
    if outage:
        rows.append(
            {
                "target": "Redis outage under load: no failed requests",
                "measured": f"{outage['failed_requests']} failed, p99 +{outage['added_p99_ms']:.1f} ms",
                "met": outage["failed_requests"] == 0,
            }
        )
    hit = results.get("hit_path")
    if hit:
        ratios = hit["ratios"]
        rows.append(
            {
                "target": "near-cache hit >= 0.5x the bare ASGI no-I/O app (issue 18)",
                "measured": f"{ratios['near_vs_bare_noop']:.2f}x",
                "met": hit["targets"]["near_vs_bare_noop"]["met"],
            }
        )
        rows.append(
            {
                "target": "Redis hit (near cache off) >= 0.8x the bare ASGI one-GET app (issue 18)",
                "measured": f"{ratios['remote_vs_bare_get']:.2f}x",
                "met": hit["targets"]["remote_vs_bare_get"]["met"],
            }
        )
    stale = results.get("staleness")
    if stale:
        steady = stale["steady"]
        rows.append(
            {
                "target": "staleness in another process after an acknowledged write: p99 <= 50 ms",
                "measured": f"p50 {steady['p50_ms']} ms, p99 {steady['p99_ms']} ms, max {steady['max_ms']} ms "
                f"over {steady['writes']} writes",
                "met": stale["targets"]["p99_ms"]["met"],
            }
        )
        rows.append(
            {
                "target": "0 stale reads in the writing process (steady and with Redis paused)",
                "measured": f"{steady['stale_reads_in_writer']} + {stale['paused']['stale_reads_in_writer']}",
                "met": stale["targets"]["stale_reads_in_writer"]["met"],
            }
        )
        rows.append(
            {
                "target": "Redis paused: no stale read beyond the flush that Redis itself did not hold",
                "measured": f"{stale['paused']['stale_reads_in_other_after_flush_deadline_not_in_redis']} "
                f"(stale after the deadline in all: {stale['paused']['stale_reads_in_other_after_flush_deadline']}; "
                f"control without near caches: {stale['paused_control']['stale_reads_in_other_after_flush_deadline']})",
                "met": stale["targets"]["stale_after_flush_from_near_cache"]["met"],
            }
        )
    plan = results.get("offline_plan")
    if plan:
        rows.append(
            {
                "target": f"offline plan of prod < {plan['target_s']:.0f} s (bench/offline_plan.py)",
                "measured": f"median {plan['median_s']:.2f} s",
                "met": plan["meets_target"],
            }
        )
    return rows


def markdown(results: dict[str, Any]) -> str:
    """Every section's table (sections that did not run are left out)."""
    env = results["environment"]
    out: list[str] = [
        f"Run of {env['finished_at']} on {env['cpus']} CPUs ({env['platform']}), "
        f"`make bench` wall time {env['total_seconds']:.0f} s; load average before/after: "
        f"{env['loadavg_before']} / {env['loadavg_after']}. Versions: {env['versions']}.",
        "",
        "**Targets**",
        "",
    ]
    out += _table(
        ["target", "measured", "verdict"], [[t["target"], t["measured"], _yes(t["met"])] for t in targets(results)]
    )

    db = results.get("db_load")
    if db:
        trace = db["trace"]
        out += [
            f"**Database load** — {trace['requests']:,} requests (Zipf s={trace['s']} over {trace['keys']:,} products, "
            f"{trace['writes']:,} writes = {_pct(trace['writes'] / trace['requests'])}, {trace['distinct_keys']:,} "
            f"distinct products), steady state = after the first {db['warmup_requests']:,} requests, "
            f"{db['concurrency']} concurrent workers in-process. Without a cache: "
            f"{db['no_cache']['statements_per_1000']:.0f} SQL statements per 1000 requests "
            f"({db['no_cache']['reads_per_1000']:.0f} reads + {db['no_cache']['statements_per_write']:.0f} per write).",
            "",
        ]
        out += _table(
            [
                "strategy",
                "DB reads avoided",
                "ideal",
                "gap (points)",
                "SQL statements / 1000 requests",
                "vs no cache",
                "in-process req/s",
                "errors",
            ],
            [
                [
                    run["strategy"],
                    _pct(run["avoided"]),
                    _pct(run["ideal_avoided"]),
                    f"{run['gap_points']:.2f}",
                    f"{run['statements_per_1000']:.0f}",
                    f"{run['statements_per_1000'] / db['no_cache']['statements_per_1000']:.2f}x",
                    f"{run['requests_per_second']:,.0f}",
                    str(run["errors"]),
                ]
                for run in db["strategies"]
            ],
        )
        longer = db.get("ideal_by_trace_length") or []
        if longer:
            out += [
                "The ideal is a property of the trace, not of the cache: the same workload over longer traces "
                "(computed, steady state = after the first third):",
                "",
            ]
            out += _table(
                ["trace length", "ideal avoided, delete on write", "ideal avoided, write-through"],
                [[f"{row['requests']:,}", _pct(row["delete_on_write"]), _pct(row["write_through"])] for row in longer],
            )

    ev = results.get("eviction")
    if ev:
        ws = ev["working_set"]
        out += [
            f"**Eviction** — working set {ws['keys']:,} keys = {ws['working_set_bytes'] / 2**20:.1f} MiB "
            f"({ev['entry_bytes']} B values, the app's mean entry), maxmemory {ev['maxmemory'] / 2**20:.2f} MiB "
            f"(20% of it plus an empty server's {ws['empty_used_memory'] / 2**20:.2f} MiB).",
            "",
        ]
        rows = [
            [
                p["label"],
                _pct(p["steady_hit_ratio"]),
                f"{p['resident_keys']:,}",
                f"{p['evicted_keys']:,}",
                f"{p['refused_writes']:,}",
            ]
            for p in ev["policies"]
        ]
        rows += [[f"*{label}*", _pct(r["steady_hit_ratio"]), "", "", ""] for label, r in ev["references"].items()]
        out += _table(["policy", "hit ratio (steady)", "keys resident", "evicted", "writes refused (OOM)"], rows)

    st = results.get("stampede")
    if st:
        out += [
            f"**Stampede** — {st['concurrency']} concurrent requests for one cold key ({st['key']}), "
            f"origin ≈ {st['origin_ms_median']:.0f} ms alone, database pool {st['database_pool_size']}; "
            "median of rounds.",
            "",
        ]
        out += _table(
            ["variant", "DB queries", "wall time", "failed requests (all rounds)"],
            [
                [name, f"{v['db_queries_median']}", f"{v['wall_ms_median']:.0f} ms", str(v["errors_total"])]
                for name, v in st["variants"].items()
            ],
        )

    http = results.get("http")
    if http:
        out += [f"**HTTP** — {http['server']}; {http['load_generator']}; median of {http['rounds']} rounds.", ""]
        out += _table(
            ["endpoint", "app", "req/s", "p50", "p99", "DB queries / request", "failed"],
            [
                [
                    f"{r['label']} (`{r['path']}`)",
                    r["app"],
                    f"{r['rps']:,.0f}",
                    f"{r['p50_ms']:.2f} ms",
                    f"{r['p99_ms']:.2f} ms",
                    f"{r['db_queries_per_request']:.2f}",
                    str(r["failed"]),
                ]
                for r in http["endpoints"].values()
            ],
        )
        ratios = http["ratios"]
        out += [
            f"Ratios: hit path / one-GET endpoint **{ratios['hit_vs_one_get']:.2f}x**; category summary with / "
            f"without cache **{ratios['summary_cache_vs_db']:.0f}x**; product read with / without cache "
            f"{ratios['product_cache_vs_db']:.2f}x; product read without cache / bare PK SELECT "
            f"{ratios['product_db_vs_bare_select']:.2f}x; one-GET endpoint / no-I/O endpoint "
            f"{ratios['one_get_vs_noop']:.2f}x.",
            "",
        ]

    outage = results.get("outage")
    if outage:
        ev_s = outage["events_s"]
        breaker = ", ".join(f"{state} at {at:.1f} s" for at, state in ev_s["breaker"])
        out += [
            f"**Redis outage** — product reads (`{outage['path']}`, warm cache), Redis stopped at "
            f"{ev_s['redis_stopped']} s and restarted empty at {ev_s['redis_restarted']} s; breaker: {breaker}.",
            "",
        ]
        out += _table(
            ["run", "requests", "req/s", "p50", "p99", "max", "failed"],
            [
                [
                    name,
                    f"{run['requests']:,}",
                    f"{run['rps']:,.0f}",
                    f"{run['p50_ms']:.2f} ms",
                    f"{run['p99_ms']:.2f} ms",
                    f"{run['max_ms']:.0f} ms",
                    str(run["failed"]),
                ]
                for name, run in (("baseline (no outage)", outage["baseline"]), ("with outage", outage["outage"]))
            ],
        )
        out += [
            f"Added p99: **{outage['added_p99_ms']:+.1f} ms**; failed requests: **{outage['failed_requests']}**; "
            f"Redis errors seen by the app: {outage['cache_errors']}; reads that bypassed the cache: "
            f"{outage['bypassed_reads']:,}; database queries during the run: {outage['database_queries']:,}.",
            "",
        ]
        if http and "p99_ms_range" in http["endpoints"]["product_hit"]:
            low, high = http["endpoints"]["product_hit"]["p99_ms_range"]
            out += [
                f"For scale: the p99 of the same cache-hit path ranged {low:.0f} to {high:.0f} ms across the HTTP "
                "section's rounds of this run.",
                "",
            ]

    hit = results.get("hit_path")
    if hit:
        out += [f"**Hit path against bare baselines** — {hit['server']}; {hit['load_generator']}.", ""]
        out += _table(
            ["endpoint", "req/s", "p50", "p99"],
            [
                [row["label"], f"{row['rps']:,.0f}", f"{row['p50_ms']:.2f} ms", f"{row['p99_ms']:.2f} ms"]
                for row in hit["endpoints"].values()
            ],
        )
        out += [
            "Ratios (median of per-round ratios): " + ", ".join(f"{k} {v:.2f}" for k, v in hit["ratios"].items()),
            "",
        ]
    stale = results.get("staleness")
    if stale:
        out += [
            f"**Cross-process staleness** — two app processes with near caches (heartbeat {stale['heartbeat_s']} s, "
            f"breaker reset {stale['breaker_reset_s']} s); staleness = acknowledgement to the other process's first "
            "fresh read (includes that read's own round trip).",
            "",
        ]
        out += _table(
            [
                "run",
                "writes",
                "p50",
                "p99",
                "max",
                "stale in writer",
                "stale in other",
                "after flush deadline",
                "of which not in Redis",
            ],
            [
                [
                    name,
                    str(run["writes"]),
                    f"{run['p50_ms']} ms",
                    f"{run['p99_ms']} ms",
                    f"{run['max_ms']} ms",
                    str(run["stale_reads_in_writer"]),
                    str(run.get("stale_reads_in_other", "")),
                    str(run.get("stale_reads_in_other_after_flush_deadline", "-")),
                    str(run.get("stale_reads_in_other_after_flush_deadline_not_in_redis", "-")),
                ]
                for name, run in (
                    ("steady, near cache on", stale["steady"]),
                    ("Redis paused, near cache on", stale["paused"]),
                    ("Redis paused, near cache off (control)", stale["paused_control"]),
                )
            ],
        )
    near = results.get("near_compare")
    if near:
        out += ["**Near cache vs cashews client_side** — " + near["note"] + ".", ""]
        out += _table(
            ["variant", "hit", "Redis read", "staleness p50", "p99", "max", "never fresh"],
            [
                [
                    name,
                    f"{v['hit_us']:.1f} us",
                    f"{v['redis_read_us']:.0f} us",
                    f"{v['staleness']['p50_ms']} ms",
                    f"{v['staleness']['p99_ms']} ms",
                    f"{v['staleness']['max_ms']} ms",
                    f"{v['staleness']['never_fresh']}/{v['staleness']['samples']}",
                ]
                for name, v in near["variants"].items()
            ],
        )
        out += [f"- {d}" for d in near["differences"]] + [""]
    engines = results.get("engines")
    if engines:
        out += [f"**Valkey vs Memcached** — {engines['budget_mb']} MB each, the same trace, near cache off.", ""]
        out += _table(
            [
                "engine",
                "DB reads avoided",
                "evictions",
                "items",
                "hit path req/s",
                "errors while down",
                "DB reads after restart",
            ],
            [
                [
                    name,
                    _pct(e["db_reads_avoided"]),
                    f"{e['evictions']:,}",
                    f"{e['items']:,}",
                    f"{e['hit_path']['rps']:,.0f}",
                    str(e["outage"]["errors_while_down"]),
                    f"{e['outage']['db_reads_of_first_reads_after_restart']}/{e['outage']['reads_while_down']}",
                ]
                for name, e in engines["engines"].items()
            ],
        )
    plan = results.get("offline_plan")
    if plan:
        out += [
            f"**Offline plan** — `python -m offline.plan {plan['stack']}`, {plan['runs']} fresh processes: "
            f"min {plan['min_s']:.2f} s, median {plan['median_s']:.2f} s, max {plan['max_s']:.2f} s.",
            "",
        ]
    if results.get("errors"):
        out += ["**Sections that failed:** " + "; ".join(f"{k}: {v}" for k, v in results["errors"].items()), ""]
    return "\n".join(out).rstrip() + "\n"


def update_doc(path: Path, body: str) -> bool:
    """Replace the generated block in `path`; False when the file or its markers are missing."""
    if not path.exists():
        return False
    text = path.read_text(encoding="utf-8")
    pattern = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END), re.DOTALL)
    if not pattern.search(text):
        return False
    path.write_text(pattern.sub(lambda _: f"{BEGIN}\n{body}{END}", text), encoding="utf-8")
    return True
