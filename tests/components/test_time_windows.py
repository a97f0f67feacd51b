"""Maintenance and backup windows: parsing, minimum lengths and overlap across midnight and the week."""

from __future__ import annotations

import pytest

from components.time_windows import overlaps, parse_daily, parse_weekly


@pytest.mark.parametrize(
    ("weekly", "daily", "overlap"),
    [
        ("sun:05:00-sun:06:00", "03:00-04:00", False),
        ("sun:03:30-sun:04:30", "03:00-04:00", True),
        ("wed:04:00-wed:05:00", "03:00-04:00", False),  # back to back is allowed
        ("sat:23:30-sun:00:30", "00:00-01:00", True),  # across midnight
        ("sun:23:30-mon:00:30", "00:15-00:45", True),  # across the end of the week
        ("mon:10:00-mon:11:00", "23:30-00:30", False),  # a daily window across midnight
        ("tue:00:00-tue:01:00", "23:30-00:30", True),
    ],
)
def test_overlap(weekly: str, daily: str, overlap: bool) -> None:
    assert overlaps(parse_weekly(weekly, minimum_minutes=30), parse_daily(daily, minimum_minutes=30)) is overlap


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("sun:05:00-sun:05:30", "lasts 30 minutes; at least 60"),
        ("sun:05:00-tue:05:00", "at most 24 hours"),
        ("sun:25:00-sun:26:00", "outside 00:00-23:59"),
        ("sunday:05:00-sunday:06:00", "is not ddd:hh24:mi-ddd:hh24:mi"),
    ],
)
def test_bad_weekly_windows(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_weekly(text, minimum_minutes=60)


def test_daily_window_lengths() -> None:
    assert parse_daily("23:30-00:30", minimum_minutes=60).minutes == 60
    with pytest.raises(ValueError, match="lasts 30 minutes; at least 60"):
        parse_daily("03:00-03:30", minimum_minutes=60)
    with pytest.raises(ValueError, match="is not hh24:mi-hh24:mi"):
        parse_daily("3am-4am", minimum_minutes=60)
