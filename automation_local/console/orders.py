"""The orders as the orders table holds them: the latest ones with their status, and one
order's page (its message, its results, its status history, its log lines)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from automation_local.console.function_logs import lines_of
from automation_shared.order_records import OrderRecords, record_key, result_key

RECORD_PREFIX = record_key("")


def latest(dynamodb: Any, table_name: str, limit: int) -> dict[str, Any]:
    """The `limit` orders changed last (newest first) and how many orders are in each status.
    A scan: the table has no index by time, and the console's reads are not the backbone's."""
    rows = []
    request: dict[str, Any] = {
        "TableName": table_name,
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
    rows.sort(key=lambda row: row["updatedAt"], reverse=True)
    return {"total": len(rows), "byStatus": dict(Counter(r["status"] for r in rows)), "orders": rows[:limit]}


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
