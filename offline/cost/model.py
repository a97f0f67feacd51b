"""What an estimator sees and returns: the run's context (assumptions, references) and its charges."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from mockcloud.monitor import CapturedResource
from mockcloud.runner import StackRun
from offline.cost.table import PriceTable, PriceTableError


@dataclass(frozen=True)
class Charge:
    """What an estimator says one resource is billed for: quantity of a price key per month."""

    price: str
    quantity: float
    unit: str
    detail: str
    """How the quantity was reached, e.g. ``1 NAT gateway x 730 h``."""
    variant: str | None = None
    assumptions: tuple[str, ...] = ()
    region: str | None = None
    """Priced in another region's table (e.g. storage of a cross-region replica); None is the stack's region."""


@dataclass(frozen=True)
class UsedAssumption:
    key: str
    value: float
    unit: str
    origin: str
    description: str


class Context:
    """What an estimator may ask about the run: assumptions, hours, and which resources refer to which."""

    def __init__(self, run: StackRun, table: PriceTable, overrides: Mapping[str, float]) -> None:
        self.run = run
        self.table = table
        self.hours = table.hours_per_month
        self.days = table.hours_per_month / 24
        self._overrides = dict(overrides)
        self.used: dict[str, UsedAssumption] = {}
        self.notes: list[str] = []
        self._dependents: dict[str, list[CapturedResource]] = {}
        for resource in run.resources:
            for urn in set(resource.dependencies):
                self._dependents.setdefault(urn, []).append(resource)
        self._memo: dict[str, Any] = {}

    def assume(self, key: str) -> float:
        """The value of an assumption for this stack (an override wins), recorded for the report."""
        declared = self.table.assumptions.get(key)
        if declared is None:
            raise PriceTableError(f"aws.yaml: assumptions.{key} is used by an estimator but not declared")
        if key in self._overrides:
            value, origin = self._overrides[key], "--assume"
        else:
            value, origin = declared.value_for(self.run.stack)
        self.used[key] = UsedAssumption(key, value, declared.unit, origin, declared.description)
        return value

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def depends_on(self, resource: CapturedResource, type_: str, prop: str | None = None) -> list[CapturedResource]:
        """Resources of ``type_`` this one depends on (through ``prop`` when given): known even at preview."""
        urns = resource.property_dependencies.get(prop, []) if prop else resource.dependencies
        found = [self.run.by_urn(urn) for urn in dict.fromkeys(urns)]
        return [r for r in found if r.type == type_]

    def dependents(self, resource: CapturedResource, type_: str) -> list[CapturedResource]:
        """Resources of ``type_`` that depend on this one."""
        return [r for r in self._dependents.get(resource.urn, []) if r.type == type_]

    def memo(self, key: str, compute: Callable[[], Any]) -> Any:
        """A stack-wide figure computed once (e.g. the traffic that leaves through NAT)."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]


Rule = Callable[[CapturedResource, Context], list[Charge]]
"""An estimator: a resource of one type and the run's context -> what that resource is billed for."""
