"""The price table's loader: a malformed entry is refused naming the file, the entry and what is wrong, so a
typo cannot silently become a zero or a price without a source."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from offline.cost.table import PRICING_DIR, NoPricesForRegionError, PriceTableError, load_table

REGION = "eu-west-1"


def _table_with(tmp_path: Path, file: str, change: Callable[[dict[str, Any]], None]) -> Path:
    """A copy of the pricing directory with ``change`` applied to one file's data."""
    directory = tmp_path / "pricing"
    shutil.copytree(PRICING_DIR, directory)
    data = yaml.safe_load((directory / file).read_text(encoding="utf-8"))
    change(data)
    (directory / file).write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return directory


def test_the_committed_table_loads(tmp_path: Path) -> None:
    table = load_table(REGION)
    assert table.hours_per_month == 730
    assert table.lookup("vpc.nat_gateway_hour", None) is not None
    first, last = table.read_dates
    assert first <= last
    # a round trip through YAML (as the other tests do) changes nothing
    assert load_table(REGION, _table_with(tmp_path, f"aws-{REGION}.yaml", lambda data: None)).prices == table.prices


def _drop_source(data: dict[str, Any]) -> None:
    del data["prices"]["vpc.nat_gateway_hour"]["source"]


def _bool_price(data: dict[str, Any]) -> None:
    data["prices"]["vpc.nat_gateway_hour"]["usd"] = True


def _negative_variant(data: dict[str, Any]) -> None:
    data["prices"]["rds.instance_hour"]["variants"]["postgres db.t4g.micro single-az"] = -1


def _both_amounts(data: dict[str, Any]) -> None:
    data["prices"]["vpc.nat_gateway_hour"]["variants"] = {"x": 1}


def _unknown_kind(data: dict[str, Any]) -> None:
    data["prices"]["vpc.nat_gateway_hour"]["source"]["kind"] = "memory"


def _no_date(data: dict[str, Any]) -> None:
    data["prices"]["vpc.nat_gateway_hour"]["source"]["read"] = "last week"


def _http_url(data: dict[str, Any]) -> None:
    data["prices"]["vpc.nat_gateway_hour"]["source"]["url"] = "http://example.com"


def _gap_for_a_priced_key(data: dict[str, Any]) -> None:
    data["unpriced"]["vpc.nat_gateway_hour"] = "searched"


def _wrong_region(data: dict[str, Any]) -> None:
    data["region"] = "eu-west-2"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_drop_source, "aws-eu-west-1.yaml: prices.vpc.nat_gateway_hour: missing 'source'"),
        (_bool_price, "aws-eu-west-1.yaml: prices.vpc.nat_gateway_hour.usd: must be a number >= 0, got True"),
        (_negative_variant, "prices.rds.instance_hour.variants.postgres db.t4g.micro single-az: must be a number"),
        (_both_amounts, "prices.vpc.nat_gateway_hour: give exactly one of 'usd'"),
        (_unknown_kind, "prices.vpc.nat_gateway_hour.source.kind: 'memory' is not one of aws-price-list"),
        (_no_date, "prices.vpc.nat_gateway_hour.source: 'read' must be"),
        (_http_url, "source.url: expected an https:// URL"),
        (_gap_for_a_priced_key, "unpriced.vpc.nat_gateway_hour: the key is priced"),
        (_wrong_region, "aws-eu-west-1.yaml: 'region' must be 'eu-west-1'"),
    ],
)
def test_a_malformed_region_file_is_refused_naming_the_entry(
    tmp_path: Path, change: Callable[[dict[str, Any]], None], message: str
) -> None:
    directory = _table_with(tmp_path, f"aws-{REGION}.yaml", change)
    with pytest.raises(PriceTableError) as error:
        load_table(REGION, directory)
    assert message in str(error.value)


def _free_and_billable(data: dict[str, Any]) -> None:
    data["free"]["aws:ec2/natGateway:NatGateway"] = {"reason": "no", "source": "https://aws.amazon.com/"}


def _bad_token(data: dict[str, Any]) -> None:
    data["free"]["SecurityGroup"] = {"reason": "free", "source": "https://aws.amazon.com/"}


def _assumption_without_default(data: dict[str, Any]) -> None:
    del data["assumptions"]["web.requests_per_month"]["default"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_free_and_billable, "aws.yaml: free.aws:ec2/natGateway:NatGateway: listed both as billable and as free"),
        (_bad_token, "aws.yaml: free.SecurityGroup: expected a Pulumi type token"),
        (_assumption_without_default, "aws.yaml: assumptions.web.requests_per_month: missing 'default'"),
    ],
)
def test_a_malformed_common_file_is_refused_naming_the_entry(
    tmp_path: Path, change: Callable[[dict[str, Any]], None], message: str
) -> None:
    directory = _table_with(tmp_path, "aws.yaml", change)
    with pytest.raises(PriceTableError) as error:
        load_table(REGION, directory)
    assert message in str(error.value)


def test_a_region_without_a_file_has_no_prices() -> None:
    with pytest.raises(NoPricesForRegionError) as error:
        load_table("ap-south-2")
    expected = "no prices for region ap-south-2: offline/pricing/aws-ap-south-2.yaml does not exist"
    assert str(error.value).startswith(expected)
