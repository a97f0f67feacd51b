"""The cost estimate's charges, computed from the plan's inputs and the table's prices; assumptions and
their overrides; the estimate in the plan's summary, its --cost section and its JSON."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from mockcloud.runner import StackConfig
from offline import plan
from offline.cost.estimate import AssumptionError, estimate, parse_overrides
from offline.cost.rules import capacity_split
from offline.cost.table import PriceTable, load_table
from tests.offline.cost_support import REGION, estimate_of, lines_of, one_of
from tests.support import cached_run


@pytest.fixture(scope="module")
def table() -> PriceTable:
    return load_table(REGION)


def test_a_region_without_a_table_is_reported_not_priced_with_another_regions_prices() -> None:
    run = cached_run("dev")
    elsewhere = StackConfig(values={**run.config.values, "aws:region": "us-east-1"}, secret_keys=run.config.secret_keys)
    result = estimate(dataclasses.replace(run, config=elsewhere))
    assert result.region_error is not None
    assert result.region_error.startswith("no prices for region us-east-1: ")
    assert "priced regions: eu-west-1" in result.region_error
    assert result.lines == []
    assert result.to_json()["complete"] is False


# --- charges from the plan's inputs -------------------------------------------------------------


def test_interface_endpoints_bill_per_az_hour_and_their_traffic_leaves_nat(table: PriceTable) -> None:
    with_endpoints = estimate_of("dev with endpoints")
    hours = lines_of(with_endpoints, "vpc.interface_endpoint_az_hour")
    assert len(hours) == 6
    assert all(line.quantity == 2 * 730 for line in hours), "two AZs, 730 hours each"
    per_endpoint = table.lookup("vpc.interface_endpoint_az_hour", None)
    assert per_endpoint is not None
    assert sum(line.monthly_usd or 0 for line in hours) == pytest.approx(6 * 2 * 730 * per_endpoint)
    nat_gb = one_of(with_endpoints, "vpc.nat_gateway_gb")
    assert nat_gb.quantity == pytest.approx(1.0), "only the internet traffic assumption goes through NAT"

    without = estimate_of("dev")
    assert lines_of(without, "vpc.interface_endpoint_az_hour") == []
    routed = one_of(without, "vpc.nat_gateway_gb")
    assert "s3 (image layers)" in routed.detail
    assert "logs" in routed.detail
    assert routed.quantity > nat_gb.quantity
    assert without.total_usd < with_endpoints.total_usd


def test_nat_gateways_and_their_addresses(table: PriceTable) -> None:
    prod = estimate_of("prod")
    gateways = lines_of(prod, "vpc.nat_gateway_hour")
    assert len(gateways) == 3, "per-az NAT in three AZs"
    nat_hour = table.lookup("vpc.nat_gateway_hour", None)
    assert all(line.monthly_usd == pytest.approx(730 * (nat_hour or 0)) for line in gateways)
    eips = [line for line in lines_of(prod, "vpc.public_ipv4_hour") if line.type == "aws:ec2/eip:Eip"]
    assert len(eips) == 6, "three for NAT, three for the NLB"


def test_an_nlb_on_elastic_ips_is_not_billed_for_its_addresses_twice() -> None:
    prod = estimate_of("prod")
    nlb = next(line for line in lines_of(prod, "elb.nlb_hour"))
    assert lines_of(prod, "vpc.public_ipv4_hour", nlb.name) == [], "its subnet mappings use the stack's EIPs"
    alb = one_of(prod, "elb.alb_hour")
    assert one_of(prod, "vpc.public_ipv4_hour", alb.name).quantity == 3 * 730, "an internet-facing ALB: one per AZ"


def test_fargate_is_priced_from_the_task_size_minimum_count_and_capacity_providers(table: PriceTable) -> None:
    dev = estimate_of("dev")
    api = one_of(dev, "fargate_spot.vcpu_hour", "dev-api-service")
    assert api.quantity == pytest.approx(0.25 * 730), "one 256-CPU task, the auto-scaling minimum, on Spot"
    assert lines_of(dev, "fargate.vcpu_hour") == []
    prod = estimate_of("prod")
    vcpu = one_of(prod, "fargate.vcpu_hour", "prod-api-service")
    assert vcpu.quantity == pytest.approx(3 * 1 * 730)
    memory = one_of(prod, "fargate.gb_hour", "prod-api-service")
    assert memory.quantity == pytest.approx(3 * 2 * 730)
    assert vcpu.unit_usd == table.lookup("fargate.vcpu_hour", "linux-x86_64")


def test_the_capacity_split_follows_base_then_weight() -> None:
    strategy = [
        {"capacityProvider": "FARGATE", "base": 1, "weight": 1},
        {"capacityProvider": "FARGATE_SPOT", "weight": 3},
    ]
    assert capacity_split(5, strategy) == {"FARGATE": 2.0, "FARGATE_SPOT": 3.0}
    assert capacity_split(1, strategy) == {"FARGATE": 1.0, "FARGATE_SPOT": 0.0}
    assert capacity_split(2, []) == {"FARGATE": 2.0}


def test_a_mixed_strategy_in_a_stack_prices_both_providers() -> None:
    run = cached_run("dev", fargateBaseTasks=1, fargateWeight=1, fargateSpotWeight=1, apiMinTasks=3)
    result = estimate(run)
    on_demand = one_of(result, "fargate.vcpu_hour", "dev-api-service")
    spot = one_of(result, "fargate_spot.vcpu_hour", "dev-api-service")
    assert on_demand.quantity == pytest.approx(2 * 0.25 * 730), "one base task and half of the other two"
    assert spot.quantity == pytest.approx(1 * 0.25 * 730)


def test_arm64_tasks_use_the_arm_price() -> None:
    result = estimate_of("dev on arm64")
    line = one_of(result, "fargate_spot.vcpu_hour", "dev-api-service")
    assert line.variant == "linux-arm64"


def test_multi_az_databases_use_the_multi_az_rate(table: PriceTable) -> None:
    prod = one_of(estimate_of("prod"), "rds.instance_hour")
    assert prod.variant == "postgres db.m7g.large multi-az"
    assert prod.unit_usd == table.lookup("rds.instance_hour", "postgres db.m7g.large multi-az")
    storage = one_of(estimate_of("prod"), "rds.storage_gb_month")
    assert (storage.variant, storage.quantity) == ("gp3 multi-az", 100)
    dev = one_of(estimate_of("dev"), "rds.instance_hour")
    assert dev.variant == "postgres db.t4g.micro single-az"


def test_cache_nodes_are_node_type_times_nodes_and_snapshots_beyond_one_are_billed() -> None:
    prod = estimate_of("prod")
    nodes = one_of(prod, "elasticache.node_hour")
    assert nodes.variant == "valkey cache.r7g.large"
    assert nodes.quantity == 3 * 730, "a primary and two replicas"
    assert one_of(prod, "elasticache.backup_gb_month").quantity > 0, "seven snapshots kept, one free"
    memcached = one_of(estimate_of("prod with memcached"), "elasticache.node_hour")
    assert str(memcached.variant).startswith("memcached cache.")


def test_alarms_are_counted_by_metric_and_resolution(table: PriceTable) -> None:
    dev = estimate_of("dev")
    alarms = [line for line in lines_of(dev, "cloudwatch.alarm_standard_month") if line.type.endswith(":MetricAlarm")]
    # The cache's 8 and the database's 2, and the edge alarms: 4 per service and the ALB-wide one.
    assert len(alarms) == 10 + 2 * 4 + 1
    run = cached_run("dev")
    for line in alarms:
        # Alarms are billed per metric they read: a metric-math alarm pays for each metric it queries.
        queries = run.by_urn(line.urn).inputs.get("metricQueries") or []
        metrics = sum(1 for q in queries if q.get("metric")) or 1
        assert line.quantity == metrics, line.urn
    managed = [line for line in dev.lines if line.type == "aws:appautoscaling/policy:Policy"]
    assert managed, "target tracking policies create alarms of their own"
    assert all(line.assumptions == ("autoscaling.alarms_per_target_tracking_policy",) for line in managed)


def test_log_groups_are_charged_by_who_writes_them_and_their_retention() -> None:
    dev = estimate_of("dev")
    api_logs = one_of(dev, "logs.ingest_gb", "dev-api-logs")
    assert api_logs.assumptions == ("logs.app_gb_per_day",)
    stored = one_of(dev, "logs.storage_gb_month", "dev-api-logs")
    assert "14 days retention" in stored.detail
    prod = estimate_of("prod")
    flow = [line for line in prod.lines if line.price == "logs.vended_ingest_gb"]
    assert flow, "flow logs are vended logs"


def test_assumptions_are_recorded_with_their_origin_and_can_be_overridden() -> None:
    base = estimate_of("dev")
    assert base.assumptions["web.requests_per_month"].origin == "table default"
    assert estimate_of("prod").assumptions["web.requests_per_month"].origin == "table (prod)"
    busier = estimate_of("dev", **{"web.requests_per_month": 1e9})
    assert busier.assumptions["web.requests_per_month"].origin == "--assume"
    before, after = one_of(base, "elb.alb_lcu_hour"), one_of(busier, "elb.alb_lcu_hour")
    assert after.quantity > before.quantity
    assert busier.total_usd > base.total_usd


def test_an_unknown_or_negative_assumption_is_refused_naming_the_key(table: PriceTable) -> None:
    with pytest.raises(AssumptionError, match=r"unknown assumption 'web\.request'"):
        parse_overrides(["web.request=5"], table.assumptions)
    with pytest.raises(AssumptionError, match=r"must be a finite number >= 0"):
        parse_overrides(["web.requests_per_month=-1"], table.assumptions)
    with pytest.raises(AssumptionError, match="expected KEY=VALUE"):
        parse_overrides(["web.requests_per_month"], table.assumptions)
    assert parse_overrides(["web.requests_per_month=2e6"], table.assumptions) == {"web.requests_per_month": 2e6}


def test_preview_and_update_estimate_the_same() -> None:
    for stack in ("dev", "prod"):
        update, preview = estimate(cached_run(stack)), estimate(cached_run(stack, preview=True))
        assert preview.total_usd == pytest.approx(update.total_usd), stack
        assert len(preview.lines) == len(update.lines), stack


def test_the_components_add_up_to_the_total() -> None:
    result = estimate_of("prod")
    assert sum(total for _, total, _ in result.by_component()) == pytest.approx(result.total_usd)
    document = result.to_json()
    assert document["monthlyTotal"] == round(result.total_usd, 2)
    assert all(line["source"]["url"].startswith("https://") for line in document["lines"] if line["unitPrice"])


# --- the plan's output --------------------------------------------------------------------------


def _summary(out: str) -> list[str]:
    lines = out.splitlines()
    return lines[lines.index("Summary") :]


def test_the_default_summary_has_one_or_two_cost_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    markdown = tmp_path / "summary.md"
    assert plan.main(["dev", "--out", str(tmp_path), "--summary-file", str(markdown)]) == plan.EXIT_OK
    summary = _summary(capsys.readouterr().out)
    start = next(i for i, line in enumerate(summary) if line.startswith("  Cost:      ~$"))
    assert f"at {REGION} on-demand prices read " in summary[start]
    assert summary[start + 1].startswith("             largest: ")
    assert summary[start + 2].startswith("  Files:")
    assert "Cost estimate of stack" not in "\n".join(summary)
    document = json.loads((tmp_path / "plan-dev.json").read_text())
    assert summary[start].startswith(f"  Cost:      ~${document['cost']['monthlyTotal']:,.2f}/month")
    text = markdown.read_text()
    assert "Estimated cost: ~$" in text, "the CI job summary has the cost line and a table by component"
    assert "| Component | USD/month | Unpriced charges |" in text


def test_cost_prints_every_charge_assumption_and_source(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert plan.main(["dev", "--cost", "--out", str(tmp_path)]) == plan.EXIT_OK
    out = capsys.readouterr().out
    section = out.split("Cost estimate of stack 'dev' in eu-west-1: ", 1)[1].split("\nSummary\n", 1)[0]
    for heading in ("Charges by component", "Assumptions (usage", "Free (no charge", "Prices used ("):
        assert heading in section
    assert "dev-nat-1: vpc.nat_gateway_hour: 730 hour x $0.048" in section
    assert "web.requests_per_month = 1,000,000 requests/month (table default)" in section
    assert "https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws/AmazonEC2/" in section
    document = json.loads((tmp_path / "plan-dev.json").read_text())
    cost = document["cost"]
    assert cost["region"] == REGION
    assert cost["pricesRead"]
    assert {line["resource"] for line in cost["lines"]} >= {"dev-nat-1", "dev-alb-alb", "dev-db-instance"}
    assert cost["unknownTypes"] == {}


def test_assumptions_come_from_a_file_and_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    file = tmp_path / "assume.yaml"
    file.write_text("web.requests_per_month: 5.0e8\nlogs.app_gb_per_day: 2\n", encoding="utf-8")
    args = ["dev", "--out", str(tmp_path), "--assumptions", str(file), "--assume", "logs.app_gb_per_day=3"]
    assert plan.main(args) == plan.EXIT_OK
    capsys.readouterr()
    assumed = json.loads((tmp_path / "plan-dev.json").read_text())["cost"]["assumptions"]
    requests = assumed["web.requests_per_month"]
    assert (requests["value"], requests["origin"]) == (5e8, "--assume")
    assert assumed["logs.app_gb_per_day"]["value"] == 3, "--assume wins over the file"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--assume", "web.request=5"], "unknown assumption 'web.request'"),
        (["--assume", "logs.app_gb_per_day=lots"], "is not a number"),
    ],
)
def test_a_bad_assumption_exits_2_before_planning(
    args: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert plan.main(["dev", *args, "--out", str(tmp_path)]) == plan.EXIT_CONFIG_ERROR
    assert message in capsys.readouterr().err
    assert not (tmp_path / "plan-dev.json").exists()
