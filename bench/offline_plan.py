"""Benchmark: wall time of the offline plan, as a user runs it (a fresh process each time).

    uv run python -m bench.offline_plan [--stack prod] [--runs 5]

Prints min / median / max and writes bench/results/offline_plan.json. Target: prod under 5 s on a
2-core machine. A figure, not a test: timings here are noisy, so it reports several runs.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_SECONDS = 5.0


def measure(stack: str, runs: int) -> list[float]:
    times: list[float] = []
    with tempfile.TemporaryDirectory() as out:
        for _ in range(runs):
            started = time.perf_counter()
            subprocess.run(  # noqa: S603 (our own interpreter and module)
                [sys.executable, "-m", "offline.plan", stack, "--out", out],
                cwd=ROOT, check=True, stdout=subprocess.DEVNULL,
            )  # fmt: skip
            times.append(time.perf_counter() - started)
    return times


def run(stack: str = "prod", runs: int = 5, results_dir: Path | None = None) -> dict[str, object]:
    """Measure, print the one-line figure, write offline_plan.json (default: bench/results/) and return it."""
    times = measure(stack, runs)
    result: dict[str, object] = {
        "stack": stack,
        "runs": len(times),
        "min_s": round(min(times), 3),
        "median_s": round(statistics.median(times), 3),
        "max_s": round(max(times), 3),
        "target_s": TARGET_SECONDS,
        "meets_target": statistics.median(times) < TARGET_SECONDS,
    }
    print(
        f"offline plan ({stack}), {len(times)} fresh processes: min {result['min_s']:.2f} s, "
        f"median {result['median_s']:.2f} s, max {result['max_s']:.2f} s "
        f"(target < {TARGET_SECONDS:.0f} s: {'met' if result['meets_target'] else 'MISSED'})"
    )
    results = results_dir or ROOT / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    (results / "offline_plan.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stack", default="prod")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    run(args.stack, args.runs)


if __name__ == "__main__":
    main()
