"""Where each order of a run is now, read from outside the way an operator would: its status
record in the orders table, and the bodies waiting in the two dead-letter queues."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import batched
from typing import Any

from automation_local.ops.dead_letter_peek import DeadLetterPeek
from automation_shared.dead_letters import order_id_in
from automation_shared.order_records import FINAL_STATES, OrderState

BATCH_GET_LIMIT = 100


@dataclass(frozen=True)
class TrackedOrder:
    status: OrderState  # its status record's state, or DEAD_LETTERED when a DLQ holds the order
    retry_count: int = 0
    updated_at: str = ""  # its record's last change (for a final record: when it ended), ISO 8601 UTC


class OrderTracker:
    def __init__(self, dynamodb: Any, sqs: Any, table_name: str, dead_letter_queue_urls: list[str]) -> None:
        self._dynamodb = dynamodb
        self._table = table_name
        self._dead_letters = [DeadLetterPeek(sqs, url) for url in dead_letter_queue_urls]

    def states(self, order_ids: list[str]) -> dict[str, TrackedOrder]:
        """The state of each order that has a status record or sits in a DLQ. A final status
        record wins over a copy in a DLQ (a duplicate delivery that failed after the act)."""
        states = self._status_records(order_ids)
        open_ids = {i for i in order_ids if i not in states or states[i].status not in FINAL_STATES}
        # Reading the DLQs' bodies is costly: only once they could hold every open order.
        if open_ids and self.dead_letter_depth() >= len(open_ids):
            for order_id in self.dead_lettered() & open_ids:
                retry_count = states[order_id].retry_count if order_id in states else 0
                states[order_id] = TrackedOrder(OrderState.DEAD_LETTERED, retry_count)  # when: unknown
        return states

    def _status_records(self, order_ids: list[str]) -> dict[str, TrackedOrder]:
        states: dict[str, TrackedOrder] = {}
        for batch in batched(order_ids, BATCH_GET_LIMIT, strict=False):
            request: dict[str, Any] = {
                self._table: {
                    "Keys": [{"id": {"S": f"order#{i}"}} for i in batch],
                    # The key, not `orderId`: an order written straight to the queue gets a
                    # status record from the worker's updates only.
                    "ProjectionExpression": "id, #status, retryCount, updatedAt",
                    "ExpressionAttributeNames": {"#status": "status"},
                }
            }
            while request:
                answer = self._dynamodb.batch_get_item(RequestItems=request)
                for item in answer["Responses"].get(self._table, []):
                    states[item["id"]["S"].removeprefix("order#")] = TrackedOrder(
                        OrderState(item["status"]["S"]),
                        int(item.get("retryCount", {}).get("N", "0")),
                        item.get("updatedAt", {}).get("S", ""),
                    )
                request = answer.get("UnprocessedKeys") or {}
        return states

    def dead_letter_depth(self) -> int:
        return sum(dead_letters.depth() for dead_letters in self._dead_letters)

    def dead_lettered(self) -> set[str]:
        """Order ids in the DLQs, peeked (see ops/dead_letter_peek.py) when their depth changed."""
        return {
            order_id
            for dead_letters in self._dead_letters
            for message in dead_letters.messages()
            if (order_id := order_id_in(message.body))
        }
