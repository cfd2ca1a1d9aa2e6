"""Accepting orders exactly once: one acceptance record per deduplication key
(`deduplicationId`, else `orderId`), one SendMessageBatch for the new orders of a request.

For each order: claim its key (a conditional PutItem of `webhook#order#<key>` holding the
order id, in state `accepting` with a lease of the invocation's remaining time), write its
status record, send the new orders together, then mark each sent one `sent` (every later
request with the key is answered `duplicate` with the first order's id). An order SQS
refused has its lease released, so the client's retry takes it over at once.

A claim whose lease has passed without `sent` belongs to an invocation that died between
claiming and answering (it may or may not have sent): the next request with the key takes
it over and sends the order again *with the order id of the claim*. The worker runs each
order attempt once (its idempotency is per `orderId` and `retryCount`), so a second copy
of the message does nothing.

Why not Powertools Idempotency here: a request carries up to ten orders that must leave in
one SendMessageBatch, which `@idempotent_function` (one call per key) cannot do; and its
in-progress record carries no data, so a takeover would give an order sent without
`orderId` a new id: a second order for the same `deduplicationId`.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from automation_shared.contracts import OrderMessage
from automation_shared.messages import order_message
from automation_shared.order_status import OrderStatusStore
from automation_shared.sqs_batches import send_batches

KEY_PREFIX = "webhook#order#"
ACCEPTANCE_TTL_SECONDS = 24 * 3600  # how long a deduplicationId (or orderId) is remembered


class Outcome(StrEnum):
    QUEUED = "queued"  # sent now
    DUPLICATE = "duplicate"  # sent before: the first order's id is returned
    IN_PROGRESS = "in-progress"  # the same key is being accepted by another request right now
    FAILED = "failed"  # SQS refused it: safe to retry (the same order id is kept for the key)


@dataclass
class Accepted:
    order_id: str
    outcome: Outcome


@dataclass
class Claim:
    """The right to send one order: `order` carries the key's order id."""

    key: str
    order: OrderMessage
    lease_until_ms: int
    fresh: bool  # no earlier request had begun accepting this key


def dedup_key(order: OrderMessage) -> str:
    return order.deduplicationId or order.orderId


class AcceptanceLedger:
    """The acceptance records, through a DynamoDB client (boto3 low-level)."""

    def __init__(self, dynamodb: Any, table_name: str) -> None:
        self._dynamodb = dynamodb
        self._table = table_name

    def _id(self, key: str) -> dict[str, str]:
        return {"S": KEY_PREFIX + key}

    def claim(self, order: OrderMessage, lease_millis: int) -> Claim | Accepted:
        """A claim on the order's key, or the answer for a key taken already."""
        key = dedup_key(order)
        now = time.time()
        lease_until = int(now * 1000) + lease_millis
        try:
            self._dynamodb.put_item(
                TableName=self._table,
                Item={
                    "id": self._id(key),
                    "orderId": {"S": order.orderId},
                    "state": {"S": "accepting"},
                    "leaseUntil": {"N": str(lease_until)},
                    "expiration": {"N": str(int(now) + ACCEPTANCE_TTL_SECONDS)},
                },
                # TTL deletes lazily: an expired record counts as absent.
                ConditionExpression="attribute_not_exists(id) OR expiration < :now",
                ExpressionAttributeValues={":now": {"N": str(int(now))}},
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
            return Claim(key, order, lease_until, fresh=True)
        except self._dynamodb.exceptions.ConditionalCheckFailedException as taken:
            earlier = taken.response.get("Item")
        if earlier is None:  # gone between the two calls: let the client come back
            return Accepted(order.orderId, Outcome.IN_PROGRESS)
        order_id = earlier["orderId"]["S"]
        if earlier["state"]["S"] == "sent":
            return Accepted(order_id, Outcome.DUPLICATE)
        if int(earlier["leaseUntil"]["N"]) > int(now * 1000):
            return Accepted(order_id, Outcome.IN_PROGRESS)
        try:  # a takeover: the earlier request's invocation ended without an answer
            self._dynamodb.update_item(
                TableName=self._table,
                Key={"id": self._id(key)},
                UpdateExpression="SET leaseUntil = :lease",
                ConditionExpression="#state = :accepting AND leaseUntil = :earlier",
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues={
                    ":lease": {"N": str(lease_until)},
                    ":accepting": {"S": "accepting"},
                    ":earlier": earlier["leaseUntil"],
                },
            )
        except self._dynamodb.exceptions.ConditionalCheckFailedException:
            return Accepted(order_id, Outcome.IN_PROGRESS)  # another request took it over first
        return Claim(key, order.model_copy(update={"orderId": order_id}), lease_until, fresh=False)

    def mark_sent(self, claim: Claim) -> None:
        self._dynamodb.update_item(
            TableName=self._table,
            Key={"id": self._id(claim.key)},
            UpdateExpression="SET #state = :sent",
            ExpressionAttributeNames={"#state": "state"},
            ExpressionAttributeValues={":sent": {"S": "sent"}},
        )

    def release(self, claim: Claim) -> None:
        """SQS refused the order: its lease ends now, so a retry takes the claim over at once."""
        # Taken over meanwhile (the condition fails): the other request answers for it.
        with contextlib.suppress(self._dynamodb.exceptions.ConditionalCheckFailedException):
            self._dynamodb.update_item(
                TableName=self._table,
                Key={"id": self._id(claim.key)},
                UpdateExpression="SET leaseUntil = :zero",
                ConditionExpression="leaseUntil = :ours",
                ExpressionAttributeValues={":zero": {"N": "0"}, ":ours": {"N": str(claim.lease_until_ms)}},
            )


def accept(
    orders: list[OrderMessage],
    *,
    ledger: AcceptanceLedger,
    sqs: Any,
    queue_url: str,
    status_store: OrderStatusStore,
    remaining_time_in_millis: int,
) -> list[Accepted]:
    results: list[Accepted | None] = [None] * len(orders)
    first_of_key: dict[str, int] = {}
    claims: dict[int, Claim] = {}
    for index, order in enumerate(orders):
        key = dedup_key(order)
        if key in first_of_key:  # the same key twice in one request: one order
            continue
        first_of_key[key] = index
        claimed = ledger.claim(order, remaining_time_in_millis)
        if isinstance(claimed, Accepted):
            results[index] = claimed
        else:
            claims[index] = claimed

    for claim in claims.values():
        status_store.record_queued(claim.order)
    failed = send_batches(sqs, queue_url, [order_message(claim.order) for claim in claims.values()])
    for index, claim in claims.items():
        if claim.order.orderId in failed:
            if claim.fresh:  # no message of it exists: no status either
                status_store.delete(claim.order.orderId)
            ledger.release(claim)
            results[index] = Accepted(claim.order.orderId, Outcome.FAILED)
        else:
            ledger.mark_sent(claim)
            results[index] = Accepted(claim.order.orderId, Outcome.QUEUED)

    for index, order in enumerate(orders):
        if results[index] is None:  # a repeat of a key earlier in this request
            first = results[first_of_key[dedup_key(order)]]
            assert first is not None
            outcome = Outcome.FAILED if first.outcome is Outcome.FAILED else Outcome.DUPLICATE
            results[index] = Accepted(first.order_id, outcome)
    return [r for r in results if r is not None]
