"""The orders as the orders table holds them: the latest ones with their status and how many
are in each status (`OrdersReading`), and one order's page (its message, its results, its
status history, its log lines).

The list and the counts need every order record, and the table has no index by time or
status. It gets none for the console: an index keyed by status or time is written on each of
an order's status changes (two writes when its key changes: out of the old place, into the
new), on every order, paid on AWS to serve a local page; a key of a few values (statuses) or
one (a time index's partition) is a hot partition DynamoDB throttles at the backbone's
rates; and the counts per status would still read every item (a Query's COUNT is billed for
each item it reads). A Scan with a Limit alone would still read the whole table per refresh.
So the console scans, but not per refresh: one reading of the table is kept and answered to
every refresh until it is due again, at least MIN_READING_SECONDS later and ten times as
long as the scan took (a scan of 4,000 orders takes the emulator seconds, during which its
DynamoDB writes wait: the console takes at most a tenth of its time, however large the
table), one scan at a time. The scan is read in pages of SCAN_PAGE_ITEMS so the emulator's
writes go between pages. The page shows how old the reading it answers with is.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from automation_local.console.function_logs import lines_of
from automation_shared.order_records import OrderRecords, record_key, result_key

RECORD_PREFIX = record_key("")
MIN_READING_SECONDS = 5.0  # the page refreshes every 2 s: a reading answers two or three refreshes at least
SCAN_TIME_SHARE = 0.1  # of the emulator's time, at most, spent scanning for the console
# Items a Scan request evaluates (records and stored results alike). moto's own pages end at
# 1 MB; measured with 4,000 orders (about 2 KB each with its result): 7 s in 7 pages of 1 MB,
# 8.9 s in 16 pages of 500 items. Each request holds the emulator's writes back half as long
# for a quarter more work in all (every page of moto's sorts the table again).
SCAN_PAGE_ITEMS = 500


@dataclass(frozen=True)
class TableReading:
    orders: tuple[dict[str, Any], ...]  # every order record's listed fields, changed last first
    by_status: dict[str, int]
    read_at: float  # monotonic seconds: when the scan ended


def scan_orders(dynamodb: Any, table_name: str) -> list[dict[str, Any]]:
    """Every order record of the table, in pages (the table's stored results are skipped)."""
    rows = []
    request: dict[str, Any] = {
        "TableName": table_name,
        "Limit": SCAN_PAGE_ITEMS,
        "FilterExpression": "begins_with(id, :prefix)",
        "ProjectionExpression": "id, #status, retryCount, updatedAt, taskType, userId",
        "ExpressionAttributeNames": {"#status": "status"},
        "ExpressionAttributeValues": {":prefix": {"S": RECORD_PREFIX}},
    }
    while True:
        answer = dynamodb.scan(**request)
        for item in answer.get("Items", []):
            rows.append(
                {
                    "orderId": item["id"]["S"].removeprefix(RECORD_PREFIX),
                    "status": item.get("status", {}).get("S", ""),
                    "retryCount": int(item.get("retryCount", {}).get("N", "0")),
                    "updatedAt": item.get("updatedAt", {}).get("S", ""),
                    "taskType": item.get("taskType", {}).get("S", ""),
                    "userId": item.get("userId", {}).get("S", ""),
                }
            )
        if "LastEvaluatedKey" not in answer:
            break
        request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]
    return rows


class OrdersReading:
    """The orders table as last scanned, scanned again when due (see above), by one request
    at a time: a request arriving while another scans answers with the reading before it,
    and only the very first waits for a scan."""

    def __init__(
        self, scan: Callable[[], list[dict[str, Any]]], *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._scan = scan
        self._clock = clock
        self._kept: TableReading | None = None
        self._due_at = 0.0
        self._scanning = threading.Lock()

    @classmethod
    def of(cls, dynamodb: Any, table_name: str) -> OrdersReading:
        return cls(lambda: scan_orders(dynamodb, table_name))

    def latest(self, limit: int) -> dict[str, Any]:
        """The `limit` orders changed last (newest first), how many orders are in each status,
        and how old that reading is."""
        reading = self.reading()
        return {
            "total": len(reading.orders),
            "byStatus": reading.by_status,
            "orders": list(reading.orders[:limit]),
            "readSecondsAgo": round(max(0.0, self._clock() - reading.read_at), 1),
        }

    def reading(self) -> TableReading:
        kept = self._kept
        if kept is not None and (self._clock() < self._due_at or not self._scanning.acquire(blocking=False)):
            return kept  # not due yet, or due and another request is scanning it already
        if kept is None:
            self._scanning.acquire()  # no reading yet: wait for the one being taken, if any
        try:
            if self._kept is not None and self._kept is not kept:
                return self._kept  # taken while this request waited
            started = self._clock()
            rows = sorted(self._scan(), key=lambda row: row["updatedAt"], reverse=True)
            read_at = self._clock()
            self._kept = TableReading(tuple(rows), dict(Counter(row["status"] for row in rows)), read_at)
            self._due_at = read_at + max(MIN_READING_SECONDS, (read_at - started) / SCAN_TIME_SHARE)
            return self._kept
        finally:
            self._scanning.release()


def page(records: OrderRecords, log_dir: Path, order_id: str) -> dict[str, Any] | None:
    """The order's record as GET /orders/{id} shows it (its history included), the order
    message as last sent, each attempt's stored result (`result#<id>#<attempt>`) and the log
    lines carrying its correlation id; None if the table has no record of it."""
    record = records.get(order_id)
    if record is None:
        return None
    message = json.loads(record.pop("order", "{}"))
    attempts = int(record.get("retryCount", 0))
    results = []
    for attempt in range(attempts + 1):
        stored = records.stored_result(order_id, attempt)
        if stored is not None:
            results.append({"key": result_key(order_id, attempt), "result": json.loads(stored)})
    correlation_id = message.get("correlationId") or order_id
    return {
        "orderId": order_id,
        "record": record,
        "message": message,
        "results": results,
        "correlationId": correlation_id,
        "logLines": lines_of(log_dir, {order_id, correlation_id}),
    }
