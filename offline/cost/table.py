"""The price table: what each billable resource type is charged for, what is free, and the usage assumptions.

Two kinds of file under ``offline/pricing/``:

- ``aws.yaml``, region-independent: ``billable`` (each billable resource type and the price keys its
  charges use), ``free`` (each free resource type, with the reason and where that is stated),
  ``assumptions`` (usage the plan cannot know: requests, GB, log volume; a default and per-stack values),
  and ``hours_per_month``.
- ``aws-<region>.yaml``, one per region: ``prices`` (each price key with its unit, the USD amount or a
  table of variants such as node types, the source it was read from and the date it was read) and
  ``unpriced`` (price keys or variants that were searched for and not found, with what was searched).

A region without a file has no prices: the estimate says so instead of borrowing another region's.
The loader refuses a malformed table with a message naming the file, the entry and what is wrong, so a
typo in a price cannot silently become a zero.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import yaml

from mockcloud.runner import PROJECT_DIR

PRICING_DIR: Final = PROJECT_DIR / "offline" / "pricing"
COMMON_FILE: Final = "aws.yaml"
SOURCE_KINDS: Final = ("aws-price-list", "aws-pricing-page", "aws-pricing-page-data", "aws-documentation", "secondary")
"""Where a price was read, strongest first. ``aws-price-list``: an AWS Price List API offer file;
``aws-pricing-page``: the text of an aws.amazon.com pricing page; ``aws-pricing-page-data``: the JSON
an aws.amazon.com pricing page renders its tables from (b0.p.awsstatic.com metered unit maps);
``aws-documentation``: an AWS user guide or blog; ``secondary``: a public document quoting AWS's
figure for the region (its own source is recorded in ``quote``)."""
_KEY: Final = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)+$")
_TOKEN: Final = re.compile(r"^[a-z0-9-]+:[A-Za-z0-9]+/[A-Za-z0-9]+:[A-Z][A-Za-z0-9]*$")


class PriceTableError(ValueError):
    """The price table is malformed: names the file, the entry and what is wrong."""


class NoPricesForRegionError(LookupError):
    """No ``aws-<region>.yaml``: the estimate reports the region as unpriced rather than guessing."""

    def __init__(self, region: str, directory: Path) -> None:
        self.region = region
        known = sorted(p.stem.removeprefix("aws-") for p in directory.glob("aws-*.yaml"))
        shown = directory.relative_to(PROJECT_DIR) if directory.is_relative_to(PROJECT_DIR) else directory
        super().__init__(
            f"no prices for region {region}: {shown}/aws-{region}.yaml does not exist "
            f"(priced regions: {', '.join(known) or 'none'})"
        )


@dataclass(frozen=True)
class Source:
    """Where a price or a free-of-charge statement was read, and when."""

    url: str
    read: datetime.date
    kind: str
    quote: str
    """What the source says, in its own words or figures, so a reader can check it again."""
    as_of: datetime.date | None = None
    """The date of the figures themselves (an offer file's publication date), when the source gives one."""


@dataclass(frozen=True)
class Price:
    """One price key of a region: a flat amount, or one amount per variant (node type, engine, deployment)."""

    key: str
    unit: str
    source: Source
    usd: float | None = None
    variants: Mapping[str, float] = field(default_factory=dict)
    note: str = ""


@dataclass(frozen=True)
class Gap:
    """A price key (or one variant of it) that was searched for and not found: shown, never guessed."""

    key: str
    variant: str | None
    searched: str


@dataclass(frozen=True)
class FreeType:
    token: str
    reason: str
    source: str


@dataclass(frozen=True)
class BillableType:
    token: str
    charges: str
    """What AWS bills for a resource of this type, in a sentence (shown in docs and the full report)."""
    prices: tuple[str, ...]
    """The price keys its estimator may use; the tests check each is priced or declared a gap."""


@dataclass(frozen=True)
class Assumption:
    """Usage the plan cannot know. The default, per-stack values, and ``--assume`` overrides, in that order."""

    key: str
    unit: str
    default: float
    description: str
    by_stack: Mapping[str, float] = field(default_factory=dict)

    def value_for(self, stack: str) -> tuple[float, str]:
        """The table's value for a stack and where it came from (``table (prod)`` or ``table default``)."""
        if stack in self.by_stack:
            return self.by_stack[stack], f"table ({stack})"
        return self.default, "table default"


@dataclass(frozen=True)
class PriceTable:
    region: str
    currency: str
    hours_per_month: float
    prices: Mapping[str, Price]
    gaps: tuple[Gap, ...]
    billable: Mapping[str, BillableType]
    free: Mapping[str, FreeType]
    assumptions: Mapping[str, Assumption]
    files: tuple[Path, ...]

    @property
    def read_dates(self) -> tuple[datetime.date, datetime.date]:
        dates = [p.source.read for p in self.prices.values()]
        return min(dates), max(dates)

    def gap(self, key: str, variant: str | None) -> Gap | None:
        """The declared gap for a key or one of its variants (a key-wide gap covers every variant)."""
        return next((g for g in self.gaps if g.key == key and g.variant in (None, variant)), None)

    def lookup(self, key: str, variant: str | None) -> float | None:
        """USD per unit, or None when the region has no price for that key (or that variant of it)."""
        price = self.prices.get(key)
        if price is None:
            return None
        if variant is None:
            return price.usd
        return price.variants.get(variant)


_KIND_NAMES: Final = {str: "a string", dict: "a mapping", list: "a list", datetime.date: "a date (YYYY-MM-DD)"}


def _kind_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if set(kinds) <= {int, float}:
        return "a number"
    return " or ".join(_KIND_NAMES.get(k, k.__name__) for k in kinds)


def _require(mapping: Any, where: str, name: str, kind: type | tuple[type, ...]) -> Any:
    if not isinstance(mapping, dict) or name not in mapping:
        raise PriceTableError(f"{where}: missing {name!r}")
    value = mapping[name]
    # bool is an int: a YAML `true` where a number belongs is an error, not 1.
    if (isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,))) or not isinstance(
        value, kind
    ):
        raise PriceTableError(f"{where}: {name!r} must be {_kind_name(kind)}, got {value!r}")
    return value


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise PriceTableError(f"{where}: must be a number >= 0, got {value!r}")
    return float(value)


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise PriceTableError(f"{path.name}: not valid YAML: {error}") from error
    if not isinstance(data, dict):
        raise PriceTableError(f"{path.name}: expected a mapping at the top level")
    return data


def _source(entry: Any, where: str) -> Source:
    source = _require(entry, where, "source", dict)
    read = _require(source, f"{where}.source", "read", datetime.date)
    kind = _require(source, f"{where}.source", "kind", str)
    if kind not in SOURCE_KINDS:
        raise PriceTableError(f"{where}.source.kind: {kind!r} is not one of {', '.join(SOURCE_KINDS)}")
    url = _require(source, f"{where}.source", "url", str)
    if not url.startswith("https://"):
        raise PriceTableError(f"{where}.source.url: expected an https:// URL, got {url!r}")
    as_of = source.get("as_of")
    if as_of is not None and not isinstance(as_of, datetime.date):
        raise PriceTableError(f"{where}.source.as_of: expected a date (YYYY-MM-DD), got {as_of!r}")
    return Source(
        url=url, read=read, kind=kind, quote=_require(source, f"{where}.source", "quote", str).strip(), as_of=as_of
    )


def _prices(data: dict[str, Any], name: str) -> dict[str, Price]:
    prices: dict[str, Price] = {}
    for key, entry in (_require(data, name, "prices", dict)).items():
        where = f"{name}: prices.{key}"
        if not _KEY.match(key):
            raise PriceTableError(f"{where}: keys are dotted lower-case names (service.item), got {key!r}")
        has_usd, has_variants = "usd" in entry, "variants" in entry
        if has_usd == has_variants:
            raise PriceTableError(f"{where}: give exactly one of 'usd' (one amount) or 'variants' (amount per variant)")
        variants = {}
        if has_variants:
            raw = _require(entry, where, "variants", dict)
            variants = {str(v): _number(amount, f"{where}.variants.{v}") for v, amount in raw.items()}
        prices[key] = Price(
            key=key,
            unit=_require(entry, where, "unit", str),
            source=_source(entry, where),
            usd=_number(entry["usd"], f"{where}.usd") if has_usd else None,
            variants=variants,
            note=str(entry.get("note", "")).strip(),
        )
    return prices


def _gaps(data: dict[str, Any], name: str, prices: Mapping[str, Price]) -> tuple[Gap, ...]:
    gaps: list[Gap] = []
    for ref, searched in (data.get("unpriced") or {}).items():
        key, _, rest = str(ref).partition("[")
        variant = rest.removesuffix("]") if rest else None
        if not _KEY.match(key):
            raise PriceTableError(f"{name}: unpriced.{ref}: expected 'service.item' or 'service.item[variant]'")
        if variant is None and key in prices:
            raise PriceTableError(f"{name}: unpriced.{ref}: the key is priced; declare the missing variant instead")
        if variant is not None and key in prices and variant in prices[key].variants:
            raise PriceTableError(f"{name}: unpriced.{ref}: that variant is priced")
        if not isinstance(searched, str) or not searched.strip():
            raise PriceTableError(f"{name}: unpriced.{ref}: say what was searched and not found")
        gaps.append(Gap(key=key, variant=variant, searched=searched.strip()))
    return tuple(gaps)


def _common(data: dict[str, Any]) -> tuple[float, dict[str, BillableType], dict[str, FreeType], dict[str, Assumption]]:
    hours = _number(_require(data, COMMON_FILE, "hours_per_month", (int, float)), f"{COMMON_FILE}: hours_per_month")
    billable: dict[str, BillableType] = {}
    for token, entry in _require(data, COMMON_FILE, "billable", dict).items():
        where = f"{COMMON_FILE}: billable.{token}"
        if not _TOKEN.match(token):
            raise PriceTableError(f"{where}: expected a Pulumi type token (pkg:module/name:Type)")
        keys = _require(entry, where, "prices", list)
        billable[token] = BillableType(
            token=token, charges=_require(entry, where, "charges", str).strip(), prices=tuple(str(k) for k in keys)
        )
    free: dict[str, FreeType] = {}
    for token, entry in _require(data, COMMON_FILE, "free", dict).items():
        where = f"{COMMON_FILE}: free.{token}"
        if not _TOKEN.match(token):
            raise PriceTableError(f"{where}: expected a Pulumi type token (pkg:module/name:Type)")
        if token in billable:
            raise PriceTableError(f"{where}: listed both as billable and as free")
        free[token] = FreeType(
            token=token,
            reason=_require(entry, where, "reason", str).strip(),
            source=_require(entry, where, "source", str),
        )
    assumptions: dict[str, Assumption] = {}
    for key, entry in _require(data, COMMON_FILE, "assumptions", dict).items():
        where = f"{COMMON_FILE}: assumptions.{key}"
        if not _KEY.match(key):
            raise PriceTableError(f"{where}: keys are dotted lower-case names, got {key!r}")
        by_stack = {str(s): _number(v, f"{where}.by_stack.{s}") for s, v in (entry.get("by_stack") or {}).items()}
        assumptions[key] = Assumption(
            key=key,
            unit=_require(entry, where, "unit", str),
            default=_number(_require(entry, where, "default", (int, float)), f"{where}.default"),
            description=_require(entry, where, "description", str).strip(),
            by_stack=by_stack,
        )
    return hours, billable, free, assumptions


def load_common_assumptions(directory: Path = PRICING_DIR) -> dict[str, Assumption]:
    """The assumptions ``aws.yaml`` declares (for checking ``--assume`` keys before anything runs)."""
    return _common(_read_yaml(directory / COMMON_FILE))[3]


def load_table(region: str, directory: Path = PRICING_DIR) -> PriceTable:
    """The table for ``region``: the common file plus ``aws-<region>.yaml``; NoPricesForRegionError without one."""
    region_file = directory / f"aws-{region}.yaml"
    if not region_file.exists():
        raise NoPricesForRegionError(region, directory)
    hours, billable, free, assumptions = _common(_read_yaml(directory / COMMON_FILE))
    data = _read_yaml(region_file)
    if data.get("region") != region:
        raise PriceTableError(f"{region_file.name}: 'region' must be {region!r}, got {data.get('region')!r}")
    currency = _require(data, region_file.name, "currency", str)
    prices = _prices(data, region_file.name)
    return PriceTable(
        region=region,
        currency=currency,
        hours_per_month=hours,
        prices=prices,
        gaps=_gaps(data, region_file.name, prices),
        billable=billable,
        free=free,
        assumptions=assumptions,
        files=(directory / COMMON_FILE, region_file),
    )
