"""What the cost tests share: the plans they estimate and helpers to pick charges out of an estimate."""

from __future__ import annotations

from typing import Any, Final

from offline.cost.estimate import Estimate, Line, estimate
from tests.support import cached_run

REGION: Final = "eu-west-1"
AMI: Final = "ami-0123456789abcdef0"

PLANS: Final[dict[str, tuple[str, dict[str, Any]]]] = {
    "dev": ("dev", {}),
    "dev with endpoints": ("dev", {"vpcEndpoints": True}),
    "dev on arm64": ("dev", {"imagePlatform": "linux/arm64"}),
    "prod": ("prod", {}),
    "prod with gwlb": ("prod", {"gwlbEnabled": True, "gwlbApplianceAmiId": AMI}),
    "prod with memcached": ("prod", {"cacheEngine": "memcached", "cacheEngineVersion": "1.6.22"}),
}
"""The committed stacks and the optional features that add resource types: dev as it was before the cost
review (with interface endpoints), arm64 tasks, prod with GWLB inspection (an appliance fleet) and with
Memcached (a cache cluster instead of a replication group)."""


def estimate_of(case: str, **assume: float) -> Estimate:
    stack, overrides = PLANS[case]
    return estimate(cached_run(stack, **overrides), overrides=assume)


def lines_of(result: Estimate, price: str, resource: str | None = None) -> list[Line]:
    return [line for line in result.lines if line.price == price and resource in (None, line.name)]


def one_of(result: Estimate, price: str, resource: str | None = None) -> Line:
    [line] = lines_of(result, price, resource)
    return line
