"""The offline plan: run a stack file through the mock cloud and show what `pulumi up` would create.

    python -m offline.plan [STACK] [--preview] [--out DIR] [--summary-file PATH]

Prints a preview-like resource tree, counts per type and the stack outputs (marked simulated), writes
the plan as JSON and the architecture diagram as Mermaid, then runs the policy pack over the plan the
way `pulumi preview --policy-pack policies/guardrails --policy-pack-config policies/guardrails/<stack>.json`
does and prints its report by enforcement level. Exits 1 on a mandatory policy violation, 2 on a config
error. No cloud account, Pulumi CLI or Docker engine is needed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any, Final

from google.protobuf import json_format, struct_pb2
from pulumi.runtime import rpc

from mockcloud.monitor import STACK_TYPE, CapturedResource
from mockcloud.runner import PROJECT_DIR, StackRun, close_event_loop, committed_stacks, run_stack
from offline.diagram import mermaid
from offline.policy.pack import analyze_stack_run
from offline.policy.render import format_report, markdown_report
from stack.settings import ConfigError

EXIT_OK: Final = 0
EXIT_POLICY_VIOLATION: Final = 1
EXIT_CONFIG_ERROR: Final = 2

SECRET: Final = "[secret]"  # noqa: S105 (the mask shown instead of a secret)
UNKNOWN: Final = "[unknown]"


def short_type(type_: str) -> str:
    """``aws:ec2/vpc:Vpc`` -> ``aws:ec2:Vpc``, the form ``pulumi preview`` prints."""
    parts = type_.split(":")
    if len(parts) == 3 and "/" in parts[1]:
        return f"{parts[0]}:{parts[1].split('/')[0]}:{parts[2]}"
    return type_


def redact(value: Any) -> Any:
    """Wire-form value -> JSON-safe value with secrets and unknowns masked."""
    if isinstance(value, dict):
        if value.get(rpc._special_sig_key) == rpc._special_secret_sig:
            return SECRET
        return {k: redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    if value == rpc.UNKNOWN:
        return UNKNOWN
    return value


def _struct(struct: struct_pb2.Struct) -> Any:
    return redact(json_format.MessageToDict(struct))


def plan_document(run: StackRun) -> dict[str, Any]:
    """The plan as JSON: every registration with its (redacted) inputs and simulated outputs."""

    def resource(r: CapturedResource) -> dict[str, Any]:
        return {
            "urn": r.urn,
            "type": r.type,
            "name": r.name,
            "parent": r.parent or None,
            "custom": r.custom,
            "id": r.id or None,
            "dependencies": r.dependencies,
            "propertyDependencies": r.property_dependencies,
            "inputs": _struct(r.wire_inputs),
            "outputs": _struct(r.wire_outputs) if r.custom else {},
            "options": r.options,
        }

    return {
        "project": run.project,
        "stack": run.stack,
        "mode": "preview" if run.preview else "update",
        "simulated": True,
        "counts": dict(sorted(Counter(r.type for r in run.resources if r.custom).items())),
        "resources": [resource(r) for r in run.resources],
        "outputs": {
            k: (SECRET if k in run.secret_outputs else UNKNOWN if k in run.unknown_outputs else v)
            for k, v in sorted(run.outputs.items())
        },
    }


def render_tree(run: StackRun) -> list[str]:
    """Rows like `pulumi preview`: op, type, name, indented by parent."""
    children: dict[str, list[CapturedResource]] = {}
    for r in run.resources:
        children.setdefault(r.parent, []).append(r)
    rows: list[tuple[str, str]] = []

    def walk(r: CapturedResource, prefix: str, last: bool, root: bool) -> None:
        branch = "" if root else ("└─ " if last else "├─ ")
        rows.append((prefix + branch + short_type(r.type), r.name))
        # Registration order depends on async scheduling; sort siblings so plans diff cleanly.
        kids = sorted(children.get(r.urn, []), key=lambda c: (c.custom, short_type(c.type), c.name))
        extension = "" if root else ("   " if last else "│  ")
        for i, kid in enumerate(kids):
            walk(kid, prefix + extension, i == len(kids) - 1, False)

    for root in [r for r in run.resources if r.type == STACK_TYPE]:
        walk(root, "", True, True)
    width = max(len(t) for t, _ in rows) + 2
    return [f"     {'Type':<{width}}Name"] + [f" +   {t:<{width}}{n}" for t, n in rows]


def _format_value(value: Any) -> str:
    return json.dumps(value, default=str)


def render(run: StackRun) -> str:
    custom = [r for r in run.resources if r.custom]
    lines = [
        f"Offline plan of stack '{run.stack}' (project {run.project}) — simulated with the mock cloud; "
        "no AWS account, Pulumi CLI or Docker engine was used.",
        "",
        *render_tree(run),
        "",
        f"Resources: + {len(custom)} to create ({len(run.resources) - len(custom)} components and the stack)",
        "",
        "Counts per type:",
    ]
    for type_, count in sorted(Counter(short_type(r.type) for r in custom).items()):
        lines.append(f"    {count:>4}  {type_}")
    lines += ["", "Outputs (simulated: values come from the mock cloud, not from AWS):"]
    for key, value in sorted(run.outputs.items()):
        shown = (
            "[secret]"
            if key in run.secret_outputs
            else "[unknown until deployed]"
            if key in run.unknown_outputs
            else _format_value(value)
        )
        lines.append(f"    {key}: {shown}")
    return "\n".join(lines)


def markdown_summary(run: StackRun, policy_markdown: str = "") -> str:
    custom = [r for r in run.resources if r.custom]
    counts = Counter(short_type(r.type) for r in custom)
    rows = "\n".join(f"| `{t}` | {n} |" for t, n in sorted(counts.items()))
    outputs = "\n".join(
        f"| `{k}` | `{'[secret]' if k in run.secret_outputs else _format_value(v)}` |"
        for k, v in sorted(run.outputs.items())
    )
    return (
        f"## Offline plan: `{run.stack}`\n\n{len(custom)} resources (simulated).\n\n"
        f"```mermaid\n{mermaid(run)}```\n\n| Type | Count |\n|---|---|\n{rows}\n\n"
        f"| Output (simulated) | Value |\n|---|---|\n{outputs}\n\n{policy_markdown}"
    )


def main(argv: list[str] | None = None) -> int:
    stacks = committed_stacks()
    parser = argparse.ArgumentParser(prog="python -m offline.plan", description=__doc__.split("\n\n")[0])
    parser.add_argument("stack", nargs="?", default="dev", help=f"stack file to plan: {', '.join(stacks)}")
    parser.add_argument("--preview", action="store_true", help="simulate `pulumi preview` (computed outputs unknown)")
    parser.add_argument("--out", type=Path, default=PROJECT_DIR / "build", help="where to write JSON and diagram")
    parser.add_argument(
        "-c", "--config", action="append", default=[], metavar="KEY=VALUE",
        help="override a stack setting for this plan only (like `pulumi config set`); repeatable",
    )  # fmt: skip
    parser.add_argument("--summary-file", type=Path, help="append a Markdown summary (e.g. $GITHUB_STEP_SUMMARY)")
    args = parser.parse_args(argv)
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
    started = time.perf_counter()
    try:
        run = run_stack(args.stack, preview=args.preview, overrides=overrides)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        print("nothing was planned: fix the stack setting and run again.", file=sys.stderr)
        if args.summary_file:
            with args.summary_file.open("a", encoding="utf-8") as summary:
                summary.write(f"## Offline plan: `{args.stack}`: config error\n\n`{error}`\n\nNothing was planned.\n")
        return EXIT_CONFIG_ERROR
    elapsed = time.perf_counter() - started

    print(render(run))
    args.out.mkdir(parents=True, exist_ok=True)
    plan_file = args.out / f"plan-{args.stack}.json"
    diagram_file = args.out / f"architecture-{args.stack}.mmd"
    plan_file.write_text(json.dumps(plan_document(run), indent=2, default=str) + "\n", encoding="utf-8")
    diagram_file.write_text(mermaid(run), encoding="utf-8")
    print(f"\nWrote {plan_file.relative_to(PROJECT_DIR) if plan_file.is_relative_to(PROJECT_DIR) else plan_file}"
          f" and {diagram_file.relative_to(PROJECT_DIR) if diagram_file.is_relative_to(PROJECT_DIR) else diagram_file}"
          f" (program run took {elapsed:.2f} s).")  # fmt: skip

    report = analyze_stack_run(run, args.stack)
    print("\n" + format_report(report))
    exit_code = EXIT_OK if report.passed else EXIT_POLICY_VIOLATION
    if args.summary_file:
        with args.summary_file.open("a", encoding="utf-8") as summary:
            summary.write(markdown_summary(run, markdown_report(report)))
    return exit_code


if __name__ == "__main__":
    try:
        code = main()
    finally:
        close_event_loop()
    sys.exit(code)
