"""Order records against the emulator's orders table: each step's conditional write does what
the idempotency records did, and a late or repeated write never undoes a later state."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from automation_local.aws.dynamodb_item_size import item_size
from automation_local.aws.emulator import Emulator
from automation_local.cloudformation.stack import DeployedStack
from automation_shared import limits
from automation_shared.contracts import OrderMessage
from automation_shared.messages import order_message
from automation_shared.order_records import (
    ClaimOutcome,
    OrderIdTakenError,
    OrderRecords,
    OrderState,
    order_id_for,
    order_identity,
)

pytestmark = pytest.mark.slow


@pytest.fixture
def records(emulator: Emulator, deployed_stack: DeployedStack) -> OrderRecords:
    return OrderRecords(emulator.client("dynamodb"), deployed_stack.outputs["OrdersTableName"])


def an_order(**fields: Any) -> OrderMessage:
    return OrderMessage.model_validate(
        {
            "orderId": str(uuid.uuid4()),
            "taskType": "text-processing",
            "payload": {"parameters": {"text": "status"}},
            "userId": "user-1",
            "timestamp": datetime.now(UTC).isoformat(),
            **fields,
        }
    )


def test_an_attempt_is_claimed_by_one_invocation_at_a_time(records: OrderRecords) -> None:
    # GIVEN an accepted order, its attempt claimed by an invocation of its message
    order = an_order()
    records.record_accepted(order)
    first = records.claim_attempt(order, "message-1", 60_000)
    # WHEN, while the lease runs, the same message comes again and a copy of it arrives,
    # and then, after the lease has passed, the copy comes again
    again = records.claim_attempt(order, "message-1", 60_000)
    copy = records.claim_attempt(order, "message-2", 60_000)
    records.release_attempt(order, first)  # the lease ends
    later = records.claim_attempt(order, "message-2", 60_000)
    # THEN the first holds it; the message again is in progress, the copy is told another
    # message holds it; after the lease the copy takes it over
    assert [c.outcome for c in (first, again, copy, later)] == [
        ClaimOutcome.FRESH,
        ClaimOutcome.IN_PROGRESS,
        ClaimOutcome.HELD_ELSEWHERE,
        ClaimOutcome.TAKEN_OVER,
    ]
    assert (records.get(order.orderId) or {})["status"] == "processing"


def test_a_message_of_an_earlier_attempt_claims_nothing(records: OrderRecords) -> None:
    # GIVEN an order requeued as attempt 1
    order = an_order()
    records.record_accepted(order)
    records.claim_attempt(order, "message-1", 0)
    records.record_act(order.orderId, "result-0", OrderState.REQUEUED, order.model_copy(update={"retryCount": 1}))
    # WHEN a late copy of attempt 0 arrives
    claim = records.claim_attempt(order, "message-2", 60_000)
    # THEN it is superseded, and the record still holds attempt 1
    assert claim.outcome is ClaimOutcome.SUPERSEDED
    record = records.get(order.orderId) or {}
    assert record["status"] == "requeued" and record["retryCount"] == 1


def test_an_ended_order_is_never_taken_on_again(records: OrderRecords) -> None:
    # GIVEN an archived order
    order = an_order()
    records.record_accepted(order)
    records.claim_attempt(order, "message-1", 0)
    assert records.record_act(order.orderId, "result-0", OrderState.ARCHIVED) is True
    # WHEN its message comes again, another result is acted on, and its last receive fails
    claim = records.claim_attempt(order, "message-2", 60_000)
    records.record_act(order.orderId, "result-0b", OrderState.REQUEUED, order)
    records.mark_dead_lettered(order.orderId)
    # THEN the claim is refused as finished and the order stays archived, with one final state
    assert claim.outcome is ClaimOutcome.FINISHED
    record = records.get(order.orderId) or {}
    assert record["status"] == "archived"
    assert [h["status"] for h in record["history"]] == ["queued", "processing", "archived"]


def test_a_result_is_acted_on_once(records: OrderRecords) -> None:
    # GIVEN an order the webhook recorded
    order = an_order()
    records.record_accepted(order)
    # WHEN feedback records acting on one of its results, then on the same result again
    # THEN the first write is made and the second refused
    assert records.record_act(order.orderId, "result-0", OrderState.NOTIFIED) is True
    assert records.record_act(order.orderId, "result-0", OrderState.NOTIFIED) is False
    # AND the record says that result was acted on
    assert records.has_acted(records.item(order.orderId), "result-0")


def test_the_first_stored_result_of_an_attempt_is_the_one_sent(records: OrderRecords) -> None:
    # GIVEN an attempt whose result an invocation stored
    order = an_order()
    assert records.store_result(order.orderId, 0, '{"first": true}') == '{"first": true}'
    # WHEN another invocation of the same attempt stores its own
    # THEN it gets the first one back (that is the one to send)
    assert records.store_result(order.orderId, 0, '{"second": true}') == '{"first": true}'
    assert records.stored_result(order.orderId, 0) == '{"first": true}'


def test_the_webhook_records_an_order_once(records: OrderRecords) -> None:
    # GIVEN a new order
    order = an_order()
    # WHEN the webhook records it, then records it again
    # THEN the first write is made and the second refused
    assert records.record_accepted(order) is True
    assert records.record_accepted(order) is False
    # AND looking it up with an unknown order finds it alone, with its order id, user and identity
    found = records.accepted_before([f"order#{order.orderId}", f"order#{uuid.uuid4()}"])
    assert found == {
        f"order#{order.orderId}": {"orderId": order.orderId, "userId": "user-1", "identity": order_identity(order)}
    }


def test_a_deduplication_id_always_names_the_same_uuid4_for_its_user() -> None:
    # GIVEN deduplication ids sent without an order id, by two users
    # WHEN the order id of each is derived
    # THEN the same user's deduplication id always gives the same order id, another key or
    # another user's same key gives another, and each is a UUIDv4 as the contract asks
    assert order_id_for("u1", "invoice-7") == order_id_for("u1", "invoice-7") != order_id_for("u1", "invoice-8")
    assert order_id_for("u1", "invoice-7") != order_id_for("u2", "invoice-7")
    assert uuid.UUID(order_id_for("u1", "invoice-7")).version == 4


def test_an_order_id_reused_by_another_order_is_refused_by_the_record_and_the_claim(records: OrderRecords) -> None:
    # GIVEN an accepted order
    order = an_order(deduplicationId="first-key")
    records.record_accepted(order)
    # WHEN its orderId comes again with another deduplicationId, and with another user
    other_key = order.model_copy(update={"deduplicationId": "second-key"})
    other_user = order.model_copy(update={"userId": "user-2"})
    # THEN the webhook's record write says the id is taken, and the worker's claim of either
    # is refused as another order's, leaving the record's order as it was
    for reuse in (other_key, other_user):
        with pytest.raises(OrderIdTakenError):
            records.record_accepted(reuse)
        assert records.claim_attempt(reuse, "message-x", 60_000).outcome is ClaimOutcome.FOREIGN
    stored = records.item(order.orderId) or {}
    assert OrderMessage.model_validate_json(stored["order"]["S"]) == order
    # AND the order itself still claims its attempt
    assert records.claim_attempt(order, "message-1", 60_000).outcome is ClaimOutcome.FRESH


def test_an_order_at_every_bound_fits_its_record_through_its_whole_life(records: OrderRecords) -> None:
    # GIVEN an order whose fields are at the stack's bounds and whose message is as large as
    # the order queue takes (limits.py)
    order = an_order(
        userId="u" * limits.USER_ID_MAX_CHARS,
        correlationId="c" * limits.CORRELATION_ID_MAX_CHARS,
        deduplicationId="d" * 128,
        payload={"url": "http://h/" + "p" * (limits.URL_MAX_CHARS - 9), "parameters": {"blob": ""}},
    )
    room = limits.ORDER_MESSAGE_MAX_BYTES - order_message(order).size
    order = order.model_copy(update={"payload": order.payload.model_copy(update={"parameters": {"blob": "b" * room}})})
    assert order_message(order).size == limits.ORDER_MESSAGE_MAX_BYTES
    assert not limits.bounds_exceeded(order, order_message(order).size)
    # WHEN it is recorded, claimed on every attempt, requeued, acted on and dead-lettered and
    # redriven over and over, as a long life would
    assert records.record_accepted(order, signature="sha256=" + "f" * 64)
    for attempt in range(4):
        retry = order.model_copy(update={"retryCount": attempt})
        assert records.claim_attempt(retry, f"message-{attempt}", 60_000).held
        assert records.record_act(order.orderId, f"{attempt:032x}", OrderState.REQUEUED, retry)
    for _ in range(20):
        assert records.mark_dead_lettered(order.orderId)
        assert records.redriven(order.orderId)
    # THEN every write fitted the 400 KB item (DynamoDB refuses a larger one), and the record
    # still holds the order
    stored = records.item(order.orderId) or {}
    assert OrderMessage.model_validate_json(stored["order"]["S"]).orderId == order.orderId
    assert item_size(stored) <= limits.DYNAMODB_ITEM_MAX_BYTES


def test_a_record_made_from_a_dead_letter_or_an_unknown_result_expires(records: OrderRecords) -> None:
    # GIVEN order ids no record names (a DLQ body the contract refused; a result sent straight
    # to the result queue)
    dead, acted = str(uuid.uuid4()), str(uuid.uuid4())
    # WHEN the consumers mark one dead-lettered and record an act on the other
    records.mark_dead_lettered(dead)
    records.record_act(acted, "a" * 32, OrderState.ARCHIVED)
    # THEN each record they made has an expiry (the table's TTL attribute)
    for order_id in (dead, acted):
        assert "expiration" in (records.item(order_id) or {}), order_id
