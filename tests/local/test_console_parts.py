"""The console's parts that need no runtime: its sample orders, its reading of the functions'
logs (EMF sums, an order's lines), its routes' patterns, and its reading of the orders table
(kept between refreshes, taken again one scan at a time)."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from automation_local.console.actions import sample_order
from automation_local.console.function_logs import MetricTotals, lines_of
from automation_local.console.orders import MIN_READING_SECONDS, OrdersReading
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
        ("/api/dead-letters/*/peek", "/api/dead-letters/order/peek", ["order"]),
        ("/api/dead-letters/*/peek", "/api/dead-letters/order/redrive", None),
    ],
)
def test_route_patterns_capture_their_parts(pattern: str, path: str, parts: list[str] | None) -> None:
    assert _match(pattern, path) == parts


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class CountedScans:
    """The table's scan, counted; each takes `seconds` of the fake clock, and the next one
    may be held until released (to see what a request does while a scan is in flight)."""

    def __init__(self, clock: FakeClock, seconds: float = 0.1) -> None:
        self.clock = clock
        self.seconds = seconds
        self.count = 0
        self.started = threading.Event()
        self.release = threading.Event()
        self.release.set()

    def __call__(self) -> list[dict[str, Any]]:
        self.count += 1
        self.started.set()
        assert self.release.wait(10)
        self.clock.now += self.seconds
        return [{"orderId": str(self.count), "status": "queued", "updatedAt": str(self.count)}]


def test_refreshes_within_a_reading_make_no_scan_of_their_own() -> None:
    # GIVEN the console's reading of the orders table, its first reading taken
    clock = FakeClock()
    scans = CountedScans(clock)
    orders = OrdersReading(scans, clock=clock)
    first = orders.latest(50)
    # WHEN the page refreshes every 2 s until just before the reading is due
    refreshes = []
    while clock.now + 2 < 1000.1 + MIN_READING_SECONDS:
        clock.now += 2
        refreshes.append(orders.latest(50))
    # THEN they are answered from the first reading, saying its age, with no scan of the table
    assert scans.count == 1
    assert len(refreshes) >= 2
    assert {r["total"] for r in refreshes} == {first["total"]} == {1}
    assert refreshes[-1]["readSecondsAgo"] == round(clock.now - 1000.1, 1) > 0
    # WHEN it is due, and then the table takes 3 s to scan
    clock.now += 2
    orders.latest(50)
    scans.seconds = 3.0
    clock.now += MIN_READING_SECONDS + 0.5
    orders.latest(50)
    # THEN each is one scan, and the next is due ten times the scan's time later (30 s), not 5
    assert scans.count == 3
    clock.now += 29.5
    orders.latest(50)
    assert scans.count == 3
    clock.now += 1
    orders.latest(50)
    assert scans.count == 4


def test_a_refresh_while_the_table_is_being_scanned_answers_at_once_with_the_last_reading() -> None:
    # GIVEN a reading taken, now due, and a refresh scanning the table (its scan held)
    clock = FakeClock()
    scans = CountedScans(clock)
    orders = OrdersReading(scans, clock=clock)
    orders.latest(50)
    clock.now += MIN_READING_SECONDS + 1
    scans.started.clear()
    scans.release.clear()
    with ThreadPoolExecutor(1) as pool:
        scanning = pool.submit(orders.latest, 50)
        assert scans.started.wait(10)
        # WHEN other refreshes arrive meanwhile (overlapping polls, several pages)
        meanwhile = [orders.latest(50) for _ in range(3)]
        scans.release.set()
        answered = scanning.result(10)
    # THEN they start no scan and answer with the reading before; the scan's answers the new one
    assert scans.count == 2
    assert {r["orders"][0]["orderId"] for r in meanwhile} == {"1"}
    assert answered["orders"][0]["orderId"] == "2"
