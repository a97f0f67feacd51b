"""What the offline plan shows: the plan as JSON, the resource tree, the summary, and the optional sections.

The default console output is the tree (as ``pulumi preview`` prints it) and a short summary a person
scans in one screen: resources, policy results, outputs, the estimated monthly cost. Per-type counts,
every output value, the full policy report and the full cost estimate are separate sections the CLI
prints on request.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from google.protobuf import json_format, struct_pb2
from pulumi.runtime import rpc

from mockcloud.monitor import STACK_TYPE, CapturedResource
from mockcloud.runner import PROJECT_DIR, StackRun
from offline import replacements
from offline.cost import render as cost_render
from offline.cost.estimate import Estimate
from offline.diagram import mermaid
from offline.policy.render import format_report, summary_lines
from offline.policy.report import PolicyReport
from stack.placeholders import Placeholder
from stack.settings import ConfigReader, stack_placeholders

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


def plan_document(run: StackRun, estimate: Estimate | None = None) -> dict[str, Any]:
    """The plan as JSON: every registration with its (redacted) inputs and simulated outputs, and the
    cost estimate (``cost``: every charge, the assumptions and the prices' sources) when given."""

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
        # The settings this plan was made with: a later plan names the ones that changed.
        "config": {
            key: SECRET if key in run.config.secret_keys else value for key, value in sorted(run.config.values.items())
        },
        "counts": dict(sorted(Counter(r.type for r in run.resources if r.custom).items())),
        "resources": [resource(r) for r in run.resources],
        "outputs": {
            k: (SECRET if k in run.secret_outputs else UNKNOWN if k in run.unknown_outputs else v)
            for k, v in sorted(run.outputs.items())
        },
        **({"cost": estimate.to_json()} if estimate is not None else {}),
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


UNKNOWN_SHOWN: Final = "[unknown until deployed]"
_WIDTH: Final = 100  # a value longer than this on one line is broken up (one entry per line)


@dataclass(frozen=True)
class Sections:
    """The optional parts of the console output (the tree and the summary are always shown)."""

    counts: bool = False
    outputs: bool = False
    policy_report: bool = False
    cost: bool = False


def header(run: StackRun) -> list[str]:
    if run.preview:
        return [
            f"Offline preview of stack '{run.stack}' (project {run.project}): what `pulumi preview` shows a pull",
            "request, so values AWS computes are unknown until deployed. Simulated: no AWS account, Pulumi CLI",
            "or Docker engine was used.",
        ]
    return [
        f"Offline plan of stack '{run.stack}' (project {run.project}): what `pulumi up` would create, with the",
        "values the mock cloud answers. Simulated: no AWS account, Pulumi CLI or Docker engine was used.",
    ]


def shown_output(run: StackRun, key: str) -> Any:
    """An output as people see it: the value, or the secret / unknown mask."""
    if key in run.secret_outputs:
        return SECRET
    if key in run.unknown_outputs:
        return UNKNOWN_SHOWN
    return run.outputs[key]


def _value_lines(key: str, value: Any, indent: str) -> list[str]:
    line = f"{indent}{key}: {_json(value)}"
    if len(line) <= _WIDTH or not isinstance(value, dict | list) or not value:
        return [line]
    lines = [f"{indent}{key}:"]
    if isinstance(value, dict):
        for inner_key, inner in value.items():
            lines += _value_lines(str(inner_key), inner, indent + "  ")
    else:
        for inner in value:
            lines += [f"{indent}  - {_json(inner)}"]
    return lines


def _json(value: Any) -> str:
    return json.dumps(value, default=str)


def outputs_section(run: StackRun) -> list[str]:
    """Every stack output; a long object or list one entry per line, so no line runs off the screen."""
    lines = ["Outputs (simulated: values come from the mock cloud, not from AWS):"]
    for key in sorted(run.outputs):
        value = shown_output(run, key)
        if value in (SECRET, UNKNOWN_SHOWN):
            lines.append(f"    {key}: {value}")
        else:
            lines += _value_lines(key, value, "    ")
    return lines


def counts_section(run: StackRun) -> list[str]:
    counts = Counter(short_type(r.type) for r in run.resources if r.custom)
    return ["Counts per type:"] + [f"    {count:>4}  {type_}" for type_, count in sorted(counts.items())]


def placeholders(run: StackRun) -> list[Placeholder]:
    """The stack's example-only values (documentation domains, ranges, account), the rule the program
    applies against a real engine (stack/placeholders.py)."""
    prefix = f"{run.project}:"
    values = {k[len(prefix) :]: v for k, v in run.config.values.items() if k.startswith(prefix)}
    return stack_placeholders(ConfigReader(values=values))


def placeholders_section(found: Sequence[Placeholder]) -> list[str]:
    """What to replace before the first real `pulumi up` (which refuses these values)."""
    lines = [
        "Replace before the first `pulumi up` (example values: `pulumi preview` and `pulumi up` refuse them;",
        "this offline plan runs with them):",
    ]
    for p in found:
        lines.append(f"    {p.key} = {p.value}: {p.why}")
    return lines


def _relative(path: Path) -> str:
    return str(path.relative_to(PROJECT_DIR)) if path.is_relative_to(PROJECT_DIR) else str(path)


def summary(
    run: StackRun,
    report: PolicyReport,
    *,
    files: Sequence[Path],
    elapsed: float,
    estimate: Estimate | None = None,
    data: replacements.Comparison | None = None,
) -> list[str]:
    """Resources, what happens to the data stores, policy results, outputs and cost in a few lines, then
    where the files went and what else to ask for."""
    custom = [r for r in run.resources if r.custom]
    components = sum(1 for r in run.resources if r.is_component)
    unknown, secret = len(run.unknown_outputs), len(run.secret_outputs)
    null = sum(1 for k, v in run.outputs.items() if v is None and k not in run.unknown_outputs)
    kinds = [f"{unknown} unknown until deployed"] if unknown else []
    kinds += [f"{secret} secret"] if secret else []
    kinds += [f"{null} null"] if null else []
    policy, *policy_details = summary_lines(report)
    cost = cost_render.summary_lines(estimate) if estimate is not None else []
    comparison = data or replacements.Comparison(previous=None)
    return [
        "Summary",
        f"  Resources: + {len(custom)} to create, in {components} components "
        f"({len(Counter(r.type for r in custom))} types); the program ran in {elapsed:.2f} s",
        *[f"  {line}" for line in replacements.summary_lines(comparison, {r.type for r in run.resources})],
        f"  Policies:  {policy}",
        *[f"             {line}" for line in policy_details],
        f"  Outputs:   {len(run.outputs)} stack outputs" + (f" ({', '.join(kinds)})" if kinds else ""),
        *[f"  {'Cost:' if i == 0 else '':<11}{line}" for i, line in enumerate(cost)],
        f"  Files:     {', '.join(_relative(f) for f in files)}",
        "  More:      --counts (per type), --outputs (every value), --policy-report (full report), --cost (estimate)",
    ]


def render(
    run: StackRun,
    report: PolicyReport,
    *,
    sections: Sections = Sections(),
    files: Sequence[Path] = (),
    elapsed: float = 0.0,
    estimate: Estimate | None = None,
    data: replacements.Comparison | None = None,
) -> str:
    """The console output: header, tree, the sections asked for, then the summary (last, so it stays on screen)."""
    lines = [*header(run), "", *render_tree(run)]
    found = placeholders(run)
    if found:
        lines += ["", *placeholders_section(found)]
    if sections.counts:
        lines += ["", *counts_section(run)]
    if sections.outputs:
        lines += ["", *outputs_section(run)]
    if sections.policy_report:
        lines += ["", format_report(report)]
    if sections.cost and estimate is not None:
        lines += ["", *cost_render.cost_section(estimate)]
    lines += ["", *summary(run, report, files=files, elapsed=elapsed, estimate=estimate, data=data)]
    return "\n".join(lines)


def markdown_summary(
    run: StackRun,
    policy_markdown: str = "",
    estimate: Estimate | None = None,
    data: replacements.Comparison | None = None,
) -> str:
    """The plan as a Markdown section (a CI job summary): what happens to the data stores, diagram, policy
    report, cost, then counts and outputs folded."""
    custom = [r for r in run.resources if r.custom]
    counts = Counter(short_type(r.type) for r in custom)
    rows = "\n".join(f"| `{t}` | {n} |" for t, n in sorted(counts.items()))
    outputs = "\n".join(f"| `{k}` | `{_cell(shown_output(run, k))}` |" for k in sorted(run.outputs))
    mode = "offline preview" if run.preview else "offline plan"
    found = placeholders(run)
    replace = (
        "**Replace before the first `pulumi up`** (example values, refused by a real engine):\n\n"
        + "".join(f"- `{p.key}` = `{p.value}`: {p.why}\n" for p in found)
        + "\n"
        if found
        else ""
    )
    cost = "\n".join(cost_render.markdown_lines(estimate)) + "\n" if estimate is not None else ""
    return (
        f"## Offline plan: `{run.stack}`\n\n{len(custom)} resources ({mode}, simulated).\n\n{replace}"
        f"{replacements.markdown(data) if data else ''}"
        f"```mermaid\n{mermaid(run)}```\n\n{policy_markdown}\n{cost}"
        f"<details><summary>Resources per type</summary>\n\n| Type | Count |\n|---|---|\n{rows}\n\n</details>\n\n"
        f"<details><summary>Outputs (simulated)</summary>\n\n| Output | Value |\n|---|---|\n{outputs}\n\n</details>\n"
    )


def _cell(value: Any) -> str:
    text = value if value in (SECRET, UNKNOWN_SHOWN) else _json(value)
    return str(text).replace("|", "\\|")
