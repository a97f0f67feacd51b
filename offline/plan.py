"""The offline plan: run a stack file through the mock cloud and show what `pulumi up` would create.

    python -m offline.plan [STACK] [--preview] [-c KEY=VALUE] [--counts] [--outputs] [--policy-report]
                           [--cost] [--assume KEY=VALUE] [--assumptions FILE] [--out DIR] [--previous PLAN]
                           [--summary-file PATH]

Prints the resource tree as ``pulumi preview`` does and a short summary (resources, what happens to
the data stores, policy results, outputs, estimated monthly cost), writes the plan as JSON and the
architecture diagram as Mermaid, and runs the policy pack over the plan the way ``pulumi preview
--policy-pack policies/guardrails --policy-pack-config policies/guardrails/<stack>.json`` does.
``--preview`` shows what a pull request's ``pulumi preview`` sees: every value AWS computes (IDs, ARNs,
DNS names) is unknown, and policies that read one are reported as not checked until ``pulumi up``.
Without it the plan is a simulated ``up``, with the values the mock cloud answers.

The summary says which resources that hold data (the database, the cache, repositories, KMS keys)
this plan would replace or delete compared with the previous plan of the stack (``--previous``, by
default the plan file the last run wrote), and which settings did it (offline/replacements.py). The
cost is priced from the dated table in ``offline/pricing/`` for the stack's ``aws:region``
(docs/cost.md); ``--cost`` prints every charge, and ``--assume`` / ``--assumptions`` change the usage
it assumes (requests, GB, log volume) for this run. Exits 1 on a mandatory policy violation, 2 on a
config error. No cloud account, Pulumi CLI or Docker engine is needed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any, Final

import yaml

from mockcloud.runner import PROJECT_DIR, StackConfigError, close_event_loop, committed_stacks, run_stack
from offline import replacements
from offline.cost.estimate import AssumptionError, estimate, overrides_from_mapping, parse_overrides
from offline.cost.table import COMMON_FILE, PRICING_DIR, PriceTableError, load_common_assumptions
from offline.diagram import mermaid
from offline.plan_output import Sections, markdown_summary, plan_document, render
from offline.policy.pack import analyze_stack_run
from offline.policy.render import markdown_report
from stack.settings import ConfigError

EXIT_OK: Final = 0
EXIT_POLICY_VIOLATION: Final = 1
EXIT_CONFIG_ERROR: Final = 2


def _parser(stacks: list[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m offline.plan",
        description=(__doc__ or "").split("\n\n")[0],
        epilog=(
            "The tree and the summary are always printed; the other sections on request. "
            "Prices and assumptions: offline/pricing/ and docs/cost.md."
        ),
    )
    parser.add_argument("stack", nargs="?", default="dev", help=f"stack file to plan: {', '.join(stacks)}")
    parser.add_argument(
        "--preview", action="store_true",
        help="what a pull request's `pulumi preview` sees: values AWS computes are unknown",
    )  # fmt: skip
    parser.add_argument(
        "-c", "--config", action="append", default=[], metavar="KEY=VALUE",
        help="override a stack setting for this plan only (like `pulumi config set`); repeatable",
    )  # fmt: skip
    parser.add_argument("--counts", action="store_true", help="also print the number of resources per type")
    parser.add_argument("--outputs", action="store_true", help="also print every stack output's value")
    parser.add_argument(
        "--policy-report", action="store_true",
        help="also print the full policy report (by level and policy; what is not checked at preview)",
    )  # fmt: skip
    parser.add_argument(
        "--cost", action="store_true",
        help="also print the full cost estimate (every charge, unpriced charges, assumptions, price sources)",
    )  # fmt: skip
    parser.add_argument(
        "--assume", action="append", default=[], metavar="KEY=VALUE",
        help=f"override a usage assumption of the estimate (keys: offline/pricing/{COMMON_FILE}); repeatable",
    )  # fmt: skip
    parser.add_argument(
        "--assumptions", type=Path, metavar="FILE",
        help="a YAML mapping of assumption keys to numbers (applied before --assume)",
    )  # fmt: skip
    parser.add_argument("--out", type=Path, default=PROJECT_DIR / "build", help="where to write JSON and diagram")
    parser.add_argument(
        "--previous", type=Path, metavar="PLAN",
        help="the plan JSON to compare with for replaced data stores (default: the plan file this run replaces)",
    )  # fmt: skip
    parser.add_argument("--summary-file", type=Path, help="append a Markdown summary (e.g. $GITHUB_STEP_SUMMARY)")
    return parser


def main(argv: list[str] | None = None) -> int:
    stacks = committed_stacks()
    args = _parser(stacks).parse_args(argv)
    if args.stack not in stacks:
        print(
            f"error: unknown stack {args.stack!r}; committed stack files: {', '.join(stacks)}",
            file=sys.stderr,
        )
        return EXIT_CONFIG_ERROR

    overrides: dict[str, Any] = {}
    for item in args.config:
        key, sep, value = item.partition("=")
        if not sep or not key:
            print(f"error: --config {item!r}: expected KEY=VALUE", file=sys.stderr)
            return EXIT_CONFIG_ERROR
        overrides[key] = value
    try:
        assumptions = _assumptions(args.assumptions, args.assume)
    except (AssumptionError, PriceTableError, OSError, yaml.YAMLError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_CONFIG_ERROR
    started = time.perf_counter()
    try:
        run = run_stack(args.stack, preview=args.preview, overrides=overrides)
    except (ConfigError, StackConfigError) as error:
        print(f"error: {error}", file=sys.stderr)
        print("nothing was planned: fix the stack setting and run again.", file=sys.stderr)
        if args.summary_file:
            with args.summary_file.open("a", encoding="utf-8") as summary:
                summary.write(f"## Offline plan: `{args.stack}`: config error\n\n`{error}`\n\nNothing was planned.\n")
        return EXIT_CONFIG_ERROR
    elapsed = time.perf_counter() - started
    try:
        cost = estimate(run, overrides=assumptions)
    except PriceTableError as error:
        print(f"error: the price table is malformed: {error}", file=sys.stderr)
        return EXIT_CONFIG_ERROR

    args.out.mkdir(parents=True, exist_ok=True)
    plan_file = args.out / f"plan-{args.stack}.json"
    diagram_file = args.out / f"architecture-{args.stack}.mmd"
    document = plan_document(run, cost)
    data = _compare_with_previous(args.previous or plan_file, document)
    plan_file.write_text(json.dumps(document, indent=2, default=str) + "\n", encoding="utf-8")
    diagram_file.write_text(mermaid(run), encoding="utf-8")

    report = analyze_stack_run(run, args.stack)
    sections = Sections(counts=args.counts, outputs=args.outputs, policy_report=args.policy_report, cost=args.cost)
    print(
        render(
            run, report, sections=sections, files=(plan_file, diagram_file), elapsed=elapsed, estimate=cost, data=data
        )
    )
    if args.summary_file:
        with args.summary_file.open("a", encoding="utf-8") as summary:
            summary.write(markdown_summary(run, markdown_report(report), cost, data))
    return EXIT_OK if report.passed else EXIT_POLICY_VIOLATION


def _assumptions(path: Path | None, items: list[str]) -> dict[str, float]:
    """The run's assumption overrides: the file's, then each ``--assume`` (a later one wins)."""
    declared = load_common_assumptions(PRICING_DIR)
    overrides: dict[str, float] = {}
    if path is not None:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        overrides.update(overrides_from_mapping(data, declared, f"--assumptions {path}"))
    overrides.update(parse_overrides(items, declared))
    return overrides


def _compare_with_previous(path: Path, document: dict[str, Any]) -> replacements.Comparison:
    """The comparison with the plan at ``path`` (none when there is no file; a note when it is unreadable)."""
    shown = str(path.relative_to(PROJECT_DIR)) if path.is_absolute() and path.is_relative_to(PROJECT_DIR) else str(path)
    if not path.exists():
        return replacements.Comparison(previous=None)
    try:
        previous = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        return replacements.Comparison(previous=shown, problem=f"{shown} is unreadable: {error}")
    # A plan is JSON-serialized with default=str; compare like with like.
    return replacements.compare(previous, json.loads(json.dumps(document, default=str)), source=shown)


if __name__ == "__main__":
    try:
        code = main()
    finally:
        close_event_loop()
    sys.exit(code)
