"""The one error for invalid component input: which setting, the value given, what is allowed.

Every component validates its own Args (and the spec objects inside them) in ``__post_init__`` and
raises :class:`InputError` before any resource is registered. ``setting`` is the Args field path
(``health_check.interval_seconds``, ``target_groups[api].port``); the stack settings re-raise the
same error under the config key that fed that field, so the user reads the key they wrote.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import ClassVar


class InputError(ValueError):
    """A setting is missing, of the wrong type, or outside what is allowed.

    ``refers`` names the other settings that ``allowed`` mentions (``"1 unless cluster_mode is
    true"``), so a renamed error can say the names the user knows in their place.
    """

    kind: ClassVar[str] = ""
    """What kind of setting this is, for the message (the stack settings' subclass says ``config``)."""

    def __init__(self, setting: str, value: object, allowed: str, *, refers: Iterable[str] = ()) -> None:
        self.setting = setting
        self.value = value
        self.allowed = allowed
        self.refers = tuple(refers)
        prefix = f"{self.kind} " if self.kind else ""
        super().__init__(f"{prefix}'{setting}' = {value!r} is not valid; allowed: {allowed}")

    def renamed(self, name_of: Callable[[str], str], error_type: type[InputError] | None = None) -> InputError:
        """The same error with each setting it names (its own and those ``allowed`` refers to) renamed."""
        allowed = self.allowed
        for other in self.refers:
            allowed = re.sub(rf"(?<![\w.\[]){re.escape(other)}(?![\w\[])", name_of(other), allowed)
        return (error_type or type(self))(name_of(self.setting), self.value, allowed)

    def nested(self, prefix: str) -> InputError:
        """The same error under ``<prefix>.<setting>``, for a spec validated inside another."""
        return type(self)(
            f"{prefix}.{self.setting}", self.value, self.allowed, refers=(f"{prefix}.{r}" for r in self.refers)
        )


def require(condition: bool, setting: str, value: object, allowed: str, *, refers: Iterable[str] = ()) -> None:
    """Raise ``InputError(setting, value, allowed)`` unless ``condition`` holds."""
    if not condition:
        raise InputError(setting, value, allowed, refers=refers)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def in_range(setting: str, value: int, low: int, high: int, unit: str = "") -> None:
    """An integer within ``low..high`` inclusive (booleans are not numbers here)."""
    if not _is_int(value) or not low <= value <= high:
        raise InputError(setting, value, f"a whole number from {low} to {high}{f' {unit}' if unit else ''}")


def at_least(setting: str, value: int, low: int, unit: str = "") -> None:
    """An integer of at least ``low`` (no upper bound of its own)."""
    if not _is_int(value) or value < low:
        raise InputError(setting, value, f"a whole number of at least {low}{f' {unit}' if unit else ''}")


def one_of(setting: str, value: object, options: Iterable[object]) -> None:
    """A value from a fixed set; the error lists the set in its order."""
    choices = tuple(options)
    if isinstance(value, bool) or value not in choices:
        raise InputError(setting, value, "one of " + ", ".join(str(c) for c in choices))
