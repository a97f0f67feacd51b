"""PNG plots of the results (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.axes import Axes

COLOURS = {
    "cache-aside": "#1f77b4",
    "read-through": "#ff7f0e",
    "write-through": "#2ca02c",
}


def _save(fig: Any, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def db_load(result: dict[str, Any], out: Path) -> Path:
    """Hit ratio per window for each strategy against the ideal; steady-state shares as bars."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5), gridspec_kw={"width_ratios": [2, 1]})
    window = result["window_requests"]
    # The ideal curves first, wide and pale, so the measured lines on top of them stay visible.
    for strategy, series in result["ideal_windows"].items():
        if strategy == "read-through":
            continue  # the same ideal as cache-aside
        label = "ideal (write-through)" if strategy == "write-through" else "ideal (delete on write)"
        xs = [min((i + 1) * window, result["trace"]["requests"]) for i in range(len(series))]
        colour = COLOURS["write-through"] if strategy == "write-through" else "black"
        left.plot(xs, series, color=colour, linewidth=6, alpha=0.18, label=label)
    for run in result["strategies"]:
        xs = [w["end"] for w in run["windows"]]
        left.plot(
            xs,
            [w["hit_ratio"] for w in run["windows"]],
            label=run["strategy"],
            color=COLOURS.get(run["strategy"]),
            linewidth=1.2,
            linestyle="--" if run["strategy"] == "read-through" else "-",
        )
    left.axvline(result["warmup_requests"], color="grey", linewidth=0.8)
    left.text(result["warmup_requests"], 0.02, " warm-up ends", color="grey", fontsize=8)
    left.set_xlabel("requests")
    left.set_ylabel(f"hit ratio of reads (per {window} requests)")
    left.set_ylim(0, 1)
    left.set_title("Zipf s=1.0 over 100k products, 5% writes")
    left.legend(fontsize=8, loc="lower right")
    left.grid(alpha=0.3)

    names = [run["strategy"] for run in result["strategies"]]
    measured = [100 * run["avoided"] for run in result["strategies"]]
    ideal = [100 * run["ideal_avoided"] for run in result["strategies"]]
    xs_bar = range(len(names))
    right.bar(
        [x - 0.2 for x in xs_bar], measured, width=0.4, label="measured", color=[COLOURS.get(n, "grey") for n in names]
    )
    right.bar([x + 0.2 for x in xs_bar], ideal, width=0.4, label="ideal", color="lightgrey", edgecolor="black")
    for x, m, i in zip(xs_bar, measured, ideal, strict=True):
        right.text(x - 0.2, m + 1, f"{m:.1f}", ha="center", fontsize=8)
        right.text(x + 0.2, i + 1, f"{i:.1f}", ha="center", fontsize=8)
    right.set_xticks(list(xs_bar), names, fontsize=8)
    right.set_ylabel("% of database reads avoided (steady state)")
    right.set_ylim(0, 100)
    right.set_title("after warm-up")
    right.legend(fontsize=8, loc="lower right")
    return _save(fig, out)


def eviction(result: dict[str, Any], out: Path) -> Path:
    """Steady-state hit ratio per policy (bars) and over time (lines)."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    labels = [p["label"] for p in result["policies"]] + list(result["references"])
    values = [100 * p["steady_hit_ratio"] for p in result["policies"]]
    values += [100 * r["steady_hit_ratio"] for r in result["references"].values()]
    colours = ["#1f77b4", "#9467bd", "#2ca02c", "#d62728"] + ["lightgrey"] * len(result["references"])
    bars = left.barh(range(len(labels)), values, color=colours[: len(labels)], edgecolor="black", linewidth=0.5)
    for bar, value in zip(bars, values, strict=True):
        left.text(value + 0.5, bar.get_y() + bar.get_height() / 2, f"{value:.1f}%", va="center", fontsize=8)
    left.set_yticks(range(len(labels)), labels, fontsize=8)
    left.invert_yaxis()
    left.set_xlim(0, 100)
    left.set_xlabel("hit ratio of reads after warm-up (%)")
    mib = result["maxmemory"] / 2**20
    left.set_title(f"maxmemory {mib:.1f} MiB = 20% of the working set", fontsize=10)

    window = result["window_requests"]
    for colour, policy in zip(colours, result["policies"], strict=False):
        xs = [(i + 1) * window for i in range(len(policy["windows"]))]
        right.plot(xs, policy["windows"], label=policy["label"], color=colour, linewidth=1.2)
    for label, ref in result["references"].items():
        xs = [(i + 1) * window for i in range(len(ref["windows"]))]
        right.plot(
            xs, ref["windows"], label=label, color="black", linewidth=0.9, linestyle="--" if "LRU" in label else ":"
        )
    right.axvline(result["warmup_requests"], color="grey", linewidth=0.8)
    right.set_ylim(0, 1)
    right.set_xlabel("requests")
    right.set_ylabel(f"hit ratio (per {window} requests)")
    right.legend(fontsize=7, loc="upper center", ncol=3)
    right.grid(alpha=0.3)
    return _save(fig, out)


def stampede(result: dict[str, Any], out: Path) -> Path:
    """Database queries and wall time for 100 concurrent requests on one cold key."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    names = list(result["variants"])
    queries = [result["variants"][n]["db_queries_median"] for n in names]
    walls = [result["variants"][n]["wall_ms_median"] for n in names]
    errors = [result["variants"][n]["errors_total"] for n in names]
    rounds = len(result["variants"][names[0]]["rounds"]) if names else 0
    colours = ["#2ca02c", "#98df8a", "#d62728", "#9467bd"]
    _hbar(left, names, queries, colours, "database queries (median of rounds)", "{:.0f}")
    _hbar(right, names, walls, colours, "wall time for all 100 (ms, median)", "{:.0f} ms")
    for i, e in enumerate(errors):
        if e:
            right.text(
                walls[i] * 0.5,
                i,
                f"{e} failed (503) in {rounds} rounds",
                va="center",
                ha="center",
                fontsize=8,
                color="white",
            )
    right.set_yticks(range(len(names)), [""] * len(names))
    fig.suptitle(
        f"100 concurrent requests for one cold category summary (origin ≈ {result['origin_ms_median']:.0f} ms)",
        fontsize=10,
    )
    return _save(fig, out)


def _hbar(ax: Axes, names: list[str], values: list[float], colours: list[str], xlabel: str, fmt: str) -> None:
    bars = ax.barh(range(len(names)), values, color=colours[: len(names)], edgecolor="black", linewidth=0.5)
    top = max(values) if values else 1
    for bar, value in zip(bars, values, strict=True):
        ax.text(value + top * 0.01, bar.get_y() + bar.get_height() / 2, fmt.format(value), va="center", fontsize=8)
    ax.set_yticks(range(len(names)), names, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, top * 1.2)
    ax.set_xlabel(xlabel)


def http(result: dict[str, Any], out: Path) -> Path:
    """Throughput (log scale) and p50/p99 latency per endpoint."""
    rows = result["endpoints"]
    names = list(rows)
    labels = [rows[n]["label"] for n in names]
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    colours = [
        "#c7c7c7" if rows[n]["label"].startswith("bare") else ("#2ca02c" if "hit" in n else "#d62728") for n in names
    ]
    rps = [rows[n]["rps"] for n in names]
    bars = left.barh(range(len(names)), rps, color=colours, edgecolor="black", linewidth=0.5)
    for bar, value in zip(bars, rps, strict=True):
        left.text(value * 1.05, bar.get_y() + bar.get_height() / 2, f"{value:,.0f}", va="center", fontsize=8)
    left.set_xscale("log")
    left.set_xlim(min(rps) / 2, max(rps) * 4)
    left.set_yticks(range(len(names)), labels, fontsize=8)
    left.invert_yaxis()
    left.set_xlabel("requests/s (one worker, log scale)")
    p50 = [rows[n]["p50_ms"] for n in names]
    p99 = [rows[n]["p99_ms"] for n in names]
    ys = list(range(len(names)))
    right.scatter(p50, ys, label="p50", marker="o", color="black")
    right.scatter(p99, ys, label="p99", marker="x", color="#d62728")
    for y, lo, hi in zip(ys, p50, p99, strict=True):
        right.plot([lo, hi], [y, y], color="grey", linewidth=0.8)
    right.set_xscale("log")
    right.set_yticks(ys, [""] * len(ys))
    right.invert_yaxis()
    right.set_xlabel("latency (ms, log scale)")
    right.legend(fontsize=8)
    right.grid(alpha=0.3, axis="x")
    fig.suptitle(f"{result['server']}; {result['load_generator']}", fontsize=9)
    return _save(fig, out)


def outage(result: dict[str, Any], out: Path) -> Path:
    """Successful and failed responses per second through the outage, with Redis down and breaker open shaded."""
    fig, ax = plt.subplots(figsize=(10, 4))
    run = result["outage"]
    ok = dict(run["ok_per_second"])
    bad = dict(run["failed_per_second"])
    times = sorted(set(ok) | set(bad))
    seconds = times or [0.0]
    ax.plot(times, [ok.get(t, 0) for t in times], marker="o", markersize=2.5, label="2xx responses/s (per 0.5 s)")
    ax.plot(
        times, [bad.get(t, 0) for t in times], marker="x", markersize=3, color="#d62728", label="non-2xx responses/s"
    )
    base = result["baseline"]["rps"]
    ax.axhline(base, color="grey", linestyle="--", linewidth=0.8, label=f"baseline {base:,.0f}/s")
    events = result["events_s"]
    if events["redis_stopped"] is not None:
        end = events["redis_restarted"] if events["redis_restarted"] is not None else seconds[-1]
        ax.axvspan(events["redis_stopped"], end, color="#d62728", alpha=0.12, label="Redis stopped")
    opened = None
    for at, state in events["breaker"]:
        if state != "closed" and opened is None:
            opened = at
        elif state == "closed" and opened is not None:
            ax.axvspan(opened, at, ymin=0, ymax=0.06, color="black", alpha=0.5)
            opened = None
    if opened is not None:
        ax.axvspan(opened, seconds[-1], ymin=0, ymax=0.06, color="black", alpha=0.5)
    ax.plot([], [], color="black", alpha=0.5, linewidth=6, label="breaker open / half-open")
    ax.set_xlabel("seconds since the load started (the first and last half-seconds are partial)")
    ax.set_ylabel("responses per second")
    ax.set_ylim(bottom=0)
    ax.set_title(
        f"Redis outage under load: {result['failed_requests']} failed requests, "
        f"p99 {result['baseline']['p99_ms']:.1f} -> {result['outage']['p99_ms']:.1f} ms",
        fontsize=10,
    )
    ax.legend(fontsize=8, loc="lower left")
    ax.grid(alpha=0.3)
    return _save(fig, out)


def hit_path(result: dict[str, Any], out: Path) -> Path:
    """req/s of the hit path beside the bare baselines."""
    rows = list(result["endpoints"].values())
    fig, ax = plt.subplots(figsize=(9, 4))
    colours = ["#7f7f7f" if row["label"].startswith("bare") else "#1f77b4" for row in rows]
    _hbar(
        ax,
        [row["label"] for row in rows],
        [row["rps"] for row in rows],
        colours,
        "req/s (one uvicorn worker)",
        "{:,.0f}",
    )
    ax.set_title("Hit path vs bare ASGI baselines")
    return _save(fig, out)


def engines(result: dict[str, Any], out: Path) -> Path:
    """Valkey vs Memcached: DB reads avoided, evictions, hit-path req/s."""
    names = list(result["engines"])
    data = result["engines"]
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    panels = (
        ("DB reads avoided", [100 * data[n]["db_reads_avoided"] for n in names], "{:.1f}%"),
        ("evictions", [data[n]["evictions"] for n in names], "{:,.0f}"),
        ("hit path req/s", [data[n]["hit_path"]["rps"] for n in names], "{:,.0f}"),
    )
    for ax, (title, values, fmt) in zip(axes, panels, strict=True):
        _hbar(ax, names, values, ["#d62728", "#2ca02c"][: len(names)], title, fmt)
    fig.suptitle(f"Valkey vs Memcached at {result['budget_mb']} MB, same trace")
    return _save(fig, out)
