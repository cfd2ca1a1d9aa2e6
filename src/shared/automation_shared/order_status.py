"""Order status records (`order#<orderId>` items of the orders table), read by GET /orders/{id}.

Each record keeps the order as sent, so feedback can requeue it, and expires with the
table's TTL attribute like the idempotency records beside it.
"""

from __future__ import annotations

import time
from collections.abc import Collection
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from .contracts import OrderMessage

RETENTION_SECONDS = 30 * 24 * 3600


class OrderState(StrEnum):
    QUEUED = "queued"
    PROCESSING = "processing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    REQUEUED = "requeued"
    NOTIFIED = "notified"
    ESCALATED = "escalated"
    ARCHIVED = "archived"
    DEAD_LETTERED = "dead-lettered"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def status_key(order_id: str) -> str:
    return f"order#{order_id}"


class OrderStatusStore:
    """Reads and writes status records through a DynamoDB client (boto3 low-level)."""

    def __init__(self, dynamodb: Any, table_name: str) -> None:
        self._dynamodb = dynamodb
        self._table = table_name

    def record_queued(self, order: OrderMessage) -> None:
        now = _now()
        self._dynamodb.put_item(
            TableName=self._table,
            Item={
                "id": {"S": status_key(order.orderId)},
                "orderId": {"S": order.orderId},
                "status": {"S": OrderState.QUEUED.value},
                "taskType": {"S": order.taskType.value},
                "userId": {"S": order.userId},
                "retryCount": {"N": str(order.retryCount or 0)},
                "order": {"S": order.to_json()},
                "createdAt": {"S": now},
                "updatedAt": {"S": now},
                "expiration": {"N": str(int(time.time()) + RETENTION_SECONDS)},
            },
        )

    def record_requeued(self, retry: OrderMessage) -> None:
        """The order goes out again: its status record now holds the new attempt."""
        self.transition(retry.orderId, OrderState.REQUEUED, order=retry.to_json(), retryCount=retry.retryCount or 0)

    def transition(
        self, order_id: str, state: OrderState, *, only_from: Collection[OrderState] = (), **details: str | int
    ) -> bool:
        """Sets the order's state (and `details`); with `only_from`, only if the record is in
        one of those states now. False when that condition kept the record as it was."""
        names = {"#status": "status", "#updatedAt": "updatedAt"}
        values: dict[str, Any] = {":status": {"S": state.value}, ":updatedAt": {"S": _now()}}
        assignments = ["#status = :status", "#updatedAt = :updatedAt"]
        for index, (name, value) in enumerate(sorted(details.items())):
            names[f"#d{index}"] = name
            values[f":d{index}"] = {"N": str(value)} if isinstance(value, int) else {"S": value}
            assignments.append(f"#d{index} = :d{index}")
        condition: dict[str, str] = {}
        if only_from:
            allowed = {f":from{index}": {"S": earlier.value} for index, earlier in enumerate(only_from)}
            values.update(allowed)
            condition["ConditionExpression"] = f"#status IN ({', '.join(allowed)})"
        try:
            self._dynamodb.update_item(
                TableName=self._table,
                Key={"id": {"S": status_key(order_id)}},
                UpdateExpression="SET " + ", ".join(assignments),
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                **condition,
            )
        except self._dynamodb.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def delete(self, order_id: str) -> None:
        self._dynamodb.delete_item(TableName=self._table, Key={"id": {"S": status_key(order_id)}})

    def get(self, order_id: str) -> dict[str, Any] | None:
        item = self._dynamodb.get_item(TableName=self._table, Key={"id": {"S": status_key(order_id)}}).get("Item")
        if item is None:
            return None
        plain = {name: (int(value["N"]) if "N" in value else value["S"]) for name, value in item.items()}
        plain.pop("id")
        plain.pop("expiration", None)
        return plain
