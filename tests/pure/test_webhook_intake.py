"""The webhook's intake: request bodies of events/webhook-*.json into orders, or into the
exact list of what is wrong (RFC 9457 problem details with field paths)."""

from __future__ import annotations

import json
import re

import pytest

from automation_shared import limits
from automation_shared.contracts import UUID4_PATTERN, Priority, TaskType
from automation_shared.order_records import order_id_for
from automation_shared.task_budget import longest_task_seconds
from tests.pure.events import http_body
from webhook_api.intake import MAX_ORDERS_PER_REQUEST, IntakeError, parse_orders
from webhook_api.problems import PROBLEM_JSON, problem

pytestmark = pytest.mark.fast

# The template's default WorkerTimeoutSeconds (50 s) leaves 46 s for a task.
LONGEST_TASK_SECONDS = longest_task_seconds(50)


def with_timeout(body: bytes, timeout: float) -> bytes:
    order = json.loads(body)
    order["payload"]["timeout"] = timeout
    return json.dumps(order).encode()


def test_the_single_order_event_parses_into_one_order_with_its_defaults() -> None:
    # GIVEN the body of the sample POST /orders with one order, neither orderId nor timestamp in it
    body = http_body("webhook-post-order")

    # WHEN the webhook parses it
    intake = parse_orders(body, LONGEST_TASK_SECONDS)

    # THEN it is one order (not a batch), as sent, with a new UUIDv4 and the default priority
    assert intake.is_batch is False
    [order] = intake.orders
    assert order.taskType is TaskType.URL_MONITORING
    assert (order.payload.url, order.payload.timeout, order.userId) == ("http://127.0.0.1:9/", 30.0, "user-42")
    assert order.priority is Priority.NORMAL
    assert re.match(UUID4_PATTERN, order.orderId)
    assert order.timestamp.tzinfo is not None
    # and, with no id of its own, only the signature tells a replay of it from a new order
    assert intake.anonymous is True


def test_the_batch_event_parses_into_its_orders_in_their_order() -> None:
    # GIVEN the body of the sample POST /orders with a JSON array of two orders
    body = http_body("webhook-post-batch")

    # WHEN the webhook parses it
    intake = parse_orders(body, LONGEST_TASK_SECONDS)

    # THEN it is a batch of both, in the array's order, each with an id of its own
    assert intake.is_batch is True
    assert [o.priority for o in intake.orders] == [Priority.NORMAL, Priority.HIGH]
    assert len({o.orderId for o in intake.orders}) == 2


def test_a_deduplication_id_names_the_same_order_on_every_request() -> None:
    # GIVEN the sample order with a deduplicationId and no orderId
    order = json.loads(http_body("webhook-post-order")) | {"deduplicationId": "invoice-2026-11-25"}
    body = json.dumps(order).encode()

    # WHEN the same body arrives twice (a client's retry)
    first, retried = parse_orders(body, LONGEST_TASK_SECONDS), parse_orders(body, LONGEST_TASK_SECONDS)

    # THEN both name the order derived from the user's deduplicationId, and the request is not anonymous
    assert first.orders[0].orderId == retried.orders[0].orderId == order_id_for("user-42", "invoice-2026-11-25")
    assert first.anonymous is False


def test_the_same_deduplication_id_of_another_user_names_another_order() -> None:
    # GIVEN the sample order with a deduplicationId, sent by two users
    order = json.loads(http_body("webhook-post-order")) | {"deduplicationId": "invoice-2026-11-25"}
    mine = json.dumps(order).encode()
    theirs = json.dumps(order | {"userId": "user-7"}).encode()

    # WHEN the webhook parses both
    # THEN each names an order of its own: a deduplicationId is its user's
    assert parse_orders(mine, LONGEST_TASK_SECONDS).orders[0].orderId != (
        parse_orders(theirs, LONGEST_TASK_SECONDS).orders[0].orderId
    )


@pytest.mark.parametrize(
    "field, path, bound",
    [
        (("userId",), "userId", limits.USER_ID_MAX_CHARS),
        (("correlationId",), "correlationId", limits.CORRELATION_ID_MAX_CHARS),
        (("payload", "url"), "payload.url", limits.URL_MAX_CHARS),
    ],
)
def test_a_field_past_the_stacks_bound_is_refused_naming_the_field_and_the_bound(
    field: tuple[str, ...], path: str, bound: int
) -> None:
    # GIVEN the sample order with one free-text field at its bound, and one past it
    def with_length(length: int) -> bytes:
        order = json.loads(http_body("webhook-post-order"))
        target = order
        for part in field[:-1]:
            target = target[part]
        target[field[-1]] = "http://h/" + "p" * (length - 9) if field[-1] == "url" else "x" * length
        return json.dumps(order).encode()

    # WHEN the webhook parses them
    at_bound = parse_orders(with_length(bound), LONGEST_TASK_SECONDS)
    with pytest.raises(IntakeError) as refused:
        parse_orders(with_length(bound + 1), LONGEST_TASK_SECONDS)

    # THEN the one at its bound is taken, the other refused with a 422 naming the field and the bound
    assert len(at_bound.orders) == 1
    assert refused.value.status == 422
    [error] = refused.value.errors
    assert error["path"] == path
    assert f"at most {bound} characters" in error["message"]


def test_an_order_larger_than_the_order_queues_message_is_refused_before_it_is_sent() -> None:
    # GIVEN an order whose parameters make its message just past the order queue's largest
    order = json.loads(http_body("webhook-post-order"))
    order["payload"]["parameters"] = {"blob": "b" * limits.ORDER_MESSAGE_MAX_BYTES}
    body = json.dumps(order).encode()
    assert len(body) <= limits.REQUEST_BODY_MAX_BYTES  # the request itself is not too large

    # WHEN the webhook parses it
    with pytest.raises(IntakeError) as refused:
        parse_orders(body, LONGEST_TASK_SECONDS)

    # THEN it is a 422 for the order as a whole, naming the bound
    assert refused.value.status == 422
    [error] = refused.value.errors
    assert error["path"] == "(body)"
    assert f"at most {limits.ORDER_MESSAGE_MAX_BYTES} bytes" in error["message"]


def test_a_null_field_is_reported_at_its_path_with_the_objects_other_errors() -> None:
    # GIVEN the sample order with a null timeout and a url that is a number
    order = json.loads(http_body("webhook-post-order"))
    order["payload"] |= {"timeout": None, "url": 5}

    # WHEN the webhook parses it
    with pytest.raises(IntakeError) as refused:
        parse_orders(json.dumps(order).encode(), LONGEST_TASK_SECONDS)

    # THEN both are named, each at its own path
    assert {e["path"] for e in refused.value.errors} == {"payload.timeout", "payload.url"}


def test_the_contract_violation_event_is_refused_naming_the_field() -> None:
    # GIVEN the body of the sample order whose priority is not one of the contract's
    body = http_body("webhook-bad-contract-violation")

    # WHEN the webhook parses it
    with pytest.raises(IntakeError) as refused:
        parse_orders(body, LONGEST_TASK_SECONDS)

    # THEN it is a 422 naming `priority`, and only it
    assert (refused.value.status, refused.value.title) == (422, "Invalid orders")
    assert [e["path"] for e in refused.value.errors] == ["priority"]
    assert "critical" in refused.value.errors[0]["message"]  # the allowed values are listed


def test_the_malformed_json_event_is_refused_as_a_bad_request_on_the_body() -> None:
    # GIVEN the body of the sample request cut short (not JSON)
    body = http_body("webhook-bad-malformed-json")

    # WHEN the webhook parses it
    with pytest.raises(IntakeError) as refused:
        parse_orders(body, LONGEST_TASK_SECONDS)

    # THEN it is a 400 about the body as a whole, saying where the JSON breaks
    assert (refused.value.status, refused.value.title) == (400, "Malformed JSON")
    [error] = refused.value.errors
    assert error["path"] == "(body)"
    assert "char 30" in error["message"]


def test_a_timeout_above_what_the_worker_can_give_is_refused_naming_the_limit() -> None:
    # GIVEN the sample order asking for 60 s on a stack whose worker gives a task 46 s at most
    body = with_timeout(http_body("webhook-post-order"), 60)

    # WHEN the webhook parses it
    with pytest.raises(IntakeError) as refused:
        parse_orders(body, LONGEST_TASK_SECONDS)

    # THEN it is refused (422) at `payload.timeout`, saying the limit and how to raise it
    assert refused.value.status == 422
    [error] = refused.value.errors
    assert error["path"] == "payload.timeout"
    assert error["message"].startswith("at most 46 s on this stack")
    assert "WorkerTimeoutSeconds" in error["message"]


def test_a_timeout_of_exactly_the_limit_is_accepted() -> None:
    # GIVEN the sample order asking for exactly the longest task the worker runs in full
    body = with_timeout(http_body("webhook-post-order"), LONGEST_TASK_SECONDS)

    # WHEN the webhook parses it
    intake = parse_orders(body, LONGEST_TASK_SECONDS)

    # THEN it is accepted with that timeout
    assert intake.orders[0].payload.timeout == LONGEST_TASK_SECONDS


def test_a_refused_order_of_a_batch_is_named_by_its_index() -> None:
    # GIVEN the sample batch whose second order asks for more time than the worker gives
    batch = json.loads(http_body("webhook-post-batch"))
    batch[1]["payload"]["timeout"] = LONGEST_TASK_SECONDS + 1

    # WHEN the webhook parses it
    with pytest.raises(IntakeError) as refused:
        parse_orders(json.dumps(batch).encode(), LONGEST_TASK_SECONDS)

    # THEN the whole request is refused, naming the second order's field only
    assert [e["path"] for e in refused.value.errors] == ["[1].payload.timeout"]


def test_a_batch_of_more_than_ten_orders_is_refused_as_a_whole() -> None:
    # GIVEN a batch of eleven copies of the sample order
    order = json.loads(http_body("webhook-post-order"))
    body = json.dumps([order] * (MAX_ORDERS_PER_REQUEST + 1)).encode()

    # WHEN the webhook parses it
    with pytest.raises(IntakeError) as refused:
        parse_orders(body, LONGEST_TASK_SECONDS)

    # THEN it is a 422 on the body, saying the bound and the count
    assert refused.value.status == 422
    assert refused.value.errors == [{"path": "(body)", "message": "a batch holds 1 to 10 orders, not 11"}]


def test_an_intake_error_is_answered_as_an_rfc_9457_problem() -> None:
    # GIVEN the webhook's refusal of the contract violation event
    with pytest.raises(IntakeError) as refused:
        parse_orders(http_body("webhook-bad-contract-violation"), LONGEST_TASK_SECONDS)

    # WHEN it becomes the response
    response = problem(refused.value.status, refused.value.title, errors=refused.value.errors)

    # THEN it is application/problem+json with the status, the title and each field's error
    assert response.status_code == 422
    assert response.content_type == PROBLEM_JSON
    document = json.loads(response.body)
    assert document == {
        "type": "about:blank",
        "title": "Invalid orders",
        "status": 422,
        "errors": refused.value.errors,
    }
