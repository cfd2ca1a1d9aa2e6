"""Webhook against the emulator stack: authentication, validation, idempotency, batching.

The bad-input table: every refused request names its reason, and nothing reaches the
order queue; every accepted order is in the queue exactly once.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from automation_local.apigateway.events import http_api_event
from automation_local.aws.emulator import Emulator
from automation_local.cloudformation.stack import DeployedStack
from automation_local.lambda_.esm.sqs_records import sqs_record
from automation_shared import limits
from automation_shared.contracts import OrderMessage
from automation_shared.messages import order_message
from automation_shared.order_records import OrderRecords, legacy_order_id_for, order_id_for
from automation_shared.task_budget import longest_task_seconds
from tests.functions.handlers import context_for
from tests.functions.queues import Queue, counted_batches, refused_entries
from tests.functions.webhook_client import WebhookClient, fresh_signed_headers

pytestmark = pytest.mark.slow


def new_order(**fields: Any) -> dict[str, Any]:
    return {
        "taskType": "url-monitoring",
        "payload": {"url": "http://127.0.0.1:9/health", "timeout": 30},
        "userId": "user-42",
        **fields,
    }


@pytest.fixture
def order_queue(emulator: Emulator, deployed_stack: DeployedStack) -> Callable[[], list[dict[str, Any]]]:
    """Empties the order queue now; calling it drains and returns what arrived since."""
    queue = Queue(emulator, deployed_stack.outputs["OrderQueueUrl"])
    queue.drain()
    return queue.drain


@pytest.fixture
def send_batch_calls(webhook_module: Any) -> Iterator[list[int]]:
    """Counts SendMessageBatch calls (entries per call) the webhook makes to SQS."""
    with counted_batches(webhook_module.sqs) as calls:
        yield calls


# ------------------------------------------------------------------ the bad-input table
BAD_INPUTS = {
    "unsigned": ({"document": new_order(), "sign": False}, 401),
    "wrong signature": ({"document": new_order(), "headers": {"x-signature": "sha256=" + "0" * 64}}, 401),
    "stale timestamp": ({"document": new_order(), "skew_seconds": -301}, 401),
    "timestamp from the future": ({"document": new_order(), "skew_seconds": 301}, 401),
    "malformed JSON": ({"raw": b'{"taskType": "url-monitoring",'}, 400),
    "not UTF-8": ({"raw": b"\xff\xfe{}"}, 400),
    "oversize body": ({"raw": b"[" + b" " * limits.REQUEST_BODY_MAX_BYTES + b"]"}, 413),
    "11 orders in a batch": ({"document": [new_order() for _ in range(11)]}, 422),
    "empty batch": ({"document": []}, 422),
    "order not an object": ({"document": ["url-monitoring"]}, 422),
    "unknown task type": ({"document": new_order(taskType="crypto-mining")}, 422),
}
CONTRACT_BREAKS = {
    "missing taskType": (new_order(taskType=None), "taskType"),
    "missing payload": ({k: v for k, v in new_order().items() if k != "payload"}, "payload"),
    "empty userId": (new_order(userId=""), "userId"),
    "orderId not UUIDv4": (new_order(orderId="123"), "orderId"),
    "timeout below 30": (new_order(payload={"timeout": 5}), "payload.timeout"),
    "timeout above 900": (new_order(payload={"timeout": 901}), "payload.timeout"),
    "backoff above 5": (
        new_order(payload={"retryPolicy": {"backoffMultiplier": 6}}),
        "payload.retryPolicy.backoffMultiplier",
    ),
    "maxRetries above 3": (new_order(payload={"retryPolicy": {"maxRetries": 4}}), "payload.retryPolicy.maxRetries"),
    "retryCount above 3": (new_order(retryCount=4), "retryCount"),
    "unknown priority": (new_order(priority="urgent"), "priority"),
    "deduplicationId over 128": (new_order(deduplicationId="d" * 129), "deduplicationId"),
    "unknown field": (new_order(owner="me"), "owner"),
    "timestamp not a date": (new_order(timestamp="yesterday"), "timestamp"),
}


@pytest.mark.parametrize("request_args, status", BAD_INPUTS.values(), ids=BAD_INPUTS.keys())
def test_bad_requests_are_refused_and_nothing_is_enqueued(
    webhook_client: WebhookClient, order_queue: Callable[[], list[Any]], request_args: dict[str, Any], status: int
) -> None:
    # WHEN the bad request arrives
    reply = webhook_client.post(**request_args)
    # THEN it is refused with a problem document and the order queue stays empty
    assert reply.status == status, reply.json
    assert reply.headers["Content-Type"] == "application/problem+json"
    assert reply.json["status"] == status and reply.json["title"]
    assert order_queue() == []


@pytest.mark.parametrize("document, path", CONTRACT_BREAKS.values(), ids=CONTRACT_BREAKS.keys())
def test_each_contract_rule_broken_is_a_422_naming_the_field(
    webhook_client: WebhookClient, order_queue: Callable[[], list[Any]], document: dict[str, Any], path: str
) -> None:
    # GIVEN an order breaking one rule of the contract
    document = {k: v for k, v in document.items() if v is not None}
    # WHEN it is posted, signed
    reply = webhook_client.post(document)
    # THEN it is refused with a 422 naming the field, and the order queue stays empty
    assert reply.status == 422
    assert path in [error["path"] for error in reply.json["errors"]], reply.json
    assert order_queue() == []


def test_one_bad_order_in_a_batch_refuses_the_whole_batch_with_its_index(
    webhook_client: WebhookClient, order_queue: Callable[[], list[Any]]
) -> None:
    # GIVEN a batch of a valid order and one whose timeout is too short
    # WHEN it is posted
    reply = webhook_client.post([new_order(), new_order(payload={"timeout": 1})])
    # THEN the whole batch is refused with a 422 naming the bad order by its index,
    # and nothing is queued
    assert reply.status == 422
    assert [e["path"] for e in reply.json["errors"]] == ["[1].payload.timeout"]
    assert order_queue() == []


# ------------------------------------------------------------------ accepted orders
def test_a_signed_order_is_queued_with_its_attributes_and_status(
    webhook_client: WebhookClient, order_queue: Callable[[], list[Any]]
) -> None:
    # WHEN a valid order without orderId and timestamp is posted
    reply = webhook_client.post(new_order(priority="high"))
    # THEN it is accepted with a generated UUIDv4
    assert reply.status == 202, reply.json
    order_id = reply.json["orderId"]
    assert uuid.UUID(order_id).version == 4 and reply.json["status"] == "queued"
    # AND it is in the order queue once, with the attributes consumers read
    [message] = order_queue()
    body = json.loads(message["Body"])
    assert body["orderId"] == order_id and "timestamp" in body
    attributes = {k: v["StringValue"] for k, v in message["MessageAttributes"].items()}
    assert attributes == {
        "TaskType": "url-monitoring",
        "Priority": "high",
        "UserId": "user-42",
        "CorrelationId": order_id,
    }
    # AND its status reads back as queued
    status = webhook_client.get(order_id)
    assert status.status == 200
    assert status.json["status"] == "queued" and status.json["orderId"] == order_id


def test_a_batch_goes_out_as_one_send_message_batch(
    webhook_client: WebhookClient, order_queue: Callable[[], list[Any]], send_batch_calls: list[int]
) -> None:
    # GIVEN a batch of ten valid orders
    # WHEN it is posted
    reply = webhook_client.post([new_order(userId=f"user-{i}") for i in range(10)])
    # THEN every order is queued, in a single SendMessageBatch call,
    # and the queue holds exactly the orders the reply names
    assert reply.status == 202
    assert [o["status"] for o in reply.json["orders"]] == ["queued"] * 10
    assert send_batch_calls == [10]
    assert sorted(json.loads(m["Body"])["orderId"] for m in order_queue()) == sorted(
        o["orderId"] for o in reply.json["orders"]
    )


def test_the_same_deduplication_id_returns_the_first_order_and_sends_once(
    webhook_client: WebhookClient, order_queue: Callable[[], list[Any]]
) -> None:
    # GIVEN an order with a deduplication id
    dedup = f"invoice-{uuid.uuid4()}"
    # WHEN it is posted, then again (a retry), then twice in one batch
    first = webhook_client.post(new_order(deduplicationId=dedup))
    again = webhook_client.post(new_order(deduplicationId=dedup))
    in_one_batch = webhook_client.post([new_order(deduplicationId=dedup), new_order(deduplicationId=dedup)])
    # THEN the first is queued, and every later one is a duplicate naming the first order
    assert first.status == 202 and first.json["status"] == "queued"
    assert again.status == 202 and again.json == {"orderId": first.json["orderId"], "status": "duplicate"}
    assert [o["orderId"] for o in in_one_batch.json["orders"]] == [first.json["orderId"]] * 2
    # AND the order queue holds it once
    assert len(order_queue()) == 1


def test_the_same_order_id_without_deduplication_id_is_sent_once(
    webhook_client: WebhookClient, order_queue: Callable[[], list[Any]]
) -> None:
    # GIVEN an order with its own order id and no deduplication id
    order_id = str(uuid.uuid4())
    # WHEN it is posted twice
    # THEN the first is queued and the second is a duplicate of it
    assert webhook_client.post(new_order(orderId=order_id)).json == {"orderId": order_id, "status": "queued"}
    assert webhook_client.post(new_order(orderId=order_id)).json == {"orderId": order_id, "status": "duplicate"}
    # AND the order queue holds it once
    assert len(order_queue()) == 1


def test_a_partly_refused_batch_names_exactly_the_orders_to_retry(
    webhook_client: WebhookClient, webhook_module: Any, order_queue: Callable[[], list[Any]]
) -> None:
    # GIVEN SQS refuses the second entry of the batch
    orders = [new_order(deduplicationId=f"d-{uuid.uuid4()}") for _ in range(3)]
    with refused_entries(webhook_module.sqs, lambda index, _: index == 1):
        reply = webhook_client.post(orders)
    # THEN the reply is 207 with that one order failed and the other two queued
    assert reply.status == 207
    assert [o["status"] for o in reply.json["orders"]] == ["queued", "failed", "queued"]
    queued = {json.loads(m["Body"])["orderId"] for m in order_queue()}
    assert queued == {reply.json["orders"][0]["orderId"], reply.json["orders"][2]["orderId"]}
    # AND the failed order left no record behind, so sending it again queues it
    assert webhook_client.get(reply.json["orders"][1]["orderId"]).status == 404
    retried = webhook_client.post(orders[1])
    assert retried.status == 202 and retried.json["status"] == "queued"
    # AND keeps the order id it was given (its deduplicationId's claim holds it)
    assert retried.json["orderId"] == reply.json["orders"][1]["orderId"]
    assert len(order_queue()) == 1


def test_a_retry_after_a_request_that_died_before_answering_names_the_same_order(
    emulator: Emulator,
    deployed_stack: DeployedStack,
    webhook_client: WebhookClient,
    order_queue: Callable[[], list[Any]],
) -> None:
    # GIVEN a request whose order (a deduplicationId, no orderId) was sent, and which then
    # died before writing its record and answering
    dedup = f"d-{uuid.uuid4()}"
    order_id = order_id_for("user-42", dedup)
    first_copy = OrderMessage.model_validate(
        {**new_order(deduplicationId=dedup), "orderId": order_id, "timestamp": "2026-12-01T10:00:00Z"}
    )
    Queue(emulator, deployed_stack.outputs["OrderQueueUrl"]).send([order_message(first_copy)])
    # WHEN the client retries it
    retried = webhook_client.post(new_order(deduplicationId=dedup))
    # THEN it is queued under the same order id: two copies of one order (the worker runs it once)
    assert retried.status == 202 and retried.json == {"orderId": order_id, "status": "queued"}
    assert [json.loads(m["Body"])["orderId"] for m in order_queue()] == [order_id, order_id]
    # AND from now on requests with the key are duplicates of it, sending nothing
    assert webhook_client.post(new_order(deduplicationId=dedup)).json == {"orderId": order_id, "status": "duplicate"}
    assert order_queue() == []


def test_an_order_with_both_ids_is_named_by_its_deduplication_id(
    webhook_client: WebhookClient, order_queue: Callable[[], list[Any]]
) -> None:
    # GIVEN an order sent with its own orderId and a deduplicationId
    dedup, order_id = f"d-{uuid.uuid4()}", str(uuid.uuid4())
    assert webhook_client.post(new_order(orderId=order_id, deduplicationId=dedup)).json["orderId"] == order_id
    # WHEN another order with the same deduplicationId and another orderId arrives
    again = webhook_client.post(new_order(orderId=str(uuid.uuid4()), deduplicationId=dedup))
    # THEN it is a duplicate of the first
    assert again.json == {"orderId": order_id, "status": "duplicate"}
    assert len(order_queue()) == 1


def test_the_same_deduplication_id_of_another_user_is_another_order(
    webhook_client: WebhookClient, order_queue: Callable[[], list[Any]]
) -> None:
    # GIVEN an order of one user with a deduplicationId, with and without an orderId of its own
    for ids in ({}, {"orderId": str(uuid.uuid4())}):
        dedup = f"d-{uuid.uuid4()}"
        first = webhook_client.post(new_order(deduplicationId=dedup, **ids))
        # WHEN another user sends an order with the same deduplicationId
        other = webhook_client.post(new_order(userId="user-7", deduplicationId=dedup))
        # THEN it is queued as an order of its own, never answered with the first user's order
        assert first.json["status"] == other.json["status"] == "queued"
        assert other.json["orderId"] != first.json["orderId"]
        assert len(order_queue()) == 2


def test_an_order_id_reused_with_another_key_or_user_is_a_409_and_sends_nothing(
    webhook_client: WebhookClient, order_queue: Callable[[], list[Any]]
) -> None:
    # GIVEN an accepted order with its own orderId and a deduplicationId
    order_id = str(uuid.uuid4())
    assert webhook_client.post(new_order(orderId=order_id, deduplicationId="k1")).status == 202
    order_queue()
    # WHEN its orderId comes again with a new deduplicationId, without one, from another user,
    # and twice in one batch
    reuses = [
        new_order(orderId=order_id, deduplicationId="k2"),
        new_order(orderId=order_id),
        new_order(orderId=order_id, deduplicationId="k1", userId="user-7"),
    ]
    twice = str(uuid.uuid4())
    batch = [new_order(orderId=twice, deduplicationId="a"), new_order(orderId=twice, deduplicationId="b")]
    # THEN each is refused with a 409 naming the orderId, and nothing is sent
    for reuse in reuses:
        refused = webhook_client.post(reuse)
        assert refused.status == 409 and refused.json["errors"][0]["path"] == "orderId", reuse
    refused = webhook_client.post(batch)
    assert refused.status == 409 and [e["path"] for e in refused.json["errors"]] == ["[1].orderId"]
    assert order_queue() == []
    # AND the same order sent again is still its duplicate
    assert webhook_client.post(new_order(orderId=order_id, deduplicationId="k1")).json == {
        "orderId": order_id,
        "status": "duplicate",
    }


def test_an_order_accepted_before_keys_were_per_user_keeps_its_id(
    emulator: Emulator,
    deployed_stack: DeployedStack,
    webhook_client: WebhookClient,
    order_queue: Callable[[], list[Any]],
) -> None:
    # GIVEN an order accepted before the deploy, under the id its key alone gave it
    dedup = f"d-{uuid.uuid4()}"
    legacy = OrderMessage.model_validate(
        {**new_order(deduplicationId=dedup), "orderId": legacy_order_id_for(dedup), "timestamp": "2026-12-01T10:00:00Z"}
    )
    records = OrderRecords(emulator.client("dynamodb"), deployed_stack.outputs["OrdersTableName"])
    legacy_item = records.item(legacy.orderId)
    assert legacy_item is None
    records.record_accepted(legacy)
    emulator.client("dynamodb").update_item(  # as the code before it wrote it: no identity
        TableName=deployed_stack.outputs["OrdersTableName"],
        Key={"id": {"S": f"order#{legacy.orderId}"}},
        UpdateExpression="REMOVE #identity",
        ExpressionAttributeNames={"#identity": "identity"},
    )
    # WHEN its client retries it across the deploy, and another user sends the same key
    retried = webhook_client.post(new_order(deduplicationId=dedup))
    other = webhook_client.post(new_order(deduplicationId=dedup, userId="user-7"))
    # THEN the retry is its duplicate (not a second run), and the other user's is an order of its own
    assert retried.json == {"orderId": legacy.orderId, "status": "duplicate"}
    assert other.json["status"] == "queued" and other.json["orderId"] != legacy.orderId
    assert len(order_queue()) == 1


def test_two_concurrent_copies_of_one_signed_request_get_no_5xx(
    webhook_client: WebhookClient, order_queue: Callable[[], list[Any]]
) -> None:
    # GIVEN an order accepted, and a retry of it signed once (its orders all duplicates)
    document = new_order(deduplicationId=f"d-{uuid.uuid4()}")
    assert webhook_client.post(document).status == 202
    order_queue()
    body = json.dumps(document).encode()
    headers = {
        "content-type": "application/json",
        **fresh_signed_headers(webhook_client.secret, "POST", "/orders", body),
    }
    event = http_api_event("POST", "/orders", route_key="POST /orders", headers=headers, body=body)
    # WHEN two copies of the retry arrive at once, again and again
    statuses: list[int] = []
    for _ in range(5):
        start = threading.Barrier(2)

        def send(start: threading.Barrier = start) -> None:
            start.wait()
            try:
                statuses.append(webhook_client.send(event).status)
            except Exception:  # the handler raised: API Gateway answers 500
                statuses.append(500)

        threads = [threading.Thread(target=send) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    # THEN every answer is a 202 (the first copy) or a 401 (a replay), never a 5xx, and nothing is sent
    assert len(statuses) == 10 and set(statuses) <= {202, 401} and statuses.count(202) <= 1, statuses
    assert order_queue() == []


@pytest.mark.parametrize(
    "fields, paths",
    [
        ({"userId": "u" * (limits.USER_ID_MAX_CHARS + 1)}, ["userId"]),
        ({"userId": "u" * 250_000}, ["userId", "(body)"]),  # its message is too large too (UserId attribute)
        ({"correlationId": "c" * (limits.CORRELATION_ID_MAX_CHARS + 1)}, ["correlationId"]),
        ({"payload": {"url": "http://h/" + "p" * limits.URL_MAX_CHARS}}, ["payload.url"]),
        ({"payload": {"parameters": {"blob": "b" * limits.ORDER_MESSAGE_MAX_BYTES}}}, ["(body)"]),
    ],
)
def test_an_order_past_the_stacks_bounds_is_a_422_naming_the_field_and_sends_nothing(
    webhook_client: WebhookClient, order_queue: Callable[[], list[Any]], fields: dict[str, Any], paths: list[str]
) -> None:
    # GIVEN an order with one field past the bound the stack keeps (limits.py)
    # WHEN it is posted
    refused = webhook_client.post(new_order(**fields))
    # THEN it is a 422 naming the field and the bound, and nothing was sent
    assert refused.status == 422
    assert [e["path"] for e in refused.json["errors"]] == paths
    assert "at most" in refused.json["errors"][0]["message"]
    assert order_queue() == []


def test_a_request_that_loses_the_race_for_an_order_id_is_a_409_and_its_message_never_runs(
    emulator: Emulator,
    deployed_stack: DeployedStack,
    webhook_module: Any,
    webhook_client: WebhookClient,
    worker: Any,
    order_queue: Callable[[], list[Any]],
) -> None:
    # GIVEN another user's order recorded under an orderId between this request's read and its
    # send (the read is made to find nothing, as it would have a moment earlier)
    order_id = str(uuid.uuid4())
    records = OrderRecords(emulator.client("dynamodb"), deployed_stack.outputs["OrdersTableName"])
    first = OrderMessage.model_validate(
        {**new_order(userId="user-7"), "orderId": order_id, "timestamp": "2026-12-01T10:00:00Z"}
    )
    records.record_accepted(first)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(webhook_module.records, "accepted_before", lambda keys: {})
        # WHEN this request's order with the same orderId is sent and its record written
        reply = webhook_client.post(new_order(orderId=order_id))
    # THEN it is answered 409 naming orderId (its message went out before the write found the id taken)
    assert reply.status == 409 and [e["path"] for e in reply.json["errors"]] == ["orderId"]
    [message] = order_queue()
    # AND the worker, given that message, does not run it: the first order's record is untouched
    event = {"Records": [sqs_record(message, "arn:aws:sqs:us-east-1:123456789012:q", "us-east-1")]}
    assert worker.lambda_handler(event, context_for("worker"))["batchItemFailures"] == []
    record = records.get(order_id) or {}
    assert record["status"] == "queued" and record["userId"] == "user-7"


def test_an_order_whose_record_write_is_refused_after_its_send_is_still_queued(
    webhook_module: Any, webhook_client: WebhookClient, order_queue: Callable[[], list[Any]]
) -> None:
    # GIVEN DynamoDB refusing the webhook's record writes (throttled) once the order is sent
    def throttled(*_: Any, **__: Any) -> Any:
        raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "PutItem")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(webhook_module.records, "record_accepted", throttled)
        # WHEN an order is posted
        reply = webhook_client.post(new_order(deduplicationId=f"d-{uuid.uuid4()}"))
    # THEN it is answered queued, truthfully: its message is in the queue (the worker writes
    # the record when it claims it, and a retry names the same order)
    assert reply.status == 202 and reply.json["status"] == "queued"
    assert [json.loads(m["Body"])["orderId"] for m in order_queue()] == [reply.json["orderId"]]


def test_a_throttled_aws_call_is_a_503_to_retry_and_sends_nothing(
    webhook_module: Any, webhook_client: WebhookClient, order_queue: Callable[[], list[Any]]
) -> None:
    # GIVEN DynamoDB throttling the webhook's reads
    def throttled(**_: Any) -> Any:
        raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "BatchGetItem")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(webhook_module.records._dynamodb, "batch_get_item", throttled)
        # WHEN an order is posted
        reply = webhook_client.post(new_order(deduplicationId=f"d-{uuid.uuid4()}"))
    # THEN the answer is a 503 to retry (a server condition, not a 500), and nothing was sent
    assert reply.status == 503 and reply.headers.get("Retry-After") == "1"
    assert order_queue() == []


# ------------------------------------------------------------------ signatures: once, and for one request
def test_a_replayed_request_is_a_401_and_enqueues_nothing(
    webhook_client: WebhookClient, order_queue: Callable[[], list[Any]]
) -> None:
    # GIVEN a signed request that was accepted (an order without orderId or deduplicationId)
    body = json.dumps(new_order()).encode()
    headers = {
        "content-type": "application/json",
        **fresh_signed_headers(webhook_client.secret, "POST", "/orders", body),
    }
    event = http_api_event("POST", "/orders", route_key="POST /orders", headers=headers, body=body)
    assert webhook_client.send(event).status == 202
    # WHEN the same request is sent again within its 300 s window
    replay = webhook_client.send(event)
    # THEN it is refused, and only the first order is in the queue
    assert replay.status == 401 and "used before" in replay.json["detail"]
    assert len(order_queue()) == 1


REPLAYED = {
    "an order without ids (its signature recorded before it is accepted)": lambda: new_order(),
    "orders with ids (their records carry the signature)": lambda: [
        new_order(deduplicationId=f"d-{uuid.uuid4()}"),
        new_order(orderId=str(uuid.uuid4())),
    ],
}


@pytest.mark.parametrize("document", REPLAYED.values(), ids=REPLAYED.keys())
def test_a_replay_of_an_accepted_request_is_a_401(
    webhook_client: WebhookClient, order_queue: Callable[[], list[Any]], document: Callable[[], Any]
) -> None:
    # GIVEN an accepted request
    body = json.dumps(document()).encode()
    headers = {
        "content-type": "application/json",
        **fresh_signed_headers(webhook_client.secret, "POST", "/orders", body),
    }
    event = http_api_event("POST", "/orders", route_key="POST /orders", headers=headers, body=body)
    assert webhook_client.send(event).status == 202
    sent = len(order_queue())
    # WHEN it is sent again as it was
    replay = webhook_client.send(event)
    # THEN it is refused and sends nothing
    assert replay.status == 401 and "used before" in replay.json["detail"]
    assert sent >= 1 and order_queue() == []


def test_a_replay_of_a_request_of_duplicates_only_is_a_401(
    webhook_client: WebhookClient, order_queue: Callable[[], list[Any]]
) -> None:
    # GIVEN an order accepted, then a second request (a client's retry) of the same order
    document = new_order(deduplicationId=f"d-{uuid.uuid4()}")
    assert webhook_client.post(document).status == 202
    body = json.dumps(document).encode()
    headers = {
        "content-type": "application/json",
        **fresh_signed_headers(webhook_client.secret, "POST", "/orders", body),
    }
    retry = http_api_event("POST", "/orders", route_key="POST /orders", headers=headers, body=body)
    assert webhook_client.send(retry).json["status"] == "duplicate"
    order_queue()
    # WHEN the retry (which recorded no order of its own) is replayed
    replay = webhook_client.send(retry)
    # THEN it is refused all the same
    assert replay.status == 401
    assert order_queue() == []


def test_a_replayed_get_is_a_401(webhook_client: WebhookClient) -> None:
    # GIVEN a queued order, and a GET of its status signed once
    order_id = webhook_client.post(new_order()).json["orderId"]
    signed = fresh_signed_headers(webhook_client.secret, "GET", f"/orders/{order_id}")
    # WHEN the signed GET is sent, then sent again as it was
    # THEN the first is answered and the replay is refused with a 401
    assert webhook_client.get(order_id, headers=signed).status == 200
    assert webhook_client.get(order_id, headers=signed).status == 401


def test_a_signature_covers_the_method_and_path(webhook_client: WebhookClient) -> None:
    # GIVEN an order, and a GET signed for another order's path
    order_id = webhook_client.post(new_order()).json["orderId"]
    other = str(uuid.uuid4())
    signed_for_other = fresh_signed_headers(webhook_client.secret, "GET", f"/orders/{other}")
    # WHEN that signature is used to read the order
    # THEN it is refused: it signs another request
    assert webhook_client.get(order_id, headers=signed_for_other).status == 401
    # AND a POST's signature over the same empty body does not read it either
    signed_post = fresh_signed_headers(webhook_client.secret, "POST", f"/orders/{order_id}")
    assert webhook_client.get(order_id, headers=signed_post).status == 401
    # AND the GET signed for its own path does
    assert webhook_client.get(order_id).status == 200


# ------------------------------------------------------------------ the worker's time budget
def test_an_order_asking_more_time_than_the_worker_can_give_is_a_422(
    webhook_client: WebhookClient, webhook_module: Any, order_queue: Callable[[], list[Any]]
) -> None:
    # GIVEN the stack's worker timeout (50 s by default) leaves a task at most this long
    longest = webhook_module.LONGEST_TASK_SECONDS
    assert longest == longest_task_seconds(50) == 46
    # WHEN orders ask exactly that long and a second longer
    fits = webhook_client.post(new_order(payload={"timeout": longest}))
    too_long = webhook_client.post([new_order(), new_order(payload={"timeout": longest + 1})])
    # THEN the first is queued and the batch with the second is refused, naming the field and the limit
    assert fits.status == 202
    assert too_long.status == 422
    [error] = too_long.json["errors"]
    assert error["path"] == "[1].payload.timeout" and f"at most {longest} s" in error["message"]
    assert "WorkerTimeoutSeconds" in error["message"]
    assert len(order_queue()) == 1


def test_get_refuses_unsigned_and_unknown_orders(webhook_client: WebhookClient) -> None:
    # GIVEN the webhook's GET of an order's status
    # WHEN it is asked unsigned, for an unknown order, and for an id that is no UUID
    # THEN it answers 401, 404 and 400
    assert webhook_client.get(str(uuid.uuid4()), sign=False).status == 401
    assert webhook_client.get(str(uuid.uuid4())).status == 404
    assert webhook_client.get("not-an-id").status == 400
