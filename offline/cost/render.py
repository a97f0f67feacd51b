"""How the plan shows an estimate: two summary lines by default, the full breakdown with ``--cost``.

The summary says the priced total, the region and date of the prices, how many charges are unpriced,
and the largest components. The full section lists every charge by component (quantity, unit price,
the assumptions it rests on), the unpriced charges with why, the assumptions with where each value
came from, the free resource types, and the prices used with their sources and read dates.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable
from typing import Final

from offline.cost.estimate import Estimate, Line

_WIDTH: Final = 100
SUMMARY_COMPONENTS: Final = 3
"""How many components the summary's second line names."""


def money(usd: float) -> str:
    """$1,234.56, or $0.004 for amounts under a cent (so a small charge does not read as free)."""
    if 0 < abs(usd) < 0.01:
        return f"${usd:.4f}".rstrip("0")
    return f"${usd:,.2f}"


def number(value: float) -> str:
    """1,000,000 rather than 1e+06; up to six significant digits for a fraction."""
    if value == int(value) and abs(value) < 1e15:
        return f"{int(value):,}"
    return f"{value:,.6g}"


def unit_price(usd: float) -> str:
    return f"${usd:.10f}".rstrip("0").rstrip(".") if usd else "$0"


def _component_name(component: str) -> str:
    """``dev-api (platform:ecs:FargateService)`` -> ``dev-api (FargateService)``."""
    name, _, type_ = component.partition(" (")
    return f"{name} ({type_.rstrip(')').split(':')[-1]})" if type_ else name


def _prices_read(estimate: Estimate) -> str:
    if estimate.read_dates is None:
        return ""
    first, last = estimate.read_dates
    return f"read {first}" if first == last else f"read {first} to {last}"


def _unpriced_clause(estimate: Estimate) -> str:
    parts = []
    if estimate.unpriced:
        parts.append(f"{len(estimate.unpriced)} charges unpriced")
    if estimate.unknown_types:
        parts.append(f"{sum(estimate.unknown_types.values())} resources of types the table does not know")
    return ", ".join(parts)


def summary_lines(estimate: Estimate) -> list[str]:
    """One or two lines for the plan's summary: the priced total, where the prices come from, the gaps,
    and the largest components."""
    if estimate.region_error is not None:
        return [f"not estimated: {estimate.region_error}"]
    gaps = _unpriced_clause(estimate)
    first = f"~{money(estimate.total_usd)}/month at {estimate.region} on-demand prices {_prices_read(estimate)}"
    lines = [first + (f" ({gaps}, not in the total)" if gaps else "")]
    largest = [(c, t) for c, t, _ in estimate.by_component() if t > 0][:SUMMARY_COMPONENTS]
    if largest:
        lines.append("largest: " + ", ".join(f"{_component_name(c)} {money(t)}" for c, t in largest))
    return lines


def _wrap(text: str, indent: str, more: str | None = None) -> list[str]:
    """``text`` in lines of at most 100 characters: the first after ``indent``, the rest after ``more``
    (by default as many spaces, plus two)."""
    more = " " * len(indent) + "  " if more is None else more
    return textwrap.wrap(
        text, _WIDTH, initial_indent=indent, subsequent_indent=more, break_on_hyphens=False, break_long_words=False
    )


def _line_text(line: Line, region: str) -> str:
    amount = f"{number(line.quantity)} {line.unit}"
    if line.unit_usd is not None:
        amount += f" x {unit_price(line.unit_usd)}"
    where = f" in {line.region}" if line.region != region else ""
    assumes = f"; assumes {', '.join(line.assumptions)}" if line.assumptions else ""
    return f"{line.name}: {line.price_ref}{where}: {amount} ({line.detail}{assumes})"


def _charges(estimate: Estimate) -> list[str]:
    lines: list[str] = []
    by_component: dict[str, list[Line]] = {}
    for line in estimate.lines:
        by_component.setdefault(line.component, []).append(line)
    for component, total, gaps in estimate.by_component():
        unpriced = f", {gaps} unpriced" if gaps else ""
        lines.append(f"  {money(total):>10}  {component}{unpriced}")
        for line in by_component[component]:
            shown = "unpriced" if line.monthly_usd is None else money(line.monthly_usd)
            lines += _wrap(_line_text(line, estimate.region), f"  {shown:>10}    ", " " * 18)
    return lines


def _unpriced(estimate: Estimate) -> list[str]:
    grouped: dict[tuple[str, str], list[Line]] = {}
    for line in estimate.unpriced:
        grouped.setdefault((line.price_ref, line.gap or ""), []).append(line)
    lines = []
    for (ref, why), found in sorted(grouped.items()):
        quantity = sum(line.quantity for line in found)
        count = f"{len(found)} charge" if len(found) == 1 else f"{len(found)} charges"
        lines += _wrap(f"{ref}: {count}, {number(quantity)} {found[0].unit} in all; {why}", "    ")
    return lines


def _assumptions(estimate: Estimate) -> list[str]:
    lines = []
    for used in estimate.assumptions.values():
        lines += _wrap(f"{used.key} = {number(used.value)} {used.unit} ({used.origin}): {used.description}", "    ")
    return lines


def _short(token: str) -> str:
    """``aws:rds/parameterGroup:ParameterGroup`` -> ``rds:ParameterGroup`` (two modules share that name)."""
    package, module, type_ = token.split(":")
    return f"{module.split('/')[0] if package == 'aws' else package}:{type_}"


def _free(estimate: Estimate) -> list[str]:
    items = ", ".join(f"{_short(token)} x{count}" for token, count in sorted(estimate.free.items()))
    total = sum(estimate.free.values())
    return _wrap(f"{total} resources of {len(estimate.free)} free types: {items}", "    ")


def _sources(estimate: Estimate) -> list[str]:
    used: dict[str, Line] = {}
    for line in estimate.priced:
        used.setdefault(f"{line.price_ref}@{line.region}", line)
    lines = []
    for ref in sorted(used):
        line = used[ref]
        source = line.source
        if source is None or line.unit_usd is None:
            continue  # not a priced line
        as_of = f", figures of {source.as_of}" if source.as_of else ""
        lines += _wrap(
            f"{line.price_ref} ({line.region}) {unit_price(line.unit_usd)} per {line.unit}: {source.kind}, "
            f"read {source.read}{as_of}: {source.url}",
            "    ",
        )
    return lines


def cost_section(estimate: Estimate) -> list[str]:
    """The full estimate (``--cost``)."""
    head = f"Cost estimate of stack '{estimate.stack}' in {estimate.region}"
    if estimate.region_error is not None:
        return [f"{head}: not estimated.", *_wrap(estimate.region_error, "  ")]
    files = ", ".join(f"offline/pricing/{name}" for name in estimate.files)
    lines = [
        *_wrap(
            f"{head}: {estimate.currency} per month of {estimate.hours_per_month:g} hours at on-demand prices "
            f"({_prices_read(estimate)}; {files}). Every figure rests on the plan's resources and the "
            "assumptions listed; taxes, credits, savings plans, the account's free tier and support are not in it.",
            "",
            "",
        ),
        "",
        f"  Total:     {money(estimate.total_usd)}/month priced"
        + (
            f"; {_unpriced_clause(estimate)}, not in the total"
            if _unpriced_clause(estimate)
            else "; every charge priced"
        ),
        "",
        "Charges by component (monthly, then each resource's charges: quantity x unit price):",
        *_charges(estimate),
    ]
    if estimate.unpriced:
        lines += ["", "Unpriced (no figure for the region in the table; not in the total):", *_unpriced(estimate)]
    if estimate.unknown_types:
        unknown = ", ".join(f"{t} x{n}" for t, n in sorted(estimate.unknown_types.items()))
        lines += ["", "Types the table neither prices nor lists as free (not estimated):", *_wrap(unknown, "    ")]
    lines += [
        "",
        "Assumptions (usage the plan cannot know; override with --assume KEY=VALUE or --assumptions FILE):",
        *_assumptions(estimate),
    ]
    if estimate.notes:
        lines += ["", "Notes:", *[row for note in estimate.notes for row in _wrap(note, "    ")]]
    lines += ["", "Free (no charge for the resource itself):", *_free(estimate)]
    lines += ["", "Prices used (source kind, when read, where to re-read):", *_sources(estimate)]
    return lines


def markdown_lines(estimate: Estimate) -> Iterable[str]:
    """The estimate in a CI job summary: the summary line and a folded table by component."""
    if estimate.region_error is not None:
        yield f"Estimated cost: not estimated ({estimate.region_error}).\n"
        return
    yield f"Estimated cost: {' '.join(summary_lines(estimate)[:1])}.\n"
    yield "<details><summary>Cost by component</summary>\n"
    yield "| Component | USD/month | Unpriced charges |\n|---|---:|---:|"
    for component, total, gaps in estimate.by_component():
        yield f"| `{component}` | {total:,.2f} | {gaps} |"
    yield "\n</details>\n"
