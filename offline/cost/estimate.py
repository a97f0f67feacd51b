"""Estimate a stack's monthly bill from a captured run: one line per charge of each billable resource.

Every custom resource of the run is either free (the table says why), billable (an estimator in
``offline.cost.rules`` turns its inputs into charges: a price key, a quantity, a unit), or unknown to the
table, which the estimate reports rather than skips. A charge whose price the region's table lacks is
shown as unpriced, with what was searched when the table declares the gap, and is left out of the total
instead of being guessed. Usage the plan cannot know comes from the table's assumptions, overridable per
run, and every assumption a line uses is printed with it.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from mockcloud.monitor import STACK_TYPE, CapturedResource
from mockcloud.runner import StackRun
from offline.cost.model import Charge, Context, Rule, UsedAssumption
from offline.cost.rules import RULES
from offline.cost.table import NoPricesForRegionError, PriceTable, PriceTableError, Source, load_table

STACK_COMPONENT: Final = "(stack)"


class AssumptionError(ValueError):
    """An ``--assume`` key the table does not have, or a value that is not a number >= 0."""


@dataclass(frozen=True)
class Line:
    urn: str
    name: str
    type: str
    component: str
    price: str
    variant: str | None
    quantity: float
    unit: str
    detail: str
    region: str
    unit_usd: float | None
    assumptions: tuple[str, ...]
    gap: str | None = None
    """Why the line has no price: the table's declared search, or that the table has no entry at all."""
    source: Source | None = None
    """Where the unit price was read (None when unpriced)."""

    @property
    def monthly_usd(self) -> float | None:
        return None if self.unit_usd is None else self.unit_usd * self.quantity

    @property
    def price_ref(self) -> str:
        return f"{self.price}[{self.variant}]" if self.variant else self.price


@dataclass
class Estimate:
    stack: str
    region: str
    currency: str
    hours_per_month: float
    lines: list[Line] = field(default_factory=list)
    free: Counter[str] = field(default_factory=Counter)
    unknown_types: Counter[str] = field(default_factory=Counter)
    """Types the table neither prices nor lists as free (the tests keep this empty for every stack)."""
    assumptions: dict[str, UsedAssumption] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    region_error: str | None = None
    read_dates: tuple[str, str] | None = None
    files: tuple[str, ...] = ()

    @property
    def priced(self) -> list[Line]:
        return [line for line in self.lines if line.unit_usd is not None]

    @property
    def unpriced(self) -> list[Line]:
        return [line for line in self.lines if line.unit_usd is None]

    @property
    def total_usd(self) -> float:
        return sum(line.monthly_usd or 0.0 for line in self.lines)

    def by_component(self) -> list[tuple[str, float, int]]:
        """(component, priced USD per month, unpriced lines), most expensive first."""
        totals: dict[str, float] = {}
        gaps: Counter[str] = Counter()
        for line in self.lines:
            totals[line.component] = totals.get(line.component, 0.0) + (line.monthly_usd or 0.0)
            if line.unit_usd is None:
                gaps[line.component] += 1
        return sorted(((c, t, gaps[c]) for c, t in totals.items()), key=lambda item: (-item[1], item[0]))

    def to_json(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "region": self.region,
            "currency": self.currency,
            "regionError": self.region_error,
            "hoursPerMonth": self.hours_per_month,
            "pricesRead": list(self.read_dates) if self.read_dates else None,
            "priceFiles": list(self.files),
            "monthlyTotal": round(self.total_usd, 2),
            "complete": not self.unpriced and not self.unknown_types and self.region_error is None,
            "byComponent": [
                {"component": c, "monthly": round(t, 2), "unpricedLines": g} for c, t, g in self.by_component()
            ],
            "lines": [
                {
                    "resource": line.name,
                    "type": line.type,
                    "urn": line.urn,
                    "component": line.component,
                    "price": line.price,
                    "variant": line.variant,
                    "region": line.region,
                    "quantity": line.quantity,
                    "unit": line.unit,
                    "detail": line.detail,
                    "unitPrice": line.unit_usd,
                    "monthly": None if line.monthly_usd is None else round(line.monthly_usd, 4),
                    "assumptions": list(line.assumptions),
                    "unpricedBecause": line.gap,
                    "source": None
                    if line.source is None
                    else {"url": line.source.url, "read": line.source.read.isoformat(), "kind": line.source.kind},
                }
                for line in self.lines
            ],
            "assumptions": {
                a.key: {"value": a.value, "unit": a.unit, "origin": a.origin, "description": a.description}
                for a in sorted(self.assumptions.values(), key=lambda a: a.key)
            },
            "freeResources": dict(sorted(self.free.items())),
            "unknownTypes": dict(sorted(self.unknown_types.items())),
            "notes": list(self.notes),
        }


def component_of(run: StackRun, resource: CapturedResource) -> str:
    """The nearest enclosing component, as ``name (type)``; resources at the stack's root are the stack's."""
    urn = resource.parent
    while urn:
        parent = run.by_urn(urn)
        if parent.type == STACK_TYPE:
            break
        if parent.is_component:
            return f"{parent.name} ({parent.type})"
        urn = parent.parent
    return STACK_COMPONENT


def parse_overrides(items: list[str], table_assumptions: Mapping[str, Any]) -> dict[str, float]:
    """``key=value`` strings (or a mapping already parsed from YAML) -> checked overrides."""
    overrides: dict[str, float] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise AssumptionError(f"--assume {item!r}: expected KEY=VALUE")
        overrides[key] = _override_value(key, raw.strip(), table_assumptions)
    return overrides


def _override_value(key: str, raw: Any, table_assumptions: Mapping[str, Any]) -> float:
    if key not in table_assumptions:
        known = ", ".join(sorted(table_assumptions))
        raise AssumptionError(f"unknown assumption {key!r}; the price table declares: {known}")
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise AssumptionError(f"assumption {key}: {raw!r} is not a number") from None
    if not math.isfinite(value) or value < 0:
        raise AssumptionError(f"assumption {key}: {raw!r} must be a finite number >= 0")
    return value


def overrides_from_mapping(data: Any, table_assumptions: Mapping[str, Any], where: str) -> dict[str, float]:
    """Overrides from an assumptions file: a mapping of assumption key to number."""
    if not isinstance(data, dict):
        raise AssumptionError(f"{where}: expected a mapping of assumption keys to numbers")
    return {str(k): _override_value(str(k), v, table_assumptions) for k, v in data.items()}


def estimate(
    run: StackRun,
    *,
    table: PriceTable | None = None,
    overrides: Mapping[str, float] | None = None,
    rules: Mapping[str, Rule] | None = None,
) -> Estimate:
    """The monthly estimate of ``run`` at the on-demand prices of its ``aws:region``."""
    region = run.config.region
    if table is None:
        try:
            table = load_table(region)
        except NoPricesForRegionError as missing:
            return Estimate(
                stack=run.stack, region=region, currency="USD", hours_per_month=0, region_error=str(missing)
            )
    rules = RULES if rules is None else rules
    context = Context(run, table, overrides or {})
    first, last = table.read_dates
    result = Estimate(
        stack=run.stack,
        region=region,
        currency=table.currency,
        hours_per_month=table.hours_per_month,
        read_dates=(first.isoformat(), last.isoformat()),
        files=tuple(str(f.name) for f in table.files),
    )
    other_regions: dict[str, PriceTable | str] = {}
    for resource in run.resources:
        if not resource.custom:
            continue
        if resource.type in table.free:
            result.free[resource.type] += 1
            continue
        declared = table.billable.get(resource.type)
        rule = rules.get(resource.type)
        if declared is None or rule is None:
            result.unknown_types[resource.type] += 1
            continue
        for charge in rule(resource, context):
            if charge.price not in declared.prices:
                raise PriceTableError(
                    f"aws.yaml: billable.{resource.type}.prices does not list {charge.price!r}, "
                    "which its estimator charges"
                )
            result.lines.append(_line(run, resource, charge, table, other_regions))
    result.assumptions = dict(sorted(context.used.items()))
    result.notes = context.notes
    return result


def _table_for(region: str, base: PriceTable, cache: dict[str, PriceTable | str]) -> PriceTable | str:
    """Another region's table (a cross-region charge is priced where it is billed), or why there is none."""
    if region == base.region:
        return base
    if region not in cache:
        try:
            cache[region] = load_table(region, base.files[0].parent)
        except NoPricesForRegionError as missing:
            cache[region] = str(missing)
    return cache[region]


def _line(
    run: StackRun, resource: CapturedResource, charge: Charge, table: PriceTable, other: dict[str, PriceTable | str]
) -> Line:
    region = charge.region or table.region
    priced_by = _table_for(region, table, other)
    unit_usd: float | None = None
    source: Source | None = None
    gap: str | None
    if isinstance(priced_by, str):
        gap = priced_by
    else:
        unit_usd = priced_by.lookup(charge.price, charge.variant)
        if unit_usd is not None:
            source = priced_by.prices[charge.price].source
        declared = priced_by.gap(charge.price, charge.variant)
        if unit_usd is not None:
            gap = None
        elif declared is not None:
            gap = declared.searched
        else:
            ref = f"{charge.price}[{charge.variant}]" if charge.variant else charge.price
            gap = f"{ref} is not in {priced_by.files[-1].name}"
    return Line(
        urn=resource.urn,
        name=resource.name,
        type=resource.type,
        component=component_of(run, resource),
        price=charge.price,
        variant=charge.variant,
        quantity=charge.quantity,
        unit=charge.unit,
        detail=charge.detail,
        region=region,
        unit_usd=unit_usd,
        assumptions=charge.assumptions,
        gap=gap,
        source=source,
    )
