"""CloudWatch Logs rules every component that creates a log group follows."""

from __future__ import annotations

from typing import Final

from components.errors import InputError

# The retention values CloudWatch Logs accepts (PutRetentionPolicy, botocore ``logs`` model's
# ``Days`` documentation); anything else is rejected by AWS half-way through an update.
LOG_RETENTION_DAYS: Final = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
    1096, 1827, 2192, 2557, 2922, 3288, 3653,
)  # fmt: skip


def check_retention(setting: str, days: int) -> None:
    """A retention CloudWatch Logs accepts (days)."""
    if isinstance(days, bool) or days not in LOG_RETENTION_DAYS:
        raise InputError(setting, days, "one of " + ", ".join(str(d) for d in LOG_RETENTION_DAYS))
