"""The one error for invalid component input: which setting, the value given, what is allowed.

Every component validates its own Args (and the spec objects inside them) in ``__post_init__`` and
raises :class:`InputError` before any resource is registered. ``setting`` is the Args field path
(``health_check.interval_seconds``, ``target_groups[api].port``); the stack settings re-raise the
same error under the config key that fed that field, so the user reads the key they wrote.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

_NO_VALUE: Final = object()


class InputError(ValueError):
    """A setting is missing, of the wrong type, or outside what is allowed."""

    def __init__(self, setting: str, value: object, allowed: str) -> None:
        self.setting = setting
        self.value = value
        self.allowed = allowed
        super().__init__(f"{setting} = {value!r} is not valid; allowed: {allowed}")

    def renamed(self, setting: str, value: object = _NO_VALUE) -> InputError:
        """The same error under another name (a config key for an Args field), same class."""
        return type(self)(setting, self.value if value is _NO_VALUE else value, self.allowed)

    def nested(self, prefix: str) -> InputError:
        """The same error under ``<prefix>.<setting>``, for a spec validated inside another."""
        return type(self)(f"{prefix}.{self.setting}", self.value, self.allowed)


def require(condition: bool, setting: str, value: object, allowed: str) -> None:
    """Raise ``InputError(setting, value, allowed)`` unless ``condition`` holds."""
    if not condition:
        raise InputError(setting, value, allowed)


def in_range(setting: str, value: int, low: int, high: int, unit: str = "") -> None:
    """An integer within ``low..high`` inclusive (booleans are not numbers here)."""
    suffix = f" {unit}" if unit else ""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InputError(setting, value, f"a whole number from {low} to {high}{suffix}")


def at_least(setting: str, value: int, low: int, unit: str = "") -> None:
    """An integer of at least ``low`` (no upper bound of its own)."""
    suffix = f" {unit}" if unit else ""
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise InputError(setting, value, f"a whole number of at least {low}{suffix}")


def one_of(setting: str, value: object, options: Iterable[object]) -> None:
    """A value from a fixed set; the error lists the set in its order."""
    choices = tuple(options)
    if value not in choices:
        raise InputError(setting, value, "one of " + ", ".join(str(c) for c in choices))
