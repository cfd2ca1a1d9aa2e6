"""`make bench` keeps working: one quick run on a fresh `sam build`, every figure present and sane.

Timing goals are not asserted here (the table shows pass or miss): this checks the
benchmark runs end to end and reports each key of bench/latest.json with a plausible value.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.__main__ import main

pytestmark = pytest.mark.slow

FUNCTIONS = ("webhook", "worker", "feedback")


def test_quick_bench_reports_every_figure(sam_build_dir: Path, tmp_path: Path) -> None:
    output = tmp_path / "latest.json"
    # WHEN the benchmark runs once in quick mode on the build
    exit_code = main(["--quick", "--build-dir", str(sam_build_dir), "--output", str(output)])
    report = json.loads(output.read_text())
    assert exit_code == 0, report["errors"]
    figures = {key: entry["value"] for key, entry in report["figures"].items()}

    # THEN every key is there, judged against its goal, with a value in a sane range
    expected = {
        *(f"init_ratio.{f}" for f in FUNCTIONS),
        *(f"zip_mb.{f}" for f in FUNCTIONS),
        "worker_overhead_ratio",
        "io_batch_ratio",
        "kms_calls_per_day",
        "worker_peak_rss_mb",
        "sends_per_order",
        "flow_ratio",
        "dynamodb_writes_per_order",
        "s3_puts_per_order",
        "cost_per_million_orders",
        "cost_per_million_orders.fifth_failing",
        "log_bytes_per_order",
        "receive_depth_ratio",
    }
    assert set(figures) == expected
    for function in FUNCTIONS:
        assert 0.5 < figures[f"init_ratio.{function}"] < 50
        assert 0 < figures[f"zip_mb.{function}"] < 250  # Lambda's limit, unzipped, is 250 MB
    assert figures["worker_overhead_ratio"] > 0.5  # the worker does the floor's work and more
    assert 0.95 < figures["io_batch_ratio"] < 10  # never faster than one 200 ms answer
    assert 0 < figures["kms_calls_per_day"] < 86_400 / 60 * 20
    assert 20 < figures["worker_peak_rss_mb"] < 512
    # every order leaves the webhook and the worker in batches of at most 10
    assert 0.2 <= figures["sends_per_order"] < 3
    assert 0 < figures["flow_ratio"] < 10
    # the functions write to DynamoDB for every order; at most one archive object an order
    assert 0 < figures["dynamodb_writes_per_order"] < 50
    assert 0 <= figures["s3_puts_per_order"] <= 1
    # a million orders cost dollars, not cents nor thousands; failures cost more than none
    assert 0.5 < figures["cost_per_million_orders"] < 500
    assert figures["cost_per_million_orders.fifth_failing"] > figures["cost_per_million_orders"] * 0.8
    # every invocation writes Lambda's START/END/REPORT lines (about 250 bytes) for its orders
    assert 20 < figures["log_bytes_per_order"] < 100_000
    usage = json.loads((tmp_path / "cost-usage.json").read_text())
    assert usage["per_order"]["dynamodb"]["writes"] == figures["dynamodb_writes_per_order"] or usage["orders"] > 0
    assert (tmp_path / "cost-by-service.png").stat().st_size > 10_000
    assert 0.2 < figures["receive_depth_ratio"] < 1000  # one receive over another, both of 10 messages
    statuses = {entry["status"] for entry in report["figures"].values()}
    assert statuses <= {"pass", "miss", "info"}
    assert report["machine"]["cores"] >= 1
