"""What one analysis found: each policy as the pack describes it, every diagnostic, the effective levels."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final, Literal

Level = Literal["advisory", "mandatory", "remediate", "disabled"]
LEVELS: Final[tuple[Level, ...]] = ("mandatory", "advisory", "remediate", "disabled")

# pulumi-policy's note for a check it could not run because a value it read is unknown at preview.
_UNKNOWN_NOTE: Final = re.compile(r"^can't run policy '[^']+' from policy pack '[^']+' during preview: ")


@dataclass(frozen=True)
class PolicyInfo:
    """One policy as the pack describes itself (GetAnalyzerInfo)."""

    name: str
    description: str
    default_level: Level
    kind: Literal["resource", "stack"]
    severity: str
    config_schema: dict[str, Any]


@dataclass(frozen=True)
class Violation:
    """One diagnostic, as the CLI would print it."""

    policy: str
    level: Level
    urn: str
    """The resource it is about ("" for a stack-wide finding)."""
    message: str
    """What pulumi-policy sends: the policy's description, a newline, then the details."""
    description: str
    phase: Literal["resource", "stack"]

    @property
    def detail(self) -> str:
        return self.message.removeprefix(self.description).strip() or self.description

    @property
    def resource(self) -> str:
        """``type::name`` of the resource, or ``(stack)``."""
        if not self.urn:
            return "(stack)"
        return "::".join(self.urn.split("::")[-2:]).rsplit("$", 1)[-1]

    @property
    def unknown_at_preview(self) -> bool:
        """pulumi-policy could not decide because a value it read is unknown until the update."""
        return bool(_UNKNOWN_NOTE.match(self.message))

    @property
    def unknown_path(self) -> str:
        """``string value at .containerDefinitions`` from pulumi-policy's preview note."""
        return _UNKNOWN_NOTE.sub("", self.message).replace(" can't be known during preview", "")


@dataclass(frozen=True)
class PolicyReport:
    """Every diagnostic of one analysis, plus each policy's effective level for the stack."""

    pack: str
    version: str
    stack: str
    preview: bool
    config: str
    """Where the enforcement levels came from: the stack's config file, or ``inline``."""
    levels: dict[str, Level]
    policies: dict[str, PolicyInfo]
    violations: tuple[Violation, ...]

    def at(self, level: Level) -> list[Violation]:
        return [v for v in self.violations if v.level == level]

    @property
    def mandatory(self) -> list[Violation]:
        return self.at("mandatory")

    @property
    def advisory(self) -> list[Violation]:
        return self.at("advisory")

    @property
    def disabled(self) -> list[str]:
        return sorted(name for name, level in self.levels.items() if level == "disabled")

    @property
    def passed(self) -> bool:
        """No mandatory violation: `pulumi preview` would succeed."""
        return not self.mandatory

    def for_policy(self, name: str) -> list[Violation]:
        if name not in self.levels:
            raise KeyError(f"no policy {name!r} in {self.pack}; known: {', '.join(sorted(self.levels))}")
        return [v for v in self.violations if v.policy == name]

    def unknown_notes(self) -> list[Violation]:
        return [v for v in self.violations if v.unknown_at_preview]
