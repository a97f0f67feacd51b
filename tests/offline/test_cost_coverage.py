"""Every billable resource type a plan can contain is priced or declared unpriced, every free one is
listed as free with why, and every price in the table says where and when it was read."""

from __future__ import annotations

import pytest

from mockcloud import registry
from offline.cost import docs
from offline.cost.rules import RULES
from offline.cost.table import PriceTable, load_table
from tests.offline.cost_support import PLANS, REGION, estimate_of
from tests.support import cached_run

KNOWN_GAPS: set[str] = {
    "cloudmap.registered_instance_month",
    "cloudwatch.dashboard_month",  # no price per region found (docs/cost.md)
    "cloudwatch.container_insights_enhanced_metric_month",
    "data_transfer.inter_region_gb",
    "ecr.storage_gb_month",  # the eu-central-1 replica: there is no eu-central-1 table
    "elasticache.backup_gb_month",
    "elb.gwlb_glcu_hour",
    "elb.gwlb_hour",
    "elb.nlb_hour",
    "elb.nlb_nlcu_hour",
    "fargate_spot.gb_hour",  # the linux-arm64 variant
    "fargate_spot.vcpu_hour",  # the linux-arm64 variant
    "inspector.ecr_initial_scan",
    "inspector.ecr_rescan",
    "logs.vended_ingest_gb",
    "route53.queries_million",
    "s3.put_requests_1k",
    "s3.standard_gb_month",
    "vpc.gwlb_endpoint_gb",
    "vpc.gwlb_endpoint_hour",
}
"""Price keys the plans charge for but the table could not price (docs/cost.md says what was searched).
A price found, or a new charge without one, changes this set: update it, the table and the docs together."""


@pytest.fixture(scope="module")
def table() -> PriceTable:
    return load_table(REGION)


@pytest.mark.parametrize("case", list(PLANS))
def test_every_resource_of_the_plan_is_priced_free_or_a_declared_gap(case: str, table: PriceTable) -> None:
    result = estimate_of(case)
    assert result.region_error is None
    assert not result.unknown_types, (
        f"{case}: types the table neither prices nor lists as free: {dict(result.unknown_types)}; add each to "
        "offline/pricing/aws.yaml (billable, with an estimator in offline/cost/rules.py, or free, with why)"
    )
    undeclared = [
        f"{line.name}: {line.price_ref}"
        for line in result.unpriced
        if line.region == REGION and table.gap(line.price, line.variant) is None
    ]
    assert not undeclared, f"{case}: charges with neither a price nor a declared gap in aws-{REGION}.yaml"
    assert {line.price for line in result.unpriced} <= KNOWN_GAPS, "a new unpriced charge: see KNOWN_GAPS"


def test_the_known_gaps_are_exactly_what_the_plans_leave_unpriced() -> None:
    unpriced = {line.price for case in PLANS for line in estimate_of(case).unpriced}
    assert unpriced == KNOWN_GAPS, "a gap closed or opened: update KNOWN_GAPS and docs/cost.md"


def test_every_type_the_mock_cloud_can_create_is_free_or_billable_with_an_estimator(table: PriceTable) -> None:
    registry.load_all()
    tokens = [entry.token for entry in registry.RESOURCE_OUTPUTS]
    missing = [t for t in tokens if t not in table.free and t not in table.billable]
    assert not missing, f"resource types with no entry in offline/pricing/aws.yaml (billable or free): {missing}"
    assert sorted(t for t in table.billable if t not in RULES) == [], "a billable type without an estimator"
    assert sorted(t for t in RULES if t not in table.billable) == [], "an estimator for a type not declared billable"


def test_every_price_key_a_billable_type_uses_is_priced_or_declared_unpriced(table: PriceTable) -> None:
    keys = {key for entry in table.billable.values() for key in entry.prices}
    declared = {gap.key for gap in table.gaps}
    assert sorted(keys - set(table.prices) - declared) == []
    assert sorted((set(table.prices) | declared) - keys) == [], "prices no billable type uses"


def test_free_types_say_why_and_where_that_is_stated(table: PriceTable) -> None:
    for free in table.free.values():
        assert free.reason, free.token
        assert free.source.startswith("https://"), free.token


def test_every_price_has_a_source_url_and_the_date_it_was_read(table: PriceTable) -> None:
    for price in table.prices.values():
        assert price.source.url.startswith("https://"), price.key
        assert price.source.read.year >= 2024, price.key
        assert price.source.quote, price.key


def test_docs_cost_md_is_up_to_date() -> None:
    runs = {case: cached_run(stack, **overrides) for case, (stack, overrides) in docs.CASES.items()}
    current = docs.DOC.read_text(encoding="utf-8")
    assert docs.render(current, runs) == current, "docs/cost.md is stale: run `uv run python -m offline.cost.docs`"
