"""The policy report as text (the offline plan's console) and as Markdown (a CI job summary)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from offline.policy.contract import built_by_fargate_service
from offline.policy.report import LEVELS, Level, PolicyReport, Violation


def _grouped(violations: Sequence[Violation]) -> dict[str, list[Violation]]:
    by_policy: dict[str, list[Violation]] = {}
    for v in violations:
        by_policy.setdefault(v.policy, []).append(v)
    return by_policy


def _enforcement(report: PolicyReport) -> str:
    counts = {level: sum(1 for lvl in report.levels.values() if lvl == level) for level in LEVELS}
    return ", ".join(f"{n} {level}" for level, n in counts.items() if n)


SUMMARY_ADVISORY_POLICIES: Final = 6
"""Advisory policies the default summary names (mandatory ones are always all listed)."""


def summary_lines(report: PolicyReport) -> list[str]:
    """The report in a few lines: the result, the pack, each violation on one line, preview notes as a count.

    What the offline plan prints by default; ``format_report`` is the full report.
    """
    found = sorted(
        (v for v in report.violations if not v.unknown_at_preview and v.level in ("mandatory", "advisory")),
        key=lambda v: (LEVELS.index(v.level), v.policy, v.resource),
    )
    mandatory = sum(1 for v in found if v.level == "mandatory")
    lines = [
        f"{'PASSED' if report.passed else 'FAILED'}, {mandatory} mandatory and {len(found) - mandatory} advisory "
        "violations",
        f"{report.pack}@v{report.version} with {report.config}: {_enforcement(report)} policies",
    ]
    # One line per policy (its first finding, and how many more), so a screen holds the summary even
    # when a stack draws dozens of advisory findings; mandatory ones are never cut.
    by_policy: dict[tuple[str, str], list[Violation]] = {}
    for v in found:
        by_policy.setdefault((v.level, v.policy), []).append(v)
    advisory_shown = 0
    for (level, policy), violations in by_policy.items():
        if level == "advisory" and advisory_shown == SUMMARY_ADVISORY_POLICIES:
            rest = sum(1 for lvl, _ in by_policy if lvl == "advisory") - advisory_shown
            lines.append(f"  ... and {rest} more advisory policies (--policy-report lists every finding)")
            break
        first = violations[0]
        more = f" (and {len(violations) - 1} more)" if len(violations) > 1 else ""
        where = first.urn.rsplit("::", 1)[-1] or "(stack)"
        lines.append(f"  {level} {policy} on {where}: {first.detail.splitlines()[0]}{more}")
        advisory_shown += level == "advisory"
    notes = report.unknown_notes()
    if notes:
        weakened = sum(1 for v in notes if report.levels.get(v.policy) == "mandatory")
        covered = sum(1 for v in notes if built_by_fargate_service(v.urn))
        lines += [
            f"not checked at preview: {len(notes)} ({weakened} mandatory), values unknown until `pulumi up` runs them;",
            f"  {covered} are FargateService task definitions, whose container spec was checked at preview",
        ]
    return lines


def format_report(report: PolicyReport) -> str:
    """The policy report as text: by enforcement level, then policy, then resource.

    Checks pulumi-policy could not run at preview (a value they read is unknown until the update) are
    listed on their own, with the level the policy has in this stack, since pulumi-policy reports them
    as advisory even for a mandatory policy.
    """
    mode = "preview" if report.preview else "update"
    lines = [
        f"Policy pack {report.pack}@v{report.version}, stack '{report.stack}' ({mode}), "
        f"config {report.config}: {len(report.levels)} policies",
    ]
    titles: dict[Level, str] = {
        "mandatory": "Mandatory violations (block the deployment)",
        "advisory": "Advisory violations",
    }
    for level, title in titles.items():
        found = [v for v in report.at(level) if not v.unknown_at_preview]
        lines += ["", f"{title}: {len(found)}"]
        for policy, violations in sorted(_grouped(found).items()):
            lines.append(f"  {policy} ({len(violations)})")
            for v in violations:
                lines.append(f"    - {v.resource}: {v.detail.splitlines()[0]}")
    notes = report.unknown_notes()
    if notes:
        weakened = sum(1 for v in notes if report.levels.get(v.policy) == "mandatory")
        lines += ["", f"Not checked at preview, values unknown until the update: {len(notes)} ({weakened} mandatory)"]
        for policy, violations in sorted(_grouped(notes).items()):
            lines.append(f"  {policy} ({report.levels.get(policy, 'advisory')} in this stack)")
            for v in violations:
                covered = " [spec checked at preview on its FargateService]" if built_by_fargate_service(v.urn) else ""
                lines.append(f"    - {v.resource}: {v.unknown_path}{covered}")
        lines += [
            "  Every one of these runs again with known values during `pulumi up`, where a mandatory violation",
            "  stops the resource before it is created. Task definitions built by FargateService are also covered",
            "  at preview: the same policies check the component's declared container spec (docs/policies.md).",
        ]
    lines += ["", f"Disabled policies: {len(report.disabled)}"]
    lines += [f"  {name}" for name in report.disabled]
    lines += [
        "",
        "Enforcement for this stack: " + _enforcement(report),
        "Result: "
        + ("PASSED (no mandatory violation)" if report.passed else f"FAILED ({len(report.mandatory)} mandatory)"),
    ]
    return "\n".join(lines)


def markdown_report(report: PolicyReport) -> str:
    """The same report as a Markdown section (for a CI job summary)."""
    status = "passed" if report.passed else f"**failed: {len(report.mandatory)} mandatory violation(s)**"
    lines = [
        f"### Policy report: `{report.pack}` on `{report.stack}` — {status}",
        "",
        "| Level | Policy | Resource | Finding |",
        "|---|---|---|---|",
    ]
    for v in sorted(report.violations, key=lambda v: (LEVELS.index(v.level), v.policy, v.resource)):
        if v.unknown_at_preview:
            level, detail = f"not checked ({report.levels.get(v.policy)})", f"unknown at preview: {v.unknown_path}"
        else:
            level, detail = v.level, v.detail.splitlines()[0]
        lines.append(f"| {level} | `{v.policy}` | `{v.resource}` | {detail.replace('|', chr(92) + '|')} |")
    if report.disabled:
        lines += ["", "Disabled: " + ", ".join(f"`{name}`" for name in report.disabled)]
    return "\n".join(lines) + "\n"
