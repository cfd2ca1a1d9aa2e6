"""Accepting orders exactly once: Powertools Idempotency records keyed on the order's
`deduplicationId` (or `orderId`), one SendMessageBatch for the new ones.

Powertools' `@idempotent_function` wraps one call per key; a request carries up to ten
orders that must leave in one SendMessageBatch, so this drives the same persistence
layer step by step: reserve each key (INPROGRESS), send the new orders together, then
record success (the order id, returned to every later duplicate) or clear the
reservation of an order SQS refused, so the client can retry exactly that one.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig
from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyItemAlreadyExistsError
from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord

from automation_shared.contracts import OrderMessage
from automation_shared.messages import order_message
from automation_shared.order_status import OrderStatusStore
from automation_shared.sqs_batches import send_batches

IDEMPOTENCY_CONFIG = IdempotencyConfig(event_key_jmespath="deduplicationId || orderId", expires_after_seconds=24 * 3600)
KEY_PREFIX = "webhook#order"


class Outcome(StrEnum):
    QUEUED = "queued"  # sent now
    DUPLICATE = "duplicate"  # sent before: the first order's id is returned
    IN_PROGRESS = "in-progress"  # the same key is being accepted by another request right now
    FAILED = "failed"  # SQS refused it: nothing recorded, safe to retry


@dataclass
class Accepted:
    order_id: str
    outcome: Outcome


class SendRefusedError(Exception):
    """SQS did not take the entry; passed to Powertools when the reservation is cleared."""


def _key_data(order: OrderMessage) -> dict[str, Any]:
    return {"deduplicationId": order.deduplicationId, "orderId": order.orderId}


def _earlier(record: DataRecord | None) -> str | None:
    if record is None or record.status != "COMPLETED":
        return None
    return str(record.response_json_as_dict()["orderId"])


def accept(
    orders: list[OrderMessage],
    *,
    persistence: BasePersistenceLayer,
    sqs: Any,
    queue_url: str,
    status_store: OrderStatusStore,
    remaining_time_in_millis: int,
) -> list[Accepted]:
    persistence.configure(IDEMPOTENCY_CONFIG, key_prefix=KEY_PREFIX)
    results: list[Accepted | None] = [None] * len(orders)
    first_of_key: dict[str, int] = {}
    to_send: list[int] = []
    for index, order in enumerate(orders):
        key = order.deduplicationId or order.orderId
        if key in first_of_key:  # the same key twice in one request: one order
            continue
        first_of_key[key] = index
        try:
            persistence.save_inprogress(_key_data(order), remaining_time_in_millis=remaining_time_in_millis)
        except IdempotencyItemAlreadyExistsError as exists:
            earlier = _earlier(exists.old_data_record or persistence.get_record(_key_data(order)))
            outcome = Outcome.DUPLICATE if earlier else Outcome.IN_PROGRESS
            results[index] = Accepted(earlier or order.orderId, outcome)
            continue
        to_send.append(index)

    for index in to_send:
        status_store.record_queued(orders[index])
    failed = send_batches(sqs, queue_url, [order_message(orders[i]) for i in to_send])
    for index in to_send:
        order = orders[index]
        if order.orderId in failed:
            status_store.delete(order.orderId)
            persistence.delete_record(_key_data(order), SendRefusedError(order.orderId))
            results[index] = Accepted(order.orderId, Outcome.FAILED)
        else:
            persistence.save_success(_key_data(order), {"orderId": order.orderId})
            results[index] = Accepted(order.orderId, Outcome.QUEUED)

    for index, order in enumerate(orders):
        if results[index] is None:  # a repeat of a key earlier in this request
            first = results[first_of_key[order.deduplicationId or order.orderId]]
            assert first is not None
            outcome = Outcome.FAILED if first.outcome is Outcome.FAILED else Outcome.DUPLICATE
            results[index] = Accepted(first.order_id, outcome)
    return [r for r in results if r is not None]
