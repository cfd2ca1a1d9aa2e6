"""The worker and feedback on FIFO queues (QueueType=fifo): a failed order stays at the head
of its user's group through its retries, a body the contract refuses is returned at once,
feedback stops a user's results at the first that fails while other users' go on, and a
user's results held behind one that fails are each tried their receives.

Both handlers run against a FIFO stack of their own in the session's emulator; messages go
through its real FIFO queues (whose groups the emulator holds while a message is in flight).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from automation_local.aws.emulator import Emulator
from automation_local.cloudformation.stack import DeployedStack, deploy
from automation_local.lambda_.esm.poller import stack_mappings
from automation_local.outside.standins import STAND_IN_NETWORKS, RecordedRequest, Reply, TargetSite, TelegramStandIn
from automation_shared.contracts import OrderMessage, ResultMessage
from automation_shared.messages import RETRY_COUNT_ATTRIBUTE, fifo_id, order_message, result_message
from automation_shared.order_records import OrderRecords, OrderState
from tests.functions.handlers import context_for, loaded_handler, seed_integrations
from tests.functions.queues import Queue, emptied

pytestmark = pytest.mark.slow

BACKOFF_SECONDS = 2  # RequeueBaseDelaySeconds: the first retry's backoff (multiplier 2 after it)


@pytest.fixture(scope="module")
def fifo_stack(emulator: Emulator) -> DeployedStack:
    stack = deploy(
        emulator,
        stack_name="fifo-functions-dev",
        parameters={
            "ProjectName": "fifo-functions",
            "QueueType": "fifo",
            "OrderQueueMaxReceiveCount": "8",
            "RequeueBaseDelaySeconds": str(BACKOFF_SECONDS),
            "OutboundAllowedNetworks": STAND_IN_NETWORKS,
        },
    )
    seed_integrations(emulator, stack)
    return stack


@pytest.fixture(scope="module")
def fifo_worker(emulator: Emulator, fifo_stack: DeployedStack, integration_urls: dict[str, str]) -> Iterator[Any]:
    with loaded_handler(emulator, fifo_stack, "worker", **integration_urls) as module:
        yield module


@pytest.fixture(scope="module")
def fifo_feedback(emulator: Emulator, fifo_stack: DeployedStack, integration_urls: dict[str, str]) -> Iterator[Any]:
    with loaded_handler(emulator, fifo_stack, "feedback", **integration_urls) as module:
        yield module


@pytest.fixture(scope="module")
def site() -> Iterator[TargetSite]:
    with TargetSite({"/down": Reply(503, b"maintenance", "text/plain")}) as up:
        yield up  # type: ignore[misc]


@pytest.fixture
def records(emulator: Emulator, fifo_stack: DeployedStack) -> OrderRecords:
    return OrderRecords(emulator.client("dynamodb"), fifo_stack.outputs["OrdersTableName"])


@pytest.fixture
def order_queue(emulator: Emulator, fifo_stack: DeployedStack) -> Queue:
    return emptied(emulator, fifo_stack.outputs["OrderQueueUrl"])


@pytest.fixture
def result_queue(emulator: Emulator, fifo_stack: DeployedStack) -> Queue:
    return emptied(emulator, fifo_stack.outputs["ResultQueueUrl"])


def an_order(user: str, **payload: Any) -> OrderMessage:
    return OrderMessage.model_validate(
        {
            "orderId": str(uuid.uuid4()),
            "taskType": "url-monitoring" if "url" in payload else "text-processing",
            "payload": payload or {"parameters": {"text": "Queues carry orders."}},
            "userId": user,
            "timestamp": datetime.now(UTC).isoformat(),
        }
    )


def failed_ids(handler: Any, function: str, event: dict[str, Any]) -> set[str]:
    response = handler.lambda_handler(event, context_for(function))
    return {failure["itemIdentifier"] for failure in response["batchItemFailures"]}


def test_a_failed_order_holds_its_users_next_order_back_through_its_retries(
    fifo_worker: Any,
    order_queue: Queue,
    result_queue: Queue,
    records: OrderRecords,
    site: TargetSite,
) -> None:
    # GIVEN a user's order whose page is down (one retry allowed), and the same user's next order
    failing = an_order("user-7", url=f"{site.base_url}/down/{uuid.uuid4()}", retryPolicy={"maxRetries": 1})
    following = an_order("user-7")
    for order in (failing, following):
        records.record_accepted(order)
    messages = [order_message(order, fifo=True) for order in (failing, following)]
    order_queue.send(messages)
    # WHEN the worker runs the first order (a FIFO mapping's batch of one) and it fails
    [first] = order_queue.receive_now(most=1)
    assert failed_ids(fifo_worker, "worker", order_queue.event([first])) == {first["MessageId"]}
    # THEN no result goes to feedback, and the order's record holds its retry
    assert result_queue.receive_now() == []
    record = records.get(failing.orderId)
    assert record is not None and record["status"] == OrderState.REQUEUED.value and record["retryCount"] == 1
    # AND while its backoff runs, neither it nor the user's next order can be received
    assert order_queue.receive_now() == []
    # WHEN the backoff has passed
    time.sleep(BACKOFF_SECONDS + 0.5)
    [again] = order_queue.receive_now(most=1)
    # THEN the same message comes back first, and its receive runs the retry (attempt 1),
    # which fails too: the retries are spent, the result asks for escalation and the
    # message is done with
    assert again["MessageId"] == first["MessageId"] and again["Attributes"]["ApproximateReceiveCount"] == "2"
    assert failed_ids(fifo_worker, "worker", order_queue.event([again])) == set()
    order_queue.delete([again])  # what the mapping does with a record the response does not name
    [result] = result_queue.receive_now()
    assert json.loads(result["Body"])["orderId"] == failing.orderId
    assert json.loads(result["Body"])["followUpAction"] == "escalate"
    assert result["MessageAttributes"][RETRY_COUNT_ATTRIBUTE]["StringValue"] == "1"
    assert result["Attributes"]["MessageGroupId"] == fifo_id("user-7")
    # AND only now is the user's next order received
    [next_message] = order_queue.receive_now()
    assert json.loads(next_message["Body"])["orderId"] == following.orderId
    order_queue.delete([next_message])


def test_a_body_the_contract_refuses_is_returned_to_its_group_at_once(fifo_worker: Any, order_queue: Queue) -> None:
    # GIVEN a body another producer sent to the FIFO order queue that the contract refuses
    body = json.dumps({"orderId": str(uuid.uuid4()), "userId": "user-8", "payload": 1})
    order_queue.send_raw(body, MessageGroupId="user-8", MessageDeduplicationId=uuid.uuid4().hex)
    [message] = order_queue.receive_now(most=1)
    # WHEN the worker gets it
    assert failed_ids(fifo_worker, "worker", order_queue.event([message])) == {message["MessageId"]}
    # THEN it is visible again at once (its receives run out, and it reaches the DLQ, in
    # moments rather than one visibility timeout each, while its group waits behind it)
    [again] = order_queue.receive_now(most=1)
    assert again["MessageId"] == message["MessageId"] and again["Attributes"]["ApproximateReceiveCount"] == "2"
    order_queue.delete([again])


def a_result(user: str, **fields: Any) -> ResultMessage:
    return ResultMessage.model_validate(
        {
            "orderId": str(uuid.uuid4()),
            "taskType": "text-processing",
            "status": "success",
            "result": {"summary": "done"},
            "processingTime": 5.0,
            "timestamp": datetime(2026, 11, 25, 9, 30, tzinfo=UTC).isoformat(),
            "userId": user,
            "followUpAction": "archive",
            **fields,
        }
    )


def test_feedback_stops_a_users_results_at_the_first_that_fails_and_acts_on_other_users(
    fifo_feedback: Any, result_queue: Queue, records: OrderRecords
) -> None:
    # GIVEN a batch holding two results of one user, the first of which the contract refuses,
    # and a result of another user
    refused = json.dumps({"orderId": str(uuid.uuid4()), "userId": "user-1", "status": "not a status"})
    result_queue.send_raw(refused, MessageGroupId=fifo_id("user-1"), MessageDeduplicationId=uuid.uuid4().hex)
    held_back, other_user = a_result("user-1"), a_result("user-2")
    result_queue.send(
        [result_message(r, message_id=r.orderId, retry_count=0, fifo=True) for r in (held_back, other_user)]
    )
    messages = result_queue.receive_now()
    assert len(messages) == 3
    by_order = {json.loads(m["Body"])["orderId"]: m["MessageId"] for m in messages}
    # WHEN feedback gets the batch
    failed = failed_ids(fifo_feedback, "feedback", result_queue.event(messages))
    # THEN the refused result and the one behind it in its group are reported failed, the
    # second unprocessed (its order untouched), and the other user's result is archived
    assert failed == {by_order[json.loads(refused)["orderId"]], by_order[held_back.orderId]}
    assert records.get(held_back.orderId) is None
    done = records.get(other_user.orderId)
    assert done is not None and done["status"] == OrderState.ARCHIVED.value


def test_a_users_results_held_behind_one_that_fails_are_each_tried_and_none_is_dead_lettered(
    emulator: Emulator,
    fifo_stack: DeployedStack,
    fifo_feedback: Any,
    result_queue: Queue,
    records: OrderRecords,
    telegram: TelegramStandIn,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN four results of one user asking to notify them, their orders processing, and a
    # Telegram that is flaky for a while: it answers 502 to the first send of each message
    orders = [an_order("user-42") for _ in range(4)]
    results = [a_result("user-42", orderId=order.orderId, followUpAction="notify") for order in orders]
    for order in orders:
        records.record_accepted(order)
        records.claim_attempt(order, "its-message", 60_000)
    result_queue.send([result_message(r, message_id=r.orderId, retry_count=0, fifo=True) for r in results])
    dead_letters = emptied(emulator, fifo_stack.outputs["ResultDeadLetterQueueUrl"])
    answered = telegram.answer_request
    texts_sent_once: set[str] = set()
    delivered: list[str] = []

    def flaky(request: RecordedRequest) -> Reply:
        text = request.json().get("text", "")
        if text not in texts_sent_once:
            texts_sent_once.add(text)
            return Reply(502, b'{"ok": false, "description": "Bad Gateway"}')
        delivered.append(text)
        return answered(request)

    monkeypatch.setattr(telegram, "answer_request", flaky)
    # WHEN the feedback mapping delivers them as Lambda does: batches of its BatchSize, the
    # records the response names failed returned after the visibility timeout (at once here),
    # the others deleted, the queue moving a record received more than its maxReceiveCount
    # times to its DLQ
    batch_size = stack_mappings(emulator, fifo_stack)["FeedbackResultQueueMapping"].batch_size
    for _ in range(20):
        batch = result_queue.receive_now(most=batch_size)
        if not batch:
            break
        failed = failed_ids(fifo_feedback, "feedback", result_queue.event(batch))
        result_queue.delete([m for m in batch if m["MessageId"] not in failed])
        for message in batch:
            if message["MessageId"] in failed:
                emulator.client("sqs").change_message_visibility(
                    QueueUrl=result_queue.url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                )
    # THEN every result was acted on, in the order they were sent, none reached the DLQ, and
    # no order is left processing
    assert dead_letters.drain() == []
    assert [(records.get(order.orderId) or {}).get("status") for order in orders] == [OrderState.NOTIFIED.value] * 4
    assert [next(r.orderId for r in results if r.orderId in text) for text in delivered] == [r.orderId for r in results]
