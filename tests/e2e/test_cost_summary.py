"""A small run's JSON summary carries `cost`: measured from the functions' calls and logs only."""

from __future__ import annotations

import pytest

from tests.e2e.run_command import run_command, summary_of

pytestmark = pytest.mark.slow


def test_a_small_runs_summary_prices_its_usage_per_million_orders_and_the_fixed_costs() -> None:
    # GIVEN a happy-path run of 20 orders  WHEN it ends
    run = run_command("--orders", "20", "--fail-rate", "0", timeout=600)
    summary = summary_of(run)
    assert run.returncode == 0, run.stderr[-3000:]
    cost = summary["cost"]
    # THEN its cost has the usage of a million orders by service and the stack's fixed costs
    assert cost["region"] == "us-east-1"
    assert {"dynamodb", "lambda", "sqs", "cloudwatch_logs", "xray", "apigateway"} <= set(cost["per_million_orders"])
    assert cost["per_million_orders"]["dynamodb"] > 0 and cost["per_million_orders"]["lambda"] > 0
    assert {"kms_key", "alarms", "dashboard", "secrets", "custom_metrics", "idle_pollers"} <= set(cost["monthly_fixed"])
    assert cost["monthly_fixed"]["alarms"] == pytest.approx(14 * 0.10)
    assert cost["per_million_orders_total"] == pytest.approx(sum(cost["per_million_orders"].values()), abs=0.01)
    usage = cost["usage"]["per_order"]
    # AND the usage is the functions' and the mappings' only: the demo's tracker reads the
    # orders table with BatchGetItem too (only the webhook's count) and the queues' depths
    assert usage["calls"]["dynamodb:BatchGetItem"] == usage["calls_by_caller"]["webhook"]["dynamodb:BatchGetItem"]
    assert "sqs:GetQueueAttributes" not in usage["calls_by_caller"]["webhook"]
    assert set(usage["calls_by_caller"]) == {
        "webhook",
        "worker",
        "feedback",
        "WorkerOrderQueueMapping",
        "FeedbackResultQueueMapping",
    }
    assert usage["dynamodb"]["writes"] > 1 and usage["dynamodb"]["write_units"] >= usage["dynamodb"]["writes"]
    # AND each invocation was billed from its REPORT line, cold starts with their INIT
    assert all(lam["billed_ms"] > 0 and lam["cold_starts"] > 0 for lam in usage["lambda"].values())
    assert sum(lam["invocations"] for lam in usage["lambda"].values()) > 0
    # AND the printed summary shows it
    assert "per million orders (usage)" in run.stdout
