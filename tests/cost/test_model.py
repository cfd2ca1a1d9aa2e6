"""The cost model on hand-made usage: known numbers in, known dollars out (automation_local/cost/model.py)."""

from __future__ import annotations

import json

import pytest

from automation_local.aws.usage_meter import CHUNK_BYTES, UsageMeter, chunks, sqs_message_bytes
from automation_local.cost.model import (
    SECONDS_PER_MONTH,
    aws_milliseconds,
    cached_calls,
    fixed_costs,
    monthly_bill,
    xray_traces,
)
from automation_local.cost.prices import load_prices
from tests.cost.usage_fixture import facts, usage

pytestmark = pytest.mark.fast

PRICES = load_prices()


def test_a_million_orders_of_hand_made_usage_cost_what_the_price_table_says() -> None:
    # GIVEN usage with round numbers per order (tests/cost/usage_fixture.py)
    # WHEN it is priced at a million orders a month
    bill = monthly_bill(usage(), facts(), PRICES, 1_000_000)
    # THEN each service is its units x its price
    assert bill.usage["lambda"]["requests"] == pytest.approx(100_000 * 0.20 / 1e6)
    # 100 ms x 1 GB x 100,000 invocations = 10,000 GB-s, a tenth of it INIT (billed alike)
    assert bill.quantities["lambda_gb_seconds"] == pytest.approx(10_000)
    assert bill.quantities["lambda_init_gb_seconds"] == pytest.approx(1_000)
    assert bill.usage["lambda"]["duration"] == pytest.approx(9_000 * 0.0000133334)
    assert bill.usage["lambda"]["init"] == pytest.approx(1_000 * 0.0000133334)
    assert bill.usage["sqs"]["requests"] == pytest.approx(500_000 * 0.40 / 1e6)
    assert bill.usage["dynamodb"]["writes"] == pytest.approx(4e6 * 0.625 / 1e6)
    assert bill.usage["dynamodb"]["reads"] == pytest.approx(0.5e6 * 0.125 / 1e6)
    assert bill.usage["s3"]["put_requests"] == pytest.approx(500_000 * 0.005 / 1000)
    assert bill.usage["apigateway"]["requests"] == pytest.approx(100_000 * 1.00 / 1e6)
    assert bill.usage["cloudwatch_logs"]["lambda_ingestion"] == pytest.approx(0.50)  # 1 GB
    # every invocation is a trace below one a second: 100,000 x 5 USD a million
    assert bill.usage["xray"]["traces_recorded"] == pytest.approx(0.50)
    # an S3 Bucket Key leaves 1 KMS call per 100 object requests
    assert bill.usage["kms"]["requests"] == pytest.approx(5_000 * 0.03 / 10_000)
    assert bill.usage_total == pytest.approx(0.02 + 0.133334 + 0.2 + 2.5625 + 2.5 + 0.1 + 0.5 + 0.5 + 0.015)


def test_the_fixed_monthly_costs_of_a_stack_like_the_template() -> None:
    # GIVEN one key, 14 alarms, a dashboard, 4 secrets, 5 custom metrics and 2 idle mappings
    fixed = fixed_costs(facts(), usage(), PRICES)
    # THEN each is its count x its monthly price; an idle mapping's 5 pollers long-poll 20 s
    assert fixed["kms_key"] == 1.00
    assert fixed["alarms"] == pytest.approx(1.40)
    assert fixed["dashboard"] == 3.00
    assert fixed["secrets"] == pytest.approx(1.60)
    assert fixed["custom_metrics"] == pytest.approx(1.50)
    assert fixed["idle_pollers"] == pytest.approx(2 * 5 * SECONDS_PER_MONTH / 20 * 0.40 / 1e6)
    assert fixed["mapping_metrics"] == 0
    # AND the queues' data keys follow SQS's estimate: a month / reuse x (2 producers + consumers)
    with_queues = fixed_costs(facts(queue_principals={"OrderQueue": (2, 1), "ResultQueue": (1, 1)}), usage(), PRICES)
    assert with_queues["kms_queue_data_keys"] == pytest.approx(SECONDS_PER_MONTH / 21600 * 8 * 0.03 / 10_000)


def test_sqs_and_sns_bill_each_64_kib_chunk_of_a_payload() -> None:
    # GIVEN payloads just under, at and over 64 KiB  THEN 1, 1 and 2 requests (an empty one 1)
    assert chunks(0) == 1 and chunks(CHUNK_BYTES) == 1 and chunks(CHUNK_BYTES + 1) == 2 and chunks(256 * 1024) == 4
    # AND a message's size is its body plus each attribute's name, type and value
    message = {
        "MessageBody": "x" * 100,
        "MessageAttributes": {"RetryCount": {"DataType": "Number", "StringValue": "2"}},
    }
    assert sqs_message_bytes(message) == 100 + len("RetryCount") + len("Number") + 1


def test_the_meter_bills_a_batch_of_two_40_kib_messages_as_two_requests_for_the_functions_only() -> None:
    # GIVEN the meter around an app that answers every request
    def app(environ, start_response):  # type: ignore[no-untyped-def]
        start_response("200 OK", [("Content-Type", "application/json")])
        return [b'{"Messages": []}']

    meter = UsageMeter(app, lambda environ: "sqs:" + environ["HTTP_X_AMZ_TARGET"].split(".")[-1])
    body = json.dumps({"Entries": [{"Id": str(i), "MessageBody": "x" * 40 * 1024} for i in range(2)]}).encode()

    def request(caller: str, target: str, payload: bytes) -> None:
        import io

        environ = {
            "PATH_INFO": "/",
            "REQUEST_METHOD": "POST",
            "HTTP_AUTHORIZATION": f"AWS4-HMAC-SHA256 Credential={caller}/20261201/us-east-1/sqs/aws4_request, ...",
            "HTTP_X_AMZ_TARGET": f"AmazonSQS.{target}",
            "CONTENT_LENGTH": str(len(payload)),
            "wsgi.input": io.BytesIO(payload),
        }
        list(meter(environ, lambda *args: None))

    # WHEN a function sends the batch and receives nothing, and the demo's tracker does the same
    request("fn-worker", "SendMessageBatch", body)
    request("fn-worker", "ReceiveMessage", b"{}")
    request("testing", "SendMessageBatch", body)
    answers = []
    list(meter({"PATH_INFO": "/_emulator/usage", "REQUEST_METHOD": "GET"}, lambda *a: answers.append(a)))
    usage_of = json.loads(b"".join(meter({"PATH_INFO": "/_emulator/usage", "REQUEST_METHOD": "GET"}, lambda *a: None)))
    # THEN the function's batch is 2 requests (80 KiB), its empty receive 1 and counted apart,
    # and the tracker's calls are not metered
    assert set(usage_of) == {"fn-worker"}
    units = usage_of["fn-worker"]["units"]
    assert units["sqs.requests"] == 3 and units["sqs.empty_receives"] == 1
    assert usage_of["fn-worker"]["calls"] == {"sqs:ReceiveMessage": 1, "sqs:SendMessageBatch": 1}


def test_lambda_duration_logs_and_api_requests_fall_in_price_past_their_tiers() -> None:
    # GIVEN 10 billion GB-s of arm64 duration  THEN 7.5 billion at the first price, the rest 10 % off
    assert PRICES.cost("lambda.arm64.gb_second", 1e10) == pytest.approx(7.5e9 * 0.0000133334 + 2.5e9 * 0.0000120001)
    # GIVEN 60 TB of Lambda logs  THEN 10 TB at 0.50, 20 at 0.25, 20 at 0.10 and 10 at 0.05 a GB
    tb = 1024
    assert PRICES.cost("logs.lambda_ingestion", 60 * tb) == pytest.approx(
        10 * tb * 0.50 + 20 * tb * 0.25 + 20 * tb * 0.10 + 10 * tb * 0.05
    )
    # GIVEN 400 million HTTP API requests  THEN 300 million at 1.00 a million and 100 million at 0.90
    assert PRICES.cost("apigateway.http_api_request", 4e8) == pytest.approx(300 + 90)


def test_xray_records_one_trace_a_second_and_5_percent_of_the_rest() -> None:
    # GIVEN fewer invocations than seconds in the month  THEN each is a trace
    assert xray_traces(100_000, 1, 0.05) == pytest.approx(100_000)
    # GIVEN 100 million invocations a month (38 a second)  THEN 1 a second plus 5 % of the rest
    assert xray_traces(1e8, 1, 0.05) == pytest.approx(SECONDS_PER_MONTH + 0.05 * (1e8 - SECONDS_PER_MONTH))


def test_secrets_are_fetched_once_per_cache_period_per_execution_environment() -> None:
    # GIVEN a function whose environments fetch 2 values each (0.002 calls, 0.001 cold starts an order)
    lam = {"invocations": 0.1, "cold_starts": 0.001, "billed_ms": 10.0}
    # WHEN its invocations are rarer than one per 5 minutes  THEN every invocation fetches both
    assert cached_calls(0.002, lam, 10_000) == pytest.approx(2 * 1_000)
    # WHEN it runs all the time in one environment  THEN both every 5 minutes, not per order
    refreshes = SECONDS_PER_MONTH / 300
    assert cached_calls(0.002, lam, 1e8) == pytest.approx(2 * refreshes)
    # WHEN 100 million invocations of 100 ms keep 3.8 environments busy  THEN each fetches
    concurrency = 1e8 / SECONDS_PER_MONTH * 0.1
    assert cached_calls(0.002, lam, 1e9) == pytest.approx(2 * concurrency * refreshes)


def test_the_log_retention_of_a_config_env_scales_the_stored_logs() -> None:
    # GIVEN 1 GB of compressed logs a million orders
    compressed = usage(logs={"worker": {"bytes": 0.0, "events": 0.0, "compressed_bytes": 1073.741824}})
    # WHEN they are kept 30 days, or 90  THEN storage holds three times as much at 90
    short = monthly_bill(compressed, facts(log_retention_days=30), PRICES, 1e6).usage["cloudwatch_logs"]["storage"]
    long = monthly_bill(compressed, facts(log_retention_days=90), PRICES, 1e6).usage["cloudwatch_logs"]["storage"]
    assert long == pytest.approx(3 * short)
    assert short == pytest.approx(0.03 * 30 / (SECONDS_PER_MONTH / 86400))


def test_lambda_is_billed_for_its_cpu_at_its_memory_share_and_a_round_trip_a_call() -> None:
    # GIVEN a 512 MB function that used 10 ms of CPU per order (and 3 ms at init), made 2 AWS
    # calls per order, in 0.1 invocations per order, on a machine where it took 4 s a batch
    lam = {
        "invocations": 0.1,
        "billed_ms": 400.0,
        "init_ms": 50.0,
        "cpu_ms": 10.0,
        "init_cpu_ms": 3.0,
        "memory_mb": 512,
    }
    # WHEN its milliseconds on AWS are estimated
    duration_ms, init_ms = aws_milliseconds(lam, calls_per_order=2.0, prices=PRICES)
    # THEN the CPU work takes 1769 / 512 times as long at a 512 MB share of a vCPU, and each
    # invocation waits 10 ms for each call on a record's path (2) and its batch's send (1)
    assert duration_ms == pytest.approx(10.0 * 1769 / 512 + 3 * 0.1 * 10)
    assert init_ms == pytest.approx(3.0 * 1769 / 512)
    # AND at 1,769 MB or more the CPU work is not stretched
    assert aws_milliseconds({**lam, "memory_mb": 2048}, 2.0, PRICES)[0] == pytest.approx(10.0 + 3.0)
