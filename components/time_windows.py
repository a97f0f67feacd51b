"""Maintenance and backup windows as AWS writes them, parsed so overlaps are caught before deploying.

ElastiCache and RDS both take a weekly maintenance window (``ddd:hh24:mi-ddd:hh24:mi``, UTC) and a
daily backup/snapshot window (``hh24:mi-hh24:mi``, UTC), and both reject a backup window that
overlaps maintenance -- but only when the API call is made, halfway through an update. Parsing them
here turns that into a config error that names the setting.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from components.errors import InputError

DAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_MINUTES: Final = 24 * 60
_WEEK_MINUTES: Final = 7 * _DAY_MINUTES
_WEEKLY: Final = re.compile(
    r"^(mon|tue|wed|thu|fri|sat|sun):(\d\d):(\d\d)-(mon|tue|wed|thu|fri|sat|sun):(\d\d):(\d\d)$"
)
_DAILY: Final = re.compile(r"^(\d\d):(\d\d)-(\d\d):(\d\d)$")


@dataclass(frozen=True)
class WeeklyWindow:
    """A span of the week: start minute (Monday 00:00 = 0) and length in minutes (wraps at the week)."""

    start: int
    minutes: int


@dataclass(frozen=True)
class DailyWindow:
    """A span of every day: start minute (00:00 = 0) and length in minutes (wraps at midnight)."""

    start: int
    minutes: int

    def every_day(self) -> list[WeeklyWindow]:
        return [WeeklyWindow(day * _DAY_MINUTES + self.start, self.minutes) for day in range(7)]


def _minute(hour: str, minute: str, text: str) -> int:
    h, m = int(hour), int(minute)
    if h > 23 or m > 59:
        raise ValueError(f"{text!r} has a time outside 00:00-23:59")
    return h * 60 + m


def parse_weekly(text: str, *, minimum_minutes: int) -> WeeklyWindow:
    """``sun:05:00-sun:06:00`` (UTC). Raises ValueError saying what is wrong."""
    match = _WEEKLY.match(text)
    if not match:
        raise ValueError(f"{text!r} is not ddd:hh24:mi-ddd:hh24:mi (UTC, days mon..sun), e.g. sun:05:00-sun:06:00")
    d1, h1, m1, d2, h2, m2 = match.groups()
    start = DAYS.index(d1) * _DAY_MINUTES + _minute(h1, m1, text)
    end = DAYS.index(d2) * _DAY_MINUTES + _minute(h2, m2, text)
    minutes = (end - start) % _WEEK_MINUTES
    if minutes < minimum_minutes:
        raise ValueError(f"{text!r} lasts {minutes} minutes; at least {minimum_minutes} are required")
    if minutes > _DAY_MINUTES:
        raise ValueError(f"{text!r} lasts {minutes} minutes; at most 24 hours are allowed")
    return WeeklyWindow(start, minutes)


def parse_daily(text: str, *, minimum_minutes: int) -> DailyWindow:
    """``03:00-04:00`` (UTC). Raises ValueError saying what is wrong."""
    match = _DAILY.match(text)
    if not match:
        raise ValueError(f"{text!r} is not hh24:mi-hh24:mi (UTC), e.g. 03:00-04:00")
    h1, m1, h2, m2 = match.groups()
    start, end = _minute(h1, m1, text), _minute(h2, m2, text)
    minutes = (end - start) % _DAY_MINUTES
    if minutes < minimum_minutes:
        raise ValueError(f"{text!r} lasts {minutes} minutes; at least {minimum_minutes} are required")
    return DailyWindow(start, minutes)


def _overlap(a: WeeklyWindow, b: WeeklyWindow) -> bool:
    # Compare on a circle of one week: shift b's start relative to a's.
    offset = (b.start - a.start) % _WEEK_MINUTES
    return offset < a.minutes or (_WEEK_MINUTES - offset) < b.minutes


def overlaps(weekly: WeeklyWindow, daily: DailyWindow) -> bool:
    """Whether the weekly window meets the daily one on any day of the week."""
    return any(_overlap(weekly, day) for day in daily.every_day())


def check_windows(
    *,
    maintenance_setting: str,
    maintenance: str,
    backup_setting: str,
    backup: str,
    minimum_minutes: int,
    service: str,
) -> None:
    """A weekly maintenance window and a daily backup/snapshot window, each valid and apart.

    Raises InputError naming the setting; ``service`` says who requires them apart (ElastiCache, RDS).
    """
    try:
        weekly = parse_weekly(maintenance, minimum_minutes=minimum_minutes)
    except ValueError as error:
        raise InputError(maintenance_setting, maintenance, str(error)) from None
    try:
        daily = parse_daily(backup, minimum_minutes=minimum_minutes)
    except ValueError as error:
        raise InputError(backup_setting, backup, str(error)) from None
    if overlaps(weekly, daily):
        raise InputError(
            maintenance_setting,
            maintenance,
            f"a window apart from {backup_setting} ({backup}); {service} requires them apart",
            refers=(backup_setting,),
        )
