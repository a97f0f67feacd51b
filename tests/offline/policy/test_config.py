"""Policy config files are reconciled with each policy's defaults the way the engine does."""

from __future__ import annotations

import pytest

from offline.policy.config import PolicyConfigError, config_file, parse_config, reconcile
from offline.policy.report import PolicyInfo


def _info(name: str, level: str, schema: dict[str, object] | None = None) -> PolicyInfo:
    return PolicyInfo(name, "", level, "resource", "low", schema or {})  # type: ignore[arg-type]


def test_config_is_reconciled_like_the_engine() -> None:
    policies = [
        _info("a", "mandatory"),
        _info("b", "advisory", {"properties": {"limit": {"type": "integer", "default": 3}}}),
        _info("c", "advisory"),
    ]
    given = parse_config({"all": "disabled", "b": {"enforcementLevel": "advisory", "limit": 5}, "c": "mandatory"})
    result = reconcile(policies, given)
    assert {k: (v.level, v.properties) for k, v in result.items()} == {
        "a": ("disabled", {}),
        "b": ("advisory", {"limit": 5}),
        "c": ("mandatory", {}),
        "all": ("disabled", {}),
    }
    assert reconcile(policies, None)["b"].properties == {"limit": 3}  # schema default filled in


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"a": "blocking"}, "'blocking' is not one of mandatory, advisory, remediate, disabled"),
        ({"a": 1}, "must be a string or object"),
        ({"b": {"limit": "five"}}, "b.limit: 'five' is not of type integer"),
    ],
)
def test_bad_config_is_rejected_naming_the_entry(document: dict[str, object], message: str) -> None:
    policies = [_info("a", "advisory"), _info("b", "advisory", {"properties": {"limit": {"type": "integer"}}})]
    with pytest.raises(PolicyConfigError, match=message):
        reconcile(policies, parse_config(document))


def test_a_stack_without_a_config_file_is_named() -> None:
    with pytest.raises(PolicyConfigError, match=r"no policy config staging.json .* have: dev, prod"):
        config_file("staging")
