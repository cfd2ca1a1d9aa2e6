"""Order status records (`order#<orderId>` items of the orders table), read by GET /orders/{id}.

Each record keeps the order as last sent (`order`), so feedback can requeue it, and its
`history` (every status with its time), and expires with the table's TTL attribute like
the idempotency records beside it. The webhook creates it; the worker writes every field
again when it starts an attempt, so an order another repository sent straight to the
order queue gets the same record (and the same retries) as one that came through the
webhook.

A record in a terminal state (notified, archived, escalated) keeps it: a late or repeated
delivery never moves an order out of its final state. `dead-lettered` is not terminal in
that sense: a redriven message takes the order on again.
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


# Where an order's flow ends: feedback's acts. Nothing moves an order out of these.
TERMINAL_STATES = frozenset({OrderState.NOTIFIED, OrderState.ARCHIVED, OrderState.ESCALATED})
# Final for whoever follows an order: terminal, or waiting in a DLQ for an operator.
FINAL_STATES = TERMINAL_STATES | {OrderState.DEAD_LETTERED}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def status_key(order_id: str) -> str:
    return f"order#{order_id}"


def _history_entry(state: OrderState, at: str) -> dict[str, Any]:
    return {"L": [{"M": {"status": {"S": state.value}, "at": {"S": at}}}]}


def _order_fields(order: OrderMessage) -> dict[str, Any]:
    """The attributes of a record that come from the order itself."""
    return {
        "orderId": {"S": order.orderId},
        "taskType": {"S": order.taskType.value},
        "userId": {"S": order.userId},
        "retryCount": {"N": str(order.retryCount or 0)},
        "order": {"S": order.to_json()},
    }


def _plain(value: dict[str, Any]) -> Any:
    """A DynamoDB attribute value as JSON (the types these records use)."""
    if "N" in value:
        return int(value["N"])
    if "L" in value:
        return [_plain(v) for v in value["L"]]
    if "M" in value:
        return {k: _plain(v) for k, v in value["M"].items()}
    return value["S"]


class OrderStatusStore:
    """Reads and writes status records through a DynamoDB client (boto3 low-level)."""

    def __init__(self, dynamodb: Any, table_name: str) -> None:
        self._dynamodb = dynamodb
        self._table = table_name

    def record_queued(self, order: OrderMessage) -> bool:
        """The webhook accepted the order. False if its record exists already: an earlier
        acceptance of the same order (whose answer was lost) wrote it, and the order may
        have moved on since, so it is left as it is."""
        now = _now()
        try:
            self._dynamodb.put_item(
                TableName=self._table,
                Item={
                    "id": {"S": status_key(order.orderId)},
                    **_order_fields(order),
                    "status": {"S": OrderState.QUEUED.value},
                    "history": _history_entry(OrderState.QUEUED, now),
                    "createdAt": {"S": now},
                    "updatedAt": {"S": now},
                    "expiration": {"N": str(int(time.time()) + RETENTION_SECONDS)},
                },
                ConditionExpression="attribute_not_exists(id)",
            )
        except self._dynamodb.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def record_processing(self, order: OrderMessage) -> None:
        """The worker started an attempt: every field of the record, as the webhook writes
        them, so an order sent straight to the queue is known (and can be requeued) too."""
        now = _now()
        fields = _order_fields(order)
        names = {f"#f{i}": name for i, name in enumerate(fields)}
        values = {f":f{i}": value for i, value in enumerate(fields.values())}
        self._dynamodb.update_item(
            TableName=self._table,
            Key={"id": {"S": status_key(order.orderId)}},
            UpdateExpression=(
                "SET "
                + ", ".join(f"#f{i} = :f{i}" for i in range(len(fields)))
                + ", #status = :status, #updatedAt = :now, #createdAt = if_not_exists(#createdAt, :now)"
                + ", #expiration = if_not_exists(#expiration, :expiration)"
                + ", #history = list_append(if_not_exists(#history, :empty), :entry)"
            ),
            ExpressionAttributeNames={
                **names,
                "#status": "status",
                "#updatedAt": "updatedAt",
                "#createdAt": "createdAt",
                "#expiration": "expiration",
                "#history": "history",
            },
            ExpressionAttributeValues={
                **values,
                ":status": {"S": OrderState.PROCESSING.value},
                ":now": {"S": now},
                ":expiration": {"N": str(int(time.time()) + RETENTION_SECONDS)},
                ":empty": {"L": []},
                ":entry": _history_entry(OrderState.PROCESSING, now),
            },
        )

    def record_requeued(self, retry: OrderMessage) -> bool:
        """The order goes out again: its status record now holds the new attempt (unless the
        order has reached its end meanwhile, through another delivery)."""
        return self.transition(
            retry.orderId,
            OrderState.REQUEUED,
            not_from=TERMINAL_STATES,
            order=retry.to_json(),
            retryCount=retry.retryCount or 0,
        )

    def transition(
        self,
        order_id: str,
        state: OrderState,
        *,
        only_from: Collection[OrderState] = (),
        not_from: Collection[OrderState] = (),
        **details: str | int,
    ) -> bool:
        """Sets the order's state (and `details`) and appends it to the history; with
        `only_from`, only if the record is in one of those states now; with `not_from`, only
        if it is in none of them. False when a condition kept the record as it was."""
        now = _now()
        names = {"#status": "status", "#updatedAt": "updatedAt", "#history": "history"}
        values: dict[str, Any] = {
            ":status": {"S": state.value},
            ":updatedAt": {"S": now},
            ":empty": {"L": []},
            ":entry": _history_entry(state, now),
        }
        assignments = [
            "#status = :status",
            "#updatedAt = :updatedAt",
            "#history = list_append(if_not_exists(#history, :empty), :entry)",
        ]
        for index, (name, value) in enumerate(sorted(details.items())):
            names[f"#d{index}"] = name
            values[f":d{index}"] = {"N": str(value)} if isinstance(value, int) else {"S": value}
            assignments.append(f"#d{index} = :d{index}")
        conditions = []
        if only_from:
            allowed = {f":from{index}": {"S": earlier.value} for index, earlier in enumerate(only_from)}
            values.update(allowed)
            conditions.append(f"#status IN ({', '.join(allowed)})")
        if not_from:
            refused = {f":not{index}": {"S": earlier.value} for index, earlier in enumerate(sorted(not_from))}
            values.update(refused)
            conditions.append(f"(attribute_not_exists(#status) OR NOT (#status IN ({', '.join(refused)})))")
        condition = {"ConditionExpression": " AND ".join(conditions)} if conditions else {}
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

    def finish(self, order_id: str, state: OrderState) -> bool:
        """A terminal state, set once: False if the order had reached one already."""
        return self.transition(order_id, state, not_from=TERMINAL_STATES)

    def mark_dead_lettered(self, order_id: str) -> bool:
        """Its message failed on its last allowed receive: the queue moves it to the DLQ next."""
        return self.transition(order_id, OrderState.DEAD_LETTERED, not_from=TERMINAL_STATES)

    def redriven(self, order_id: str) -> bool:
        """Its message is back in its source queue (a DLQ redrive): the order gets the state
        it had before it was dead-lettered. False if it was not dead-lettered."""
        record = self.get(order_id)
        if not record or record.get("status") != OrderState.DEAD_LETTERED.value:
            return False
        earlier = [entry["status"] for entry in record.get("history", []) if entry["status"] != "dead-lettered"]
        before = OrderState(earlier[-1]) if earlier else OrderState.QUEUED
        return self.transition(order_id, before, only_from=(OrderState.DEAD_LETTERED,))

    def delete(self, order_id: str) -> None:
        self._dynamodb.delete_item(TableName=self._table, Key={"id": {"S": status_key(order_id)}})

    def get(self, order_id: str) -> dict[str, Any] | None:
        item = self._dynamodb.get_item(
            TableName=self._table, Key={"id": {"S": status_key(order_id)}}, ConsistentRead=True
        ).get("Item")
        if item is None:
            return None
        plain = {name: _plain(value) for name, value in item.items()}
        plain.pop("id")
        plain.pop("expiration", None)
        return plain
