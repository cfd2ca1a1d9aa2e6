"""Paths an order takes between the worker and feedback that the happy path does not: an
attempt cancelled for lack of time, an order sent straight to the order queue, a result
of an attempt that was requeued already, a record failing on its last receive, a redrive
long after the attempt ran.

Both handlers run against the emulator stack; messages go through the real queues.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from automation_local.aws.emulator import Emulator
from automation_local.cloudformation.outputs import BackboneOutputs
from automation_local.cloudformation.stack import DeployedStack
from automation_local.ops.redrive import redrive_backbone, renew_backbone_dead_letters
from automation_local.outside.standins import Reply, TargetSite
from automation_shared import limits
from automation_shared.contracts import OrderMessage, ResultMessage
from automation_shared.messages import order_message, result_message
from automation_shared.order_records import (
    RESULT_RETENTION_SECONDS,
    RETENTION_SECONDS,
    OrderRecords,
    OrderState,
    record_key,
    result_key,
)
from tests.functions.handlers import context_for
from tests.functions.queues import Queue

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def site() -> Iterator[TargetSite]:
    with TargetSite({"/down": Reply(503, b"maintenance", "text/plain"), "/ok": Reply(200, b"ok", "text/plain")}) as up:
        yield up  # type: ignore[misc]


@pytest.fixture
def queues(emulator: Emulator, deployed_stack: DeployedStack) -> dict[str, Queue]:
    found = {
        name: Queue(emulator, deployed_stack.outputs[output])
        for name, output in (("order", "OrderQueueUrl"), ("result", "ResultQueueUrl"))
    }
    for queue in found.values():
        queue.drain()
    return found


@pytest.fixture
def records(emulator: Emulator, deployed_stack: DeployedStack) -> OrderRecords:
    return OrderRecords(emulator.client("dynamodb"), deployed_stack.outputs["OrdersTableName"])


def text_order(**fields: Any) -> OrderMessage:
    return OrderMessage.model_validate(
        {
            "orderId": str(uuid.uuid4()),
            "taskType": "text-processing",
            "payload": {"parameters": {"text": "Queues carry orders. Workers run them."}},
            "userId": "user-42",
            "timestamp": datetime.now(UTC).isoformat(),
            **fields,
        }
    )


def invoke(handler: Any, function: str, event: dict[str, Any], timeout_seconds: float = 30.0) -> set[str]:
    response = handler.lambda_handler(event, context_for(function, timeout_seconds))
    return {f["itemIdentifier"] for f in response["batchItemFailures"]}


def test_a_cancelled_attempt_runs_when_feedback_requeues_it(
    worker: Any, feedback: Any, queues: dict[str, Queue], records: OrderRecords
) -> None:
    # GIVEN an order accepted by the webhook, in the order queue
    order = text_order()
    records.record_accepted(order)
    queues["order"].send([order_message(order)])
    # WHEN the worker gets it in an invocation with no time left
    assert invoke(worker, "worker", queues["order"].receive_event(1), timeout_seconds=0) == set()
    # THEN its result is `cancelled`, and asks for a requeue
    result_event = queues["result"].receive_event(1)
    cancelled = ResultMessage.model_validate_json(result_event["Records"][0]["body"])
    assert cancelled.status.value == "cancelled" and cancelled.followUpAction.value == "requeue"  # type: ignore[union-attr]
    # WHEN feedback acts on it, and the worker gets the requeued order with time to run it
    assert invoke(feedback, "feedback", result_event) == set()
    requeued_event = queues["order"].receive_event(1)
    requeued = OrderMessage.model_validate_json(requeued_event["Records"][0]["body"])
    assert requeued.retryCount in (0, None)  # a cancelled attempt does not count
    assert invoke(worker, "worker", requeued_event) == set()
    # THEN the task ran: its success result is on the result queue, and the order is not stuck
    [message] = queues["result"].drain()
    assert ResultMessage.model_validate_json(message["Body"]).status.value == "success"
    assert (records.get(order.orderId) or {})["status"] == "processing"  # until feedback acts on the result


def test_an_order_sent_straight_to_the_queue_is_retried_like_a_webhook_order(
    emulator: Emulator,
    deployed_stack: DeployedStack,
    worker: Any,
    feedback: Any,
    site: TargetSite,
    queues: dict[str, Queue],
    records: OrderRecords,
) -> None:
    # GIVEN an order another repository sent straight to the order queue (no status record),
    # whose first attempt fails
    order = OrderMessage.model_validate(
        {
            "orderId": str(uuid.uuid4()),
            "taskType": "url-monitoring",
            "payload": {"url": f"{site.base_url}/down"},
            "userId": "user-7",
            "timestamp": datetime.now(UTC).isoformat(),
        }
    )
    queues["order"].send([order_message(order)])
    # WHEN the worker runs it and feedback acts on its failure
    assert invoke(worker, "worker", queues["order"].receive_event(1)) == set()
    assert invoke(feedback, "feedback", queues["result"].receive_event(1)) == set()
    # THEN feedback requeues it one attempt later rather than escalating it
    [retry] = queues["order"].drain()
    assert OrderMessage.model_validate_json(retry["Body"]).retryCount == 1
    # AND its status record has every field and the TTL of a webhook order's
    item = emulator.client("dynamodb").get_item(
        TableName=deployed_stack.outputs["OrdersTableName"], Key={"id": {"S": record_key(order.orderId)}}
    )["Item"]
    assert {"orderId", "taskType", "userId", "retryCount", "order", "createdAt", "updatedAt", "expiration"} <= set(item)
    record = records.get(order.orderId) or {}
    assert record["status"] == "requeued" and record["userId"] == "user-7"
    assert [h["status"] for h in record["history"]] == ["processing", "requeued"]


def test_a_direct_order_reusing_another_orders_id_is_not_run_and_leaves_that_order_alone(
    worker: Any, queues: dict[str, Queue], records: OrderRecords
) -> None:
    # GIVEN an order accepted by the webhook, and a direct producer's order of another user
    # under the same orderId
    order = text_order()
    records.record_accepted(order)
    impostor = order.model_copy(
        update={"userId": "user-7", "payload": order.payload.model_copy(update={"parameters": {"text": "mine"}})}
    )
    queues["order"].send([order_message(impostor)])
    # WHEN the worker gets the direct order
    assert invoke(worker, "worker", queues["order"].receive_event(1)) == set()
    # THEN it is not run (no result) and deleted, and the first order's record is as the webhook wrote it
    assert queues["result"].drain() == [] and queues["order"].drain() == []
    record = records.get(order.orderId) or {}
    assert record["status"] == "queued" and record["userId"] == "user-42"
    assert OrderMessage.model_validate_json(record["order"]) == order


def test_a_direct_order_past_the_stacks_bounds_is_refused_with_a_reason_not_dead_lettered(
    emulator: Emulator, deployed_stack: DeployedStack, worker: Any, queues: dict[str, Queue], records: OrderRecords
) -> None:
    # GIVEN an order the contract takes but the stack's bounds do not (a 100,000-character
    # userId, whose result could not be sent), sent straight to the order queue
    order = text_order(userId="u" * 100_000)
    queues["order"].send_raw(order.to_json())
    # WHEN the worker gets it
    assert invoke(worker, "worker", queues["order"].receive_event(1)) == set()
    # THEN it is not run, its message is deleted (no receive spent towards the DLQ), and its
    # record says it was refused and why, with an expiry
    assert queues["result"].drain() == [] and queues["order"].drain() == []
    assert Queue(emulator, deployed_stack.outputs["OrderDeadLetterQueueUrl"]).drain() == []
    record = records.get(order.orderId) or {}
    assert record["status"] == "refused" and "userId: at most 128 characters" in record["reason"]
    assert "expiration" in (records.item(order.orderId) or {})


def test_a_direct_order_larger_than_the_order_queues_message_is_refused_by_sqs_at_the_send(
    emulator: Emulator, queues: dict[str, Queue]
) -> None:
    # GIVEN an order body one byte over the order queue's MaximumMessageSize (limits.py)
    empty = text_order(payload={"parameters": {"b": ""}}).to_json()
    body = empty.replace('"b":""', '"b":"' + "x" * (limits.ORDER_MESSAGE_MAX_BYTES + 1 - len(empty)) + '"')
    assert len(body.encode()) == limits.ORDER_MESSAGE_MAX_BYTES + 1
    # WHEN a direct producer sends it
    # THEN SQS refuses the send (the producer learns it at once), and the queue holds nothing
    with pytest.raises(ClientError) as refused:
        emulator.client("sqs").send_message(QueueUrl=queues["order"].url, MessageBody=body)
    assert "shorter than 262144 bytes" in str(refused.value)
    assert queues["order"].drain() == []


def test_a_result_of_an_attempt_requeued_already_is_not_requeued_again(
    feedback: Any, queues: dict[str, Queue], records: OrderRecords
) -> None:
    # GIVEN an order whose attempt 0 failed and was requeued as attempt 1 (its status holds attempt 1)
    order = text_order()
    records.record_accepted(order)
    records.record_act(order.orderId, "attempt-0", OrderState.REQUEUED, order.model_copy(update={"retryCount": 1}))
    failure = ResultMessage.model_validate(
        {
            "orderId": order.orderId,
            "taskType": "text-processing",
            "status": "failure",
            "result": {"summary": "failed"},
            "processingTime": 1.0,
            "timestamp": datetime.now(UTC).isoformat(),
            "userId": "user-42",
            "followUpAction": "requeue",
        }
    )
    # WHEN attempt 0's result comes again (an earlier delivery whose invocation died after requeueing)
    queues["result"].send([result_message(failure, message_id="0", retry_count=0)])
    assert invoke(feedback, "feedback", queues["result"].receive_event(1)) == set()
    # THEN nothing is requeued: attempt 1 is the order's next attempt already
    assert queues["order"].drain() == []
    assert (records.get(order.orderId) or {})["retryCount"] == 1


def test_a_record_failing_on_its_last_receive_marks_its_order_dead_lettered(
    emulator: Emulator, deployed_stack: DeployedStack, worker: Any, queues: dict[str, Queue], records: OrderRecords
) -> None:
    # GIVEN an order the contract refuses (no payload object), with its status record
    order = text_order()
    records.record_accepted(order)
    body = json.dumps({**json.loads(order.to_json()), "payload": "not an object"})
    queues["order"].send_raw(body)
    sqs = emulator.client("sqs")
    # WHEN the worker fails it on each of its receives (the queue allows 3)
    for receive in (1, 2, 3):
        event = queues["order"].receive_event(1)
        assert event["Records"][0]["attributes"]["ApproximateReceiveCount"] == str(receive)
        assert invoke(worker, "worker", event) == {event["Records"][0]["messageId"]}
        status = (records.get(order.orderId) or {})["status"]
        # THEN only the last failure marks it dead-lettered (the queue moves it to the DLQ next)
        assert status == ("dead-lettered" if receive == 3 else "queued")
        sqs.change_message_visibility(
            QueueUrl=queues["order"].url, ReceiptHandle=event["Records"][0]["receiptHandle"], VisibilityTimeout=0
        )
    # (The next receive moves it to the order DLQ; emptied, so no other test sees a failure there.)
    assert queues["order"].drain() == []
    assert len(Queue(emulator, deployed_stack.outputs["OrderDeadLetterQueueUrl"]).drain()) == 1


DAY_SECONDS = 24 * 3600


def _written_days_ago(dynamodb: Any, table: str, key: str, days: int, retention_seconds: int) -> None:
    """The item's expiration as its writer set it `days` ago."""
    written = int(time.time()) - days * DAY_SECONDS
    dynamodb.update_item(
        TableName=table,
        Key={"id": {"S": key}},
        UpdateExpression="SET expiration = :expiration",
        ExpressionAttributeValues={":expiration": {"N": str(written + retention_seconds)}},
    )


def _time_to_live_at(dynamodb: Any, table: str, keys: list[str], moment: float) -> None:
    """What DynamoDB's TTL has deleted of these items by `moment` (the emulator keeps expired items)."""
    for key in keys:
        item = dynamodb.get_item(TableName=table, Key={"id": {"S": key}}).get("Item")
        if item and "expiration" in item and int(item["expiration"]["N"]) < moment:
            dynamodb.delete_item(TableName=table, Key={"id": {"S": key}})


def _moved_as_a_message_move_task_does(dead_letters: Queue, source: Queue) -> None:
    """The AWS CLI's `start-message-move-task`: each message sent back to its source queue."""
    for message in dead_letters.drain():
        source.send_raw(message["Body"])


@pytest.mark.parametrize("redriven_by", ["the command", "renew-only, then the AWS CLI's move task"])
@pytest.mark.parametrize("days_ago", [8, 20])
def test_a_redrive_long_after_an_attempt_ran_sends_its_stored_result_and_never_runs_it_again(
    days_ago: int,
    redriven_by: str,
    emulator: Emulator,
    deployed_stack: DeployedStack,
    worker: Any,
    queues: dict[str, Queue],
    records: OrderRecords,
    tmp_path: Path,
) -> None:
    # GIVEN an order whose attempt ran `days_ago` days ago (past the 7 days results were once
    # kept): its result stored, its send refused on every receive, its message in the order
    # DLQ and the order dead-lettered; the record and the result expire as written then
    order = text_order()
    records.record_accepted(order)
    records.claim_attempt(order, "the-dead-lettered-message", 0)
    stored = ResultMessage.model_validate(
        {
            "orderId": order.orderId,
            "taskType": "text-processing",
            "status": "success",
            "result": {"summary": f"ran {days_ago} days ago"},
            "processingTime": 5.0,
            "timestamp": datetime.now(UTC).isoformat(),
            "userId": order.userId,
            "followUpAction": "archive",
        }
    ).to_json()
    records.store_result(order.orderId, 0, stored)
    dynamodb, table = emulator.client("dynamodb"), deployed_stack.outputs["OrdersTableName"]
    _written_days_ago(dynamodb, table, record_key(order.orderId), days_ago, RETENTION_SECONDS)
    _written_days_ago(dynamodb, table, result_key(order.orderId, 0), days_ago, RESULT_RETENTION_SECONDS)
    records.mark_dead_lettered(order.orderId)
    dead_letters = Queue(emulator, deployed_stack.outputs["OrderDeadLetterQueueUrl"])
    dead_letters.drain()
    dead_letters.send([order_message(order)])
    # WHEN it is redriven (by the command, or by hand as the runbook says), and the worker
    # receives it only 10 days later (the consumers paused meanwhile), after DynamoDB's TTL has run
    backbone = BackboneOutputs.of(deployed_stack.outputs)
    if redriven_by == "the command":
        report = redrive_backbone(emulator.client("sqs"), dynamodb, backbone, "order", tmp_path, wait_seconds=1)
        assert report.moved == 1
    else:
        assert renew_backbone_dead_letters(emulator.client("sqs"), dynamodb, backbone, "order")
        _moved_as_a_message_move_task_does(dead_letters, queues["order"])
    _time_to_live_at(
        dynamodb, table, [record_key(order.orderId), result_key(order.orderId, 0)], time.time() + 10 * DAY_SECONDS
    )
    assert invoke(worker, "worker", queues["order"].receive_event(1)) == set()
    # THEN the result it sends is the one stored, byte for byte: the task did not run again
    [sent] = queues["result"].drain()
    assert sent["Body"] == stored
