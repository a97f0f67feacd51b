"""Comparing two offline plans: URNs lost or gained (and whether an alias covers them), changed values."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from offline import plan_diff


def _resource(urn: str, **fields: Any) -> dict[str, Any]:
    return {"urn": urn, "dependencies": [], "propertyDependencies": {}, "inputs": {}, "options": {}, **fields}


def test_dependency_order_is_not_a_difference() -> None:
    a = {"resources": [_resource("u:a", dependencies=["x", "y"], propertyDependencies={"p": ["x", "y"]})]}
    b = {"resources": [_resource("u:a", dependencies=["y", "x"], propertyDependencies={"p": ["y", "x"]})]}
    assert plan_diff.diff(a, b).same


def test_lost_gained_aliased_and_changed(tmp_path: Path) -> None:
    before = {"resources": [_resource("u:old"), _resource("u:kept", inputs={"size": 1})]}
    after = {
        "resources": [
            _resource("u:new", options={"aliases": ["type=platform:cache:Cache"]}),
            _resource("u:kept", inputs={"size": 2}),
        ]
    }
    result = plan_diff.diff(before, after)
    assert (result.removed, result.added) == (["u:old"], ["u:new"])
    assert result.aliased == {"u:new": ["type=platform:cache:Cache"]}
    assert result.changed == {"u:kept": ["inputs"]}
    (tmp_path / "a.json").write_text(json.dumps(before))
    (tmp_path / "b.json").write_text(json.dumps(after))
    assert plan_diff.main([str(tmp_path / "a.json"), str(tmp_path / "b.json")]) == 1
    assert plan_diff.main([str(tmp_path / "a.json"), str(tmp_path / "a.json")]) == 0
