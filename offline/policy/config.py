"""Policy pack config files (``<stack>.json``), reconciled with each policy's defaults the way the engine does."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, cast

from offline.policy import GUARDRAILS_DIR
from offline.policy.report import LEVELS, Level, PolicyInfo


class PolicyConfigError(ValueError):
    """A policy pack config file is malformed or fails a policy's config schema."""


@dataclass(frozen=True)
class PolicyConfig:
    level: Level | None
    properties: dict[str, Any] = field(default_factory=dict)


def config_file(stack: str, pack_dir: Path = GUARDRAILS_DIR) -> Path:
    path = pack_dir / f"{stack}.json"
    if not path.exists():
        known = ", ".join(sorted(p.stem for p in pack_dir.glob("*.json"))) or "none"
        raise PolicyConfigError(f"no policy config {path.name} for stack {stack!r} in {pack_dir}; have: {known}")
    return path


def parse_config(document: Mapping[str, Any]) -> dict[str, PolicyConfig]:
    """``{"all": "mandatory", "<policy>": {"enforcementLevel": "advisory", <properties>}}`` -> configs."""
    result: dict[str, PolicyConfig] = {}
    for key, value in document.items():
        if isinstance(value, str):
            result[key] = PolicyConfig(_level(key, value))
        elif isinstance(value, Mapping):
            properties = {k: v for k, v in value.items() if k != "enforcementLevel"}
            level = _level(key, value["enforcementLevel"]) if "enforcementLevel" in value else None
            if level is not None or properties:
                result[key] = PolicyConfig(level, properties)
        else:
            raise PolicyConfigError(f"{key!r}: {value!r} is not valid; must be a string or object")
    return result


def _level(key: str, value: Any) -> Level:
    if value not in LEVELS:
        raise PolicyConfigError(f"{key!r}: enforcement level {value!r} is not one of {', '.join(LEVELS)}")
    return cast(Level, value)


def reconcile(policies: Iterable[PolicyInfo], given: Mapping[str, PolicyConfig] | None) -> dict[str, PolicyConfig]:
    """Defaults from each policy (level, schema defaults), then ``all``, then per-policy entries."""
    result = {
        p.name: PolicyConfig(
            p.default_level,
            {k: v["default"] for k, v in p.config_schema.get("properties", {}).items() if "default" in v},
        )
        for p in policies
    }
    given = given or {}
    everything = given.get("all")
    if everything is not None and everything.level is not None:
        result = {name: PolicyConfig(everything.level, c.properties) for name, c in result.items()}
    for name, config in given.items():
        current = result.get(name, PolicyConfig(None))
        result[name] = PolicyConfig(config.level or current.level, {**current.properties, **config.properties})
    for policy in policies:
        _validate_properties(policy, result[policy.name].properties)
    return result


_JSON_TYPES: Final[dict[str, tuple[type, ...]]] = {
    "string": (str,),
    "array": (list,),
    "object": (dict,),
    "boolean": (bool,),
    "integer": (int,),
    "number": (int, float),
}


def _validate_properties(policy: PolicyInfo, properties: Mapping[str, Any]) -> None:
    """The subset of JSON Schema the pack's schemas use: type, items.type, enum, required."""
    schema = policy.config_schema.get("properties", {})
    for name in policy.config_schema.get("required", []):
        if name not in properties:
            raise PolicyConfigError(f"{policy.name}: {name} is required")
    for name, value in properties.items():
        rules = schema.get(name, {})
        expected = rules.get("type")
        if expected and not isinstance(value, _JSON_TYPES[expected]):
            raise PolicyConfigError(f"{policy.name}.{name}: {value!r} is not of type {expected}")
        item_type = rules.get("items", {}).get("type")
        if item_type and any(not isinstance(v, _JSON_TYPES[item_type]) for v in value):
            raise PolicyConfigError(f"{policy.name}.{name}: every item must be of type {item_type}")
        if "enum" in rules and value not in rules["enum"]:
            raise PolicyConfigError(f"{policy.name}.{name}: {value!r} is not one of {rules['enum']}")
