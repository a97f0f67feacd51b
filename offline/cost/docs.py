"""Keep docs/cost.md's generated sections in step with the plan and the price table.

    python -m offline.cost.docs          # rewrite the sections in docs/cost.md
    python -m offline.cost.docs --check  # exit 1 if docs/cost.md is stale (the tests check the same)

Sections sit between ``<!-- BEGIN generated:NAME -->`` and ``<!-- END generated:NAME -->``:
``estimates`` (the committed stacks' estimates by component, and dev as it was before the cost
review), ``choices`` (what each choice costs a month at the table's prices), ``assumptions`` (every
usage assumption with its default and per-stack values) and ``prices`` (every price with its source
kind and read date); the last three come from the table alone.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping
from typing import Any, Final

from mockcloud.runner import PROJECT_DIR, StackRun, close_event_loop, run_stack
from offline.cost.estimate import Estimate, estimate
from offline.cost.render import money, number, unit_price
from offline.cost.table import PriceTable, load_table
from offline.generated import fill_sections

DOC: Final = PROJECT_DIR / "docs" / "cost.md"
REGION: Final = "eu-west-1"
CASES: Final[dict[str, tuple[str, dict[str, Any]]]] = {
    "dev": ("dev", {}),
    "dev before the review": ("dev", {"vpcEndpoints": True}),
    "prod": ("prod", {}),
}
"""The estimates the document shows: the committed stacks, and dev with the interface endpoints it had
before the cost review turned them off (Pulumi.dev.yaml)."""


def _component(component: str) -> str:
    name, _, type_ = component.partition(" (")
    return f"`{name}` ({type_.rstrip(')').split(':')[-1]})" if type_ else f"`{name}`"


def estimates_section(runs: Mapping[str, StackRun]) -> str:
    results: dict[str, Estimate] = {case: estimate(runs[case]) for case in CASES}
    rows = [
        "| Estimate | USD/month (priced) | Unpriced charges | Overrides |",
        "|---|---:|---:|---|",
    ]
    for case, result in results.items():
        overrides = ", ".join(f"`{k}: {str(v).lower()}`" for k, v in CASES[case][1].items()) or "none"
        rows.append(f"| {case} | {money(result.total_usd)} | {len(result.unpriced)} | {overrides} |")
    sections = ["\n".join(rows)]
    for case, result in results.items():
        table = [f"**{case}** by component:", "", "| Component | USD/month | Unpriced charges |", "|---|---:|---:|"]
        table += [f"| {_component(c)} | {money(t)} | {g} |" for c, t, g in result.by_component()]
        unpriced: dict[str, int] = {}
        for line in result.unpriced:
            unpriced[line.price_ref] = unpriced.get(line.price_ref, 0) + 1
        gaps = ", ".join(f"`{ref}` ({n})" for ref, n in sorted(unpriced.items())) or "none"
        table += ["", f"Unpriced in {case}: {gaps}."]
        sections.append("\n".join(table))
    return "\n\n".join(sections)


def choices_section(table: PriceTable) -> str:
    """What each choice costs a month, computed from the table's unit prices (so it follows them)."""
    hours = table.hours_per_month

    def price(key: str, variant: str | None = None) -> float:
        value = table.lookup(key, variant)
        if value is None:
            raise LookupError(f"docs/cost.md needs {key}[{variant}], which the {table.region} table does not price")
        return value

    def month(key: str, variant: str | None = None) -> float:
        return price(key, variant) * hours

    def task(vcpu: float, gb: float, prefix: str, arch: str) -> float:
        return (vcpu * price(f"{prefix}.vcpu_hour", arch) + gb * price(f"{prefix}.gb_hour", arch)) * hours

    endpoint = month("vpc.interface_endpoint_az_hour")
    address = month("vpc.public_ipv4_hour")
    nat = month("vpc.nat_gateway_hour") + address
    saved_per_gb = price("vpc.nat_gateway_gb") - price("vpc.interface_endpoint_gb")
    metrics = table.assumptions["container_insights.metrics_per_cluster"].default
    waf = month("waf.web_acl_month") / hours + 5 * price("waf.rule_month") + price("waf.requests_million")
    x86, arm = "linux-x86_64", "linux-arm64"
    rows = [
        (
            "Interface endpoint",
            f"{money(endpoint)} per AZ, + {unit_price(price('vpc.interface_endpoint_gb'))}/GB",
            "6 endpoints (ECR api and dkr, Logs, Secrets Manager, SSM messages, KMS): "
            f"{money(12 * endpoint)} in 2 AZs, {money(18 * endpoint)} in 3",
        ),
        (
            "NAT gateway and its address",
            f"{money(nat)}, + {unit_price(price('vpc.nat_gateway_gb'))}/GB",
            f"dev: 1; prod: 3 (`per-az`, survives an AZ outage) = {money(3 * nat)}",
        ),
        (
            "Endpoints instead of NAT for AWS traffic",
            "break-even GB a month: the endpoints' hours / (NAT "
            f"{unit_price(price('vpc.nat_gateway_gb'))} - endpoint "
            f"{unit_price(price('vpc.interface_endpoint_gb'))} per GB)",
            f"{number(round(12 * endpoint / saved_per_gb))} GB in 2 AZs, "
            f"{number(round(18 * endpoint / saved_per_gb))} in 3",
        ),
        ("Public IPv4 address (EIP, ALB per AZ)", money(address), "billed in use or idle since February 2024"),
        (
            "ALB",
            f"{money(month('elb.alb_hour'))} + its addresses + {unit_price(price('elb.alb_lcu_hour'))} per LCU-hour",
            f"internet-facing in 2 AZs: {money(month('elb.alb_hour') + 2 * address)} before LCUs",
        ),
        (
            "Fargate task, 0.25 vCPU / 0.5 GB",
            f"on-demand {money(task(0.25, 0.5, 'fargate', x86))}; Spot "
            f"{money(task(0.25, 0.5, 'fargate_spot', x86))}; on-demand arm64 {money(task(0.25, 0.5, 'fargate', arm))}",
            "dev: every task on Spot",
        ),
        (
            "Fargate task, 1 vCPU / 2 GB",
            f"on-demand {money(task(1, 2, 'fargate', x86))}; Spot "
            f"{money(task(1, 2, 'fargate_spot', x86))}; on-demand arm64 {money(task(1, 2, 'fargate', arm))}",
            "prod api: 3 on FARGATE (base 3)",
        ),
        (
            "Valkey node",
            f"cache.t4g.micro {money(month('elasticache.node_hour', 'valkey cache.t4g.micro'))}; "
            f"cache.m7g.large {money(month('elasticache.node_hour', 'valkey cache.m7g.large'))}; "
            f"cache.r7g.large {money(month('elasticache.node_hour', 'valkey cache.r7g.large'))}",
            "dev 2 x t4g.micro; prod 3 x r7g.large",
        ),
        (
            "RDS for PostgreSQL",
            f"db.t4g.micro {money(month('rds.instance_hour', 'postgres db.t4g.micro single-az'))}; "
            f"db.m7g.large {money(month('rds.instance_hour', 'postgres db.m7g.large single-az'))}, Multi-AZ "
            f"{money(month('rds.instance_hour', 'postgres db.m7g.large multi-az'))}; gp3 "
            f"{unit_price(price('rds.storage_gb_month', 'gp3 single-az'))}/GB-month (Multi-AZ "
            f"{unit_price(price('rds.storage_gb_month', 'gp3 multi-az'))})",
            "dev single-AZ; prod Multi-AZ (required there)",
        ),
        (
            "Container Insights `enabled`",
            f"{unit_price(price('cloudwatch.custom_metric_month'))} per metric: "
            f"{number(metrics)} assumed metrics = {money(metrics * price('cloudwatch.custom_metric_month'))}",
            "the default and dev; prod's `enhanced` is unpriced",
        ),
        (
            "Logs",
            f"{unit_price(price('logs.ingest_gb'))}/GB ingested, then {unit_price(price('logs.storage_gb_month'))} "
            "per GB-month kept",
            f"1 GB/day kept 365 days: {money(365 * price('logs.storage_gb_month'))} a month once full",
        ),
        (
            "CloudWatch alarm",
            f"{unit_price(price('cloudwatch.alarm_standard_month'))} per standard alarm metric",
            "target tracking adds 2 per policy",
        ),
        (
            "KMS key, secret",
            f"{money(price('kms.key_month'))}, {money(price('secretsmanager.secret_month'))} a month",
            "",
        ),
        (
            "WAF web ACL",
            f"{money(price('waf.web_acl_month'))} + {money(price('waf.rule_month'))} per rule or group + "
            f"{money(price('waf.requests_million'))} per million requests",
            f"4 managed groups and a rate rule at 1M requests: {money(waf)}",
        ),
        ("Route 53 hosted zone", money(price("route53.hosted_zone_month")), "ACM public certificates are free"),
    ]
    lines = ["| Choice | Monthly cost | Here |", "|---|---|---|"]
    lines += [f"| {choice} | {cost} | {where} |" for choice, cost, where in rows]
    return "\n".join(lines)


def assumptions_section(table: PriceTable) -> str:
    stacks = sorted({stack for a in table.assumptions.values() for stack in a.by_stack})
    rows = [
        "| Assumption | Unit | Default | " + " | ".join(stacks) + " | What it is |",
        "|---|---|---:|" + "---:|" * len(stacks) + "---|",
    ]
    for key, assumption in sorted(table.assumptions.items()):
        per_stack = [number(assumption.by_stack[s]) if s in assumption.by_stack else "" for s in stacks]
        description = " ".join(assumption.description.split()).replace("|", "\\|")
        rows.append(
            f"| `{key}` | {assumption.unit} | {number(assumption.default)} | "
            + " | ".join(per_stack)
            + f" | {description} |"
        )
    return "\n".join(rows)


def prices_section(table: PriceTable) -> str:
    rows = ["| Price | Unit | USD | Source | Read | Figures of |", "|---|---|---:|---|---|---|"]
    for key, price in sorted(table.prices.items()):
        source = price.source
        dated = str(source.as_of) if source.as_of else ""
        link = f"[{source.kind}]({source.url})"
        if price.usd is not None:
            rows.append(f"| `{key}` | {price.unit} | {unit_price(price.usd)} | {link} | {source.read} | {dated} |")
        else:
            low, high = min(price.variants.values()), max(price.variants.values())
            shown = f"{number(len(price.variants))} variants, {unit_price(low)} to {unit_price(high)}"
            rows.append(f"| `{key}` | {price.unit} | {shown} | {link} | {source.read} | {dated} |")
    gaps = ", ".join(f"`{g.key}[{g.variant}]`" if g.variant else f"`{g.key}`" for g in table.gaps)
    return (
        "\n".join(rows)
        + f"\n\nDeclared unpriced (searched, not found; `unpriced:` in the file says what was searched): {gaps}."
    )


def runs_for_docs() -> dict[str, StackRun]:
    return {case: run_stack(stack, overrides=overrides or None) for case, (stack, overrides) in CASES.items()}


def render(text: str, runs: Mapping[str, StackRun], table: PriceTable | None = None) -> str:
    table = table or load_table(REGION)
    sections: dict[str, Callable[[], str]] = {
        "estimates": lambda: estimates_section(runs),
        "choices": lambda: choices_section(table),
        "assumptions": lambda: assumptions_section(table),
        "prices": lambda: prices_section(table),
    }
    return fill_sections(text, sections, "docs/cost.md")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m offline.cost.docs")
    parser.add_argument("--check", action="store_true", help="exit 1 if docs/cost.md is out of date")
    args = parser.parse_args(argv)
    current = DOC.read_text(encoding="utf-8")
    fresh = render(current, runs_for_docs())
    if args.check:
        if fresh != current:
            print("docs/cost.md is stale: run `uv run python -m offline.cost.docs`", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(fresh, encoding="utf-8")
    print("docs/cost.md updated" if fresh != current else "docs/cost.md already up to date")
    return 0


if __name__ == "__main__":
    try:
        code = main()
    finally:
        close_event_loop()
    sys.exit(code)
