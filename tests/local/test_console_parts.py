"""The console's parts that need no runtime: its sample orders, its reading of the functions'
logs (EMF sums, an order's lines) and its routes' patterns."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from automation_local.console.actions import sample_order
from automation_local.console.function_logs import MetricTotals, lines_of
from automation_local.console.server import _match
from automation_shared.contracts import OrderMessage, TaskType

pytestmark = pytest.mark.fast


def _emf(**metrics: object) -> str:
    names = [{"Name": name, "Unit": "Count"} for name in metrics]
    return json.dumps(
        {"_aws": {"Timestamp": 0, "CloudWatchMetrics": [{"Namespace": "n", "Metrics": names}]}, **metrics}
    )


@pytest.mark.parametrize("task_type", list(TaskType))
def test_each_sample_order_is_one_the_contract_accepts(task_type: TaskType) -> None:
    # GIVEN the console's form started with a task type
    # WHEN its sample order is made
    document = sample_order(task_type, "http://127.0.0.1:1")
    # THEN the contract accepts it, and a second one is another order
    assert OrderMessage.model_validate(document).taskType is task_type
    assert sample_order(task_type, "http://127.0.0.1:1")["orderId"] != document["orderId"]


def test_metric_totals_sum_each_metric_and_read_on_from_where_they_stopped(tmp_path: Path) -> None:
    # GIVEN a feedback log with Lambda's own lines, two EMF events (one with a metric added
    # three times in an invocation: Powertools writes a list) and a line still being written
    log = tmp_path / "feedback.log"
    log.write_text(f'START RequestId: 1\n{_emf(FollowUpArchive=[1.0, 1.0, 1.0])}\n{_emf(FollowUpNotify=1.0)}\n{{"_aws"')
    totals = MetricTotals(tmp_path)
    # WHEN the totals are read, the last line ends and another event follows, and they are read again
    first = totals.totals()
    with log.open("a") as more:
        more.write(": {}}\n" + _emf(FollowUpArchive=2.0) + "\n")
    second = totals.totals()
    # THEN each metric is summed once, the line being written counted when it was whole
    assert first == {"feedback": {"FollowUpArchive": 3.0, "FollowUpNotify": 1.0}}
    assert second == {"feedback": {"FollowUpArchive": 5.0, "FollowUpNotify": 1.0}}


def test_an_orders_log_lines_are_those_with_its_correlation_or_order_id_in_time_order(tmp_path: Path) -> None:
    # GIVEN two functions' logs with lines of two orders, and a line that only mentions one in its message
    (tmp_path / "worker.log").write_text(
        '{"timestamp": "2", "message": "task failed", "order_id": "a", "correlation_id": "c"}\n'
        '{"timestamp": "1", "message": "other", "order_id": "b", "correlation_id": "b"}\n'
        "END RequestId: a\n"
    )
    (tmp_path / "feedback.log").write_text(
        '{"timestamp": "3", "message": "escalated", "correlation_id": "c"}\n{"timestamp": "0", "message": "about a"}\n'
    )
    # WHEN order a's lines are read (its correlation id c)
    found = lines_of(tmp_path, {"a", "c"})
    # THEN they are its two lines, each with its function, in time order
    assert [(line["function"], line["message"]) for line in found] == [
        ("worker", "task failed"),
        ("feedback", "escalated"),
    ]


@pytest.mark.parametrize(
    ("pattern", "path", "parts"),
    [
        ("/api/orders", "/api/orders", []),
        ("/api/orders/*", "/api/orders/abc", ["abc"]),
        ("/api/orders/*", "/api/orders/", None),
        ("/api/orders/*", "/api/orders", None),
        ("/api/dead-letters/*/redrive", "/api/dead-letters/order/redrive", ["order"]),
        ("/api/dead-letters/*", "/api/dead-letters/order/redrive", None),
    ],
)
def test_route_patterns_capture_their_parts(pattern: str, path: str, parts: list[str] | None) -> None:
    assert _match(pattern, path) == parts
