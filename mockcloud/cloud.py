"""The pretend AWS account every mock answer is about, and the helpers that make answers look real.

Answers are deterministic (hashes of the resource name), so a plan is the same on every run, and
shaped like the real thing: ARNs with the account and region, ``vpc-…`` IDs, UUIDs, physical names
that follow Pulumi's auto-naming.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from typing import Any, Final

ACCOUNT_ID: Final = "123456789012"
PARTITION: Final = "aws"


@dataclass(frozen=True)
class Cloud:
    """The pretend account and region the answers are about."""

    region: str
    account_id: str = ACCOUNT_ID

    def arn(self, service: str, resource: str, *, region: bool = True, account: bool = True) -> str:
        return (
            f"arn:{PARTITION}:{service}:{self.region if region else ''}:{self.account_id if account else ''}:{resource}"
        )

    @property
    def zones(self) -> list[str]:
        return [f"{self.region}{suffix}" for suffix in "abc"]


def hexid(name: str, length: int = 17) -> str:
    """A stable hex suffix for IDs (vpc-0123…), different for every resource name."""
    return hashlib.sha256(name.encode()).hexdigest()[:length]


def uuid_of(seed: str) -> str:
    """A stable UUID (``8-4-4-4-12`` hex) for IDs AWS issues as UUIDs (KMS keys, secrets, ASGs)."""
    return str(uuid.UUID(hexid(seed, 32)))


def physical_name(name: str, inputs: dict[str, Any], key: str = "name", max_length: int = 64) -> str:
    """The name AWS would get: the explicit one, or Pulumi's auto-name (logical name + random suffix)."""
    explicit = inputs.get(key)
    if explicit:
        return str(explicit)
    prefix = inputs.get(f"{key}Prefix")
    if prefix:
        return f"{prefix}{hexid(name, 8)}"
    return f"{name}-{hexid(name, 7)}"[:max_length]
