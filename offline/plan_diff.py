"""Compare two offline plans (build/plan-<stack>.json): what a refactor would do to a deployed stack.

    python -m offline.plan_diff before.json after.json

Prints the URNs only in one plan (a resource a deployed stack would lose or gain), whether each new
URN is covered by an alias of the resource (then the engine moves the old state onto it instead of
replacing), and the resources whose inputs, outputs or options changed. Dependency lists are compared
as sets: the SDK gathers them in no fixed order, so their order differs from run to run. Exits 0 when
the plans hold the same resources with the same values, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class PlanDiff:
    removed: list[str]
    """URNs only in the first plan (a deployed stack would delete them, unless an alias says otherwise)."""
    added: list[str]
    """URNs only in the second plan."""
    aliased: dict[str, list[str]]
    """Added URN -> the aliases it carries (the engine adopts the old resource through them)."""
    changed: dict[str, list[str]]
    """URN in both -> the fields that differ (inputs, outputs, options, dependencies, ...)."""

    @property
    def same(self) -> bool:
        return not (self.removed or self.added or self.changed)


def _normalised(resource: dict[str, Any]) -> dict[str, Any]:
    out = dict(resource)
    out["dependencies"] = sorted(resource.get("dependencies") or [])
    out["propertyDependencies"] = {k: sorted(v) for k, v in (resource.get("propertyDependencies") or {}).items()}
    return out


def diff(before: dict[str, Any], after: dict[str, Any]) -> PlanDiff:
    old = {r["urn"]: _normalised(r) for r in before["resources"]}
    new = {r["urn"]: _normalised(r) for r in after["resources"]}
    added = sorted(set(new) - set(old))
    changed = {
        urn: sorted(k for k in old[urn].keys() | new[urn].keys() if old[urn].get(k) != new[urn].get(k))
        for urn in sorted(set(old) & set(new))
        if old[urn] != new[urn]
    }
    aliased = {urn: list(new[urn].get("options", {}).get("aliases") or []) for urn in added}
    return PlanDiff(
        removed=sorted(set(old) - set(new)),
        added=added,
        aliased={urn: aliases for urn, aliases in aliased.items() if aliases},
        changed=changed,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m offline.plan_diff", description=__doc__.split("\n\n")[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    args = parser.parse_args(argv)
    result = diff(json.loads(args.before.read_text()), json.loads(args.after.read_text()))
    print(f"URNs only before: {len(result.removed)}; only after: {len(result.added)} ({len(result.aliased)} aliased)")
    for urn in result.removed:
        print(f"  - {urn}")
    for urn in result.added:
        note = f"  (aliases: {', '.join(result.aliased[urn])})" if urn in result.aliased else ""
        print(f"  + {urn}{note}")
    print(f"Resources in both with changed values: {len(result.changed)}")
    for urn, fields in result.changed.items():
        print(f"  ~ {urn.rsplit('::', 1)[-1]}: {', '.join(fields)}")
    return 0 if result.same else 1


if __name__ == "__main__":
    sys.exit(main())
