"""The price table (automation_local/cost/prices.json): every row sourced and dated, one region."""

from __future__ import annotations

import json
import re
from datetime import date

import pytest

from automation_local.cost.prices import PRICES_PATH, UnknownRegionError, load_prices

pytestmark = pytest.mark.fast

ROWS = json.loads(PRICES_PATH.read_text())["rows"]
FACTS = json.loads(PRICES_PATH.read_text())["facts"]
# What the model prices (model.py and the fixed costs); each must be a row.
USED = {
    "sqs.request",
    "lambda.request",
    "lambda.arm64.gb_second",
    "lambda.arm64.init_gb_second",
    "dynamodb.write_request_unit",
    "dynamodb.read_request_unit",
    "apigateway.http_api_request",
    "logs.lambda_ingestion",
    "logs.standard_ingestion",
    "logs.storage",
    "cloudwatch.custom_metric",
    "cloudwatch.alarm_metric",
    "cloudwatch.dashboard",
    "xray.trace_recorded",
    "kms.key_month",
    "kms.request",
    "secretsmanager.secret_month",
    "secretsmanager.api_call",
    "s3.put_request",
    "s3.get_request",
    "sns.publish",
    "sns.email_notification",
    "ssm.standard_parameter_call",
}


@pytest.mark.parametrize("row", ROWS, ids=[row["id"] for row in ROWS])
def test_every_row_has_a_price_its_unit_region_source_and_the_date_it_was_read(row: dict) -> None:
    # GIVEN a row of the price table
    # THEN it has a non-negative price per a positive number of units, a unit, a region,
    # an http(s) source and the ISO date it was read (not in the future)
    assert isinstance(row["price"], int | float) and row["price"] >= 0
    assert row["per"] > 0
    assert row["unit"].strip()
    assert re.fullmatch(r"[a-z]{2}-[a-z]+-\d", row["region"])
    assert re.fullmatch(r"https?://\S+", row["source"])
    assert date.fromisoformat(row["read"]) <= date.today()
    assert row["checked"] in ("official", "secondary")
    # AND its tiers, if any, rise in volume, the last open, the first at the row's price
    tiers = row.get("tiers", [])
    if tiers:
        uppers = [upper for upper, _ in tiers]
        assert uppers[-1] is None and uppers[:-1] == sorted(uppers[:-1])
        assert tiers[0][1] == row["price"]


def test_every_price_the_model_uses_is_in_the_table_once() -> None:
    # GIVEN the rows of the price table
    # WHEN their ids are read
    ids = [row["id"] for row in ROWS]
    # THEN none is there twice, and every price the model uses is among them
    assert len(ids) == len(set(ids))
    assert set(ids) >= USED


@pytest.mark.parametrize("fact", FACTS, ids=[fact["id"] for fact in FACTS])
def test_every_modeling_fact_has_its_source_and_date(fact: dict) -> None:
    # GIVEN a modeling fact of the price table
    # THEN it has a unit, a web address as its source, and the date it was read, not in the future
    assert fact["unit"].strip() and re.fullmatch(r"https?://\S+", fact["source"])
    assert date.fromisoformat(fact["read"]) <= date.today()


def test_the_default_region_is_us_east_1_and_another_region_is_refused_by_name() -> None:
    # GIVEN the table holds us-east-1 only
    assert load_prices().region == "us-east-1"
    # WHEN the model is asked for prices of another region
    # THEN it refuses, naming the region and the ones it has
    with pytest.raises(UnknownRegionError, match=r"no prices for region 'eu-west-1'.*us-east-1"):
        load_prices("eu-west-1")
