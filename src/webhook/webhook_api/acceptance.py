"""Accepting orders once, keyed on the order's `deduplicationId` (or `orderId`): one
SendMessageBatch for the new orders of a request, and one write per order, after its send.

An order without `orderId` gets one: derived from its `deduplicationId` when it has one
(so every request with that key names the same order), else a new UUIDv4. For each
request: read which keys have a record already (one BatchGetItem: those orders were sent,
and are answered `duplicate` with their order id), send the others together, then write
each sent order's record (automation_shared.order_records). The record exists only once
its message does, so a key with a record is never sent again.

A request that dies between its send and its write leaves a message without a record; the
client's retry (it got no answer) finds no record and sends the order again, under the
same order id (an order with neither id has nothing to be recognised by: its retry is a
new order). The worker runs an attempt once whatever number of copies arrives (its claim
per `orderId` and `retryCount`), so a second copy does nothing.

Why not Powertools Idempotency here: a request carries up to ten orders that must leave in
one SendMessageBatch, which `@idempotent_function` (one call per key) cannot do; its
in-progress record carries no data, so a retry after a crash would give an order sent
without `orderId` a new id; and its claim, completion and a status record are three writes
per order where this design needs one (the worker's idempotency does the rest).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from automation_shared.contracts import OrderMessage
from automation_shared.messages import fifo_queues, order_message
from automation_shared.order_records import OrderRecords, dedup_key, order_id_for, record_key
from automation_shared.sqs_batches import send_batches

from .replay import ReplayedRequestError, signature_key

_writers = ThreadPoolExecutor(max_workers=10, thread_name_prefix="record")  # a request holds 10 orders at most


class Outcome(StrEnum):
    QUEUED = "queued"  # sent now
    DUPLICATE = "duplicate"  # sent before: the first order's id is returned
    FAILED = "failed"  # SQS refused it: nothing recorded, safe to retry (the same key gives the same id)


@dataclass
class Accepted:
    order_id: str
    outcome: Outcome


def deduplication_key(order: OrderMessage) -> str:
    """The record that says whether this order was sent: its deduplicationId's pointer when it
    was sent with its own orderId as well, else its order record (the deduplicationId then
    gave it its id)."""
    if order.deduplicationId and order.orderId != order_id_for(order.deduplicationId):
        return dedup_key(order.deduplicationId)
    return record_key(order.orderId)


@dataclass
class Acceptance:
    accepted: list[Accepted]  # one per order of the request, in its order
    recorded: bool  # some order's record was written by this request (and carries its signature)


def _record(records: OrderRecords, order: OrderMessage, signature: str) -> bool:
    recorded = records.record_accepted(order, signature)
    if deduplication_key(order) != record_key(order.orderId):
        records.record_deduplication(str(order.deduplicationId), order.orderId, signature)
    return recorded


def accept(
    orders: list[OrderMessage],
    *,
    records: OrderRecords,
    sqs: Any,
    queue_url: str,
    signature: str,
    signature_recorded: bool = False,
) -> Acceptance:
    """`orders` with their order ids assigned (intake.parse_orders), sent by a request with
    this signature; raises ReplayedRequestError if the signature was used before (the read
    that finds the keys sent before finds it too: webhook_api/replay.py), unless the request
    has just recorded its first use itself (`signature_recorded`)."""
    first_of_key: dict[str, int] = {}
    for index, order in enumerate(orders):
        first_of_key.setdefault(deduplication_key(order), index)  # the same key twice in one request: one order
    found = records.accepted_before([*first_of_key] + ([] if signature_recorded else [signature_key(signature)]))
    used = signature_key(signature) in found or any(item.get("sig") == signature for item in found.values())
    if used and not signature_recorded:
        raise ReplayedRequestError("this signature has been used before: sign every request anew")
    sent_before = {key: item["orderId"] for key, item in found.items() if "orderId" in item}
    results: dict[int, Accepted] = {
        index: Accepted(sent_before[key], Outcome.DUPLICATE)
        for key, index in first_of_key.items()
        if key in sent_before
    }
    new = [orders[index] for key, index in first_of_key.items() if key not in sent_before]
    failed = send_batches(sqs, queue_url, [order_message(order, fifo=fifo_queues()) for order in new])
    sent = [order for order in new if order.orderId not in failed]
    # The records are written side by side (each its own conditional PutItem: BatchWriteItem
    # has no conditions), so a request of ten waits for one write, not ten.
    recorded = any(list(_writers.map(lambda order: _record(records, order, signature), sent)))
    for order in new:
        outcome = Outcome.FAILED if order.orderId in failed else Outcome.QUEUED
        results[first_of_key[deduplication_key(order)]] = Accepted(order.orderId, outcome)
    answers = []
    for index, order in enumerate(orders):
        first = results[first_of_key[deduplication_key(order)]]
        if index != first_of_key[deduplication_key(order)] and first.outcome is Outcome.QUEUED:
            first = Accepted(first.order_id, Outcome.DUPLICATE)
        answers.append(first)
    return Acceptance(answers, recorded)
