"""Accepting orders once, keyed on the order's user and `deduplicationId` (or its
`orderId`): one SendMessageBatch for the new orders of a request, and one write per order,
after its send.

A deduplicationId is its user's: two users' orders with the same key are two orders, as on
a FIFO queue with `DeduplicationScope: messageGroup` and the user as the group. An order
without `orderId` gets one: derived from its user and `deduplicationId` when it has one
(so every request of that user with that key names the same order), else a new UUIDv4.
For each request: read which keys have a record already (one BatchGetItem: those orders
were sent, and are answered `duplicate` with their order id), send the others together,
then write each sent order's record (automation_shared.order_records). The record exists
only once its message does, so a key with a record is never sent again.

An `orderId` names one order: the record keeps the identity (user and deduplicationId) of
the order that wrote it first. An order whose orderId's record is another's is refused
before anything is sent (409, naming `orderId`); when two requests race with one orderId,
the record's first writer wins (the webhook's record, or the worker's claim of a message)
and the other is answered `conflict`, its message refused by the worker unrun
(ClaimOutcome.FOREIGN). No answer names another user's order.

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

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError

from automation_shared.contracts import OrderMessage
from automation_shared.messages import fifo_queues, order_message
from automation_shared.order_records import (
    OrderIdTakenError,
    OrderRecords,
    dedup_key,
    legacy_dedup_key,
    legacy_order_id_for,
    order_id_for,
    record_key,
)
from automation_shared.sqs_batches import send_batches

from .replay import ReplayedRequestError, signature_key

logger = Logger(child=True)  # logs through the webhook's own Logger (same service)

_writers = ThreadPoolExecutor(max_workers=10, thread_name_prefix="record")  # a request holds 10 orders at most


class Outcome(StrEnum):
    QUEUED = "queued"  # sent now
    DUPLICATE = "duplicate"  # sent before: the first order's id is returned
    FAILED = "failed"  # SQS refused it: nothing recorded, safe to retry (the same key gives the same id)
    CONFLICT = "conflict"  # its orderId names another order: not accepted (the worker refuses its message)


@dataclass
class Accepted:
    order_id: str
    outcome: Outcome


class OrderIdConflictError(Exception):
    """Orders of the request whose orderId names another order: nothing was sent."""

    def __init__(self, indexes: list[int]) -> None:
        super().__init__(f"orderId of orders {indexes} names other orders")
        self.indexes = indexes


def _keyed_by_derived_id(order: OrderMessage) -> bool:
    """Whether the order's id is the one its user and deduplicationId give (so its record is
    the key's record, and no pointer is needed)."""
    return bool(order.deduplicationId) and order.orderId == order_id_for(order.userId, str(order.deduplicationId))


def request_key(order: OrderMessage) -> tuple[str, ...]:
    """What makes two orders of one request the same order: the user's key, else the orderId."""
    if order.deduplicationId:
        return ("key", order.userId, order.deduplicationId)
    return ("id", order.orderId)


@dataclass(frozen=True)
class _Lookup:
    """The records that tell whether an order was sent before (read in one BatchGetItem)."""

    record: str  # the orderId's record: this order's (a duplicate), or another's (a conflict)
    pointer: str | None  # the user's key, for an order sent with both ids
    legacy: str | None  # the key as it was named before keys were per user (order_records)

    @classmethod
    def of(cls, order: OrderMessage) -> _Lookup:
        if not order.deduplicationId:
            return cls(record_key(order.orderId), None, None)
        if _keyed_by_derived_id(order):
            return cls(record_key(order.orderId), None, record_key(legacy_order_id_for(order.deduplicationId)))
        return cls(
            record_key(order.orderId),
            dedup_key(order.userId, order.deduplicationId),
            legacy_dedup_key(order.deduplicationId),
        )

    @property
    def keys(self) -> list[str]:
        return [key for key in (self.record, self.pointer, self.legacy) if key]


@dataclass
class Acceptance:
    accepted: list[Accepted]  # one per order of the request, in its order
    recorded: bool  # some order's record was written by this request (and carries its signature)


def _record(records: OrderRecords, order: OrderMessage, signature: str) -> bool | None:
    """Writes the sent order's record (and its key's pointer); None if its orderId turned out to be
    another order's. A write DynamoDB refuses leaves the order queued all the same: the worker
    writes the record when it claims the order, and a retry of the request sends it under the
    same id, which the worker runs once."""
    try:
        recorded = records.record_accepted(order, signature)
        if order.deduplicationId and not _keyed_by_derived_id(order):
            records.record_deduplication(order, signature)
    except OrderIdTakenError:
        return None
    except (BotoCoreError, ClientError) as refused:
        logger.warning("order sent, record not written", order_id=order.orderId, error=str(refused))
        return False
    return recorded


def _sent_before(
    records: OrderRecords, order: OrderMessage, lookup: _Lookup, found: dict[str, dict[str, str]]
) -> str | None:
    """The id of the order of the same user and key sent before, if any; raises
    OrderIdTakenError if the orderId's record is another order's."""
    if lookup.pointer and lookup.pointer in found:
        return found[lookup.pointer]["orderId"]
    if lookup.record in found:
        if not records.same_order({k: {"S": v} for k, v in found[lookup.record].items()}, order):
            raise OrderIdTakenError(order.orderId)
        return order.orderId
    legacy = found.get(lookup.legacy or "")
    if legacy and "orderId" in legacy:
        owner = (
            legacy
            if "userId" in legacy
            else records.accepted_before([record_key(legacy["orderId"])]).get(record_key(legacy["orderId"]), {})
        )
        if owner.get("userId") == order.userId:
            return legacy["orderId"]
    return None


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
    has just recorded its first use itself (`signature_recorded`); OrderIdConflictError,
    before anything is sent, if an order's orderId names another order."""
    first_of_key: dict[tuple[str, ...], int] = {}
    conflicts = []
    first_of_id: dict[str, int] = {}
    for index, order in enumerate(orders):
        first = first_of_key.setdefault(request_key(order), index)  # the same key twice in one request: one order
        holder = first_of_id.setdefault(order.orderId, first)
        if holder != first:  # one orderId for two orders of the request
            conflicts.append(index)
    lookups = {first: _Lookup.of(orders[first]) for first in first_of_key.values()}
    keys = [key for lookup in lookups.values() for key in lookup.keys]
    found = records.accepted_before(keys + ([] if signature_recorded else [signature_key(signature)]))
    used = signature_key(signature) in found or any(item.get("sig") == signature for item in found.values())
    if used and not signature_recorded:
        raise ReplayedRequestError("this signature has been used before: sign every request anew")
    sent_before: dict[int, str] = {}
    for first, lookup in lookups.items():
        try:
            if (order_id := _sent_before(records, orders[first], lookup, found)) is not None:
                sent_before[first] = order_id
        except OrderIdTakenError:
            conflicts.append(first)
    if conflicts:
        raise OrderIdConflictError(sorted(conflicts))
    results: dict[int, Accepted] = {
        first: Accepted(order_id, Outcome.DUPLICATE) for first, order_id in sent_before.items()
    }
    new = [orders[first] for first in lookups if first not in sent_before]
    failed = send_batches(sqs, queue_url, [order_message(order, fifo=fifo_queues()) for order in new])
    sent = [order for order in new if order.orderId not in failed]
    # The records are written side by side (each its own conditional PutItem: BatchWriteItem
    # has no conditions), so a request of ten waits for one write, not ten.
    written = dict(
        zip(
            (order.orderId for order in sent),
            _writers.map(lambda order: _record(records, order, signature), sent),
            strict=True,
        )
    )
    for first in lookups:
        if first in sent_before:
            continue
        order = orders[first]
        if order.orderId in failed:
            outcome = Outcome.FAILED
        elif written[order.orderId] is None:
            outcome = Outcome.CONFLICT
        else:
            outcome = Outcome.QUEUED
        results[first] = Accepted(order.orderId, outcome)
    answers = []
    for index, order in enumerate(orders):
        first = first_of_key[request_key(order)]
        answer = results[first]
        if index != first and answer.outcome is Outcome.QUEUED:
            answer = Accepted(answer.order_id, Outcome.DUPLICATE)
        answers.append(answer)
    return Acceptance(answers, any(written.values()))
