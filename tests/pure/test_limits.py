"""The stack's limits (automation_shared/limits.py) against the AWS limits they derive from."""

from __future__ import annotations

import hashlib
import json
import uuid

import pytest

from automation_local.lambda_.esm.sqs_records import sqs_event
from automation_shared import limits
from automation_shared.contracts import OrderMessage
from automation_shared.messages import order_message

pytestmark = pytest.mark.fast


def an_order_filling_its_message(character: str) -> OrderMessage:
    """An order at every field bound whose message is as large as the order queue takes,
    its parameters made of `character` (one that JSON escapes, for the worst case)."""
    order = OrderMessage.model_validate(
        {
            "orderId": str(uuid.uuid4()),
            "taskType": "text-processing",
            "payload": {"url": "http://h/" + "p" * (limits.URL_MAX_CHARS - 9), "parameters": {"text": ""}},
            "userId": "u" * limits.USER_ID_MAX_CHARS,
            "correlationId": "c" * limits.CORRELATION_ID_MAX_CHARS,
            "deduplicationId": "d" * 128,
            "timestamp": "2026-12-08T10:00:00Z",
        }
    )
    escaped = len(json.dumps(character)) - 2  # bytes one character takes in the body
    room = (limits.ORDER_MESSAGE_MAX_BYTES - order_message(order).size) // escaped
    return order.model_copy(
        update={"payload": order.payload.model_copy(update={"parameters": {"text": character * room}})}
    )


@pytest.mark.parametrize("character", ["a", '"', "\\", "\u0001", "é"])
def test_a_batch_of_ten_orders_at_the_bound_fits_one_lambda_event(character: str) -> None:
    # GIVEN ten orders each as large as the order queue takes, of characters the event's
    # JSON escapes once more (a quote, a backslash, a control character) or not at all
    messages = []
    for _ in range(limits.SQS_BATCH_MAX_ENTRIES):
        outgoing = order_message(an_order_filling_its_message(character))
        assert outgoing.size <= limits.ORDER_MESSAGE_MAX_BYTES
        messages.append(
            {
                "MessageId": str(uuid.uuid4()),
                "ReceiptHandle": "r" * 400,
                "Body": outgoing.body,
                "MD5OfBody": hashlib.md5(outgoing.body.encode()).hexdigest(),
                "Attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1796700000000"},
                "MessageAttributes": {
                    name: {"DataType": "String", "StringValue": value} for name, value in outgoing.attributes.items()
                },
            }
        )
    # WHEN the worker's event source mapping delivers them as one batch
    event = sqs_event(messages, "arn:aws:sqs:eu-central-1:123456789012:automation-prod-order-queue", "eu-central-1")
    # THEN the event, as JSON, is within Lambda's 6 MB invocation payload
    assert len(json.dumps(event).encode()) <= limits.LAMBDA_EVENT_MAX_BYTES


def test_an_order_at_every_bound_passes_them_and_one_byte_more_does_not() -> None:
    # GIVEN an order at every field bound, its message as large as the queue takes
    order = an_order_filling_its_message("a")
    # WHEN its bounds are checked, and again with its text one character longer
    longer = order.model_copy(
        update={
            "payload": order.payload.model_copy(update={"parameters": {"text": order.payload.parameters["text"] + "a"}})
        }  # type: ignore[index]
    )
    # THEN the first passes every bound, the second only the fields' (the message is one byte over)
    assert limits.bounds_exceeded(order, order_message(order).size) == []
    assert [location for location, _ in limits.bounds_exceeded(longer, order_message(longer).size)] == [()]
