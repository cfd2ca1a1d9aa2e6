"""On FIFO queues every message carries its user's group and a deduplication id that names
the message (the order's first attempt as the producer named it, later attempts and results
by order and attempt), never its content; standard-queue messages carry neither."""

from __future__ import annotations

import hashlib
import json

import pytest

from automation_shared.contracts import OrderMessage, ResultMessage
from automation_shared.messages import fifo_id, order_message, result_message
from tests.pure.events import record_body

pytestmark = pytest.mark.fast


def _order(**changes: object) -> OrderMessage:
    document = {**json.loads(record_body("worker-text-processing")), **changes}
    return OrderMessage.model_validate({k: v for k, v in document.items() if v is not None})


def _result(**changes: object) -> ResultMessage:
    return ResultMessage.model_validate({**json.loads(record_body("feedback-archive")), **changes})


def test_a_first_attempt_is_deduplicated_by_the_producers_id_in_its_users_group() -> None:
    # GIVEN an order of events/ with a deduplicationId, and one without
    named, unnamed = _order(deduplicationId="invoice-2026-0042"), _order(deduplicationId=None)
    # WHEN their FIFO entries are built
    named_entry = order_message(named, fifo=True).batch_entry("0")
    unnamed_entry = order_message(unnamed, fifo=True).batch_entry("1")
    # THEN each is in its user's group, deduplicated by the deduplicationId or else the orderId
    assert named_entry["MessageGroupId"] == named.userId
    assert named_entry["MessageDeduplicationId"] == "invoice-2026-0042"
    assert unnamed_entry["MessageDeduplicationId"] == unnamed.orderId


def test_a_later_attempt_and_a_result_are_named_by_order_and_attempt_and_wait_for_no_delay() -> None:
    # GIVEN the second attempt of an order, with a backoff asked for, and a result of it
    order = _order(retryCount=1)
    result = _result(orderId=order.orderId, userId=order.userId)
    # WHEN their FIFO entries are built
    retry = order_message(order, delay_seconds=30, fifo=True).batch_entry("0")
    sent = result_message(result, message_id="m", retry_count=1, fifo=True).batch_entry("1")
    # THEN both name the order's attempt, in the user's group, and the order has no per-message delay
    assert retry["MessageDeduplicationId"] == sent["MessageDeduplicationId"] == f"{order.orderId}:1"
    assert retry["MessageGroupId"] == sent["MessageGroupId"] == order.userId
    assert "DelaySeconds" not in retry


def test_an_id_sqs_would_refuse_becomes_a_stable_digest() -> None:
    # GIVEN a userId with a space and an accent, and one too long for SQS's 128 characters
    spaced, long = "Jürgen Müller", "u" * 129
    # WHEN they are made FIFO ids
    # THEN each is the digest of its text (the same text, the same group), and a valid id stays
    assert fifo_id(spaced) == hashlib.sha256(spaced.encode()).hexdigest() == fifo_id(spaced)
    assert fifo_id(long) == hashlib.sha256(long.encode()).hexdigest()
    assert fifo_id("user-42") == "user-42"


def test_a_standard_queue_message_carries_no_fifo_field() -> None:
    # GIVEN an order and a result of events/, built for a standard queue
    entries = [order_message(_order()).batch_entry("0"), result_message(_result(), message_id="m").batch_entry("1")]
    # THEN neither names a group or a deduplication id (standard queues refuse both)
    for entry in entries:
        assert "MessageGroupId" not in entry and "MessageDeduplicationId" not in entry
