"""Feedback against the emulator stack, with Telegram and Perplexity stand-ins on 127.0.0.1."""

from __future__ import annotations

import io
import json
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from aws_lambda_powertools.utilities import parameters

from automation_local.aws.emulator import Emulator
from automation_local.cloudformation.stack import DeployedStack
from automation_local.demo.side_effects import archived_results
from automation_local.outside.standins import PerplexityStandIn, TelegramStandIn
from automation_shared import result_payloads
from automation_shared.contracts import OrderMessage, PayloadS3Pointer, ResultMessage
from automation_shared.messages import OutgoingMessage, result_message
from automation_shared.order_records import OrderRecords
from tests.functions.handlers import context_for
from tests.functions.queues import Queue, counted_batches, refused_entries

pytestmark = pytest.mark.slow


@pytest.fixture
def queues(emulator: Emulator, deployed_stack: DeployedStack) -> dict[str, Queue]:
    found = {name: Queue(emulator, deployed_stack.outputs[f"{name.title()}QueueUrl"]) for name in ("order", "result")}
    for queue in found.values():
        queue.drain()
    return found


@pytest.fixture
def alerts(emulator: Emulator, deployed_stack: DeployedStack) -> Iterator[Queue]:
    """A queue subscribed to the alert topic, standing in for an operator's inbox."""
    sqs = emulator.client("sqs")
    url = sqs.create_queue(QueueName=f"alert-inbox-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    queue = Queue(emulator, url)
    sns = emulator.client("sns")
    subscription = sns.subscribe(TopicArn=deployed_stack.outputs["AlertTopicArn"], Protocol="sqs", Endpoint=queue.arn)
    yield queue
    sns.unsubscribe(SubscriptionArn=subscription["SubscriptionArn"])
    sqs.delete_queue(QueueUrl=url)


@pytest.fixture
def records(emulator: Emulator, deployed_stack: DeployedStack) -> OrderRecords:
    return OrderRecords(emulator.client("dynamodb"), deployed_stack.outputs["OrdersTableName"])


def make_result(action: str | None = "archive", status: str = "success", **fields: Any) -> ResultMessage:
    document: dict[str, Any] = {
        "orderId": str(uuid.uuid4()),
        "taskType": "url-monitoring",
        "status": status,
        "result": {"summary": "HTTP 200 in 12 ms", "data": {"statusCode": 200}},
        "processingTime": 12.0,
        "timestamp": datetime(2026, 11, 25, 9, 30, tzinfo=UTC).isoformat(),
        "userId": "user-42",
        **fields,
    }
    if action:
        document["followUpAction"] = action
    return ResultMessage.model_validate(document)


def with_data_in_s3(result: ResultMessage, pointer: PayloadS3Pointer) -> ResultMessage:
    body = result.result.model_copy(update={"data": None, "dataPointer": pointer})
    return ResultMessage.model_validate(
        {**json.loads(result.to_json()), "result": json.loads(body.model_dump_json(exclude_none=True))}
    )


def queued_order(records: OrderRecords, order_id: str, **fields: Any) -> OrderMessage:
    """The order as the webhook recorded it in its status record."""
    order = OrderMessage.model_validate(
        {
            "orderId": order_id,
            "taskType": "url-monitoring",
            "payload": {"url": "http://127.0.0.1:9/"},
            "userId": "user-42",
            "timestamp": datetime.now(UTC).isoformat(),
            **fields,
        }
    )
    records.record_accepted(order)
    return order


def archived_of(emulator: Emulator, deployed_stack: DeployedStack, order_id: str) -> list[dict[str, Any]]:
    return archived_results(emulator.client("s3"), deployed_stack.outputs["ArchiveBucketName"]).get(order_id, [])


def deliver(feedback: Any, queues: dict[str, Queue], results: list[ResultMessage]) -> tuple[dict[str, Any], set[str]]:
    queues["result"].send([result_message(r, message_id=str(i)) for i, r in enumerate(results)])
    event = queues["result"].receive_event(len(results))
    response = feedback.lambda_handler(event, context_for("feedback"))
    return event, {f["itemIdentifier"] for f in response["batchItemFailures"]}


def test_archive_writes_the_result_under_its_hour_partition(
    emulator: Emulator, deployed_stack: DeployedStack, feedback: Any, queues: dict[str, Queue], records: OrderRecords
) -> None:
    # GIVEN a result of 09:30 asking to be archived, for an order the webhook recorded
    result = make_result("archive")
    queued_order(records, result.orderId)
    # WHEN feedback handles it
    assert deliver(feedback, queues, [result])[1] == set()
    # THEN the archive holds it, unchanged, under its hour's partition, and the order is archived
    [archived] = archived_of(emulator, deployed_stack, result.orderId)
    assert archived.pop("archiveKey").startswith("year=2026/month=11/day=25/hour=09/")
    assert ResultMessage.model_validate(archived) == result
    assert (records.get(result.orderId) or {})["status"] == "archived"


def test_the_results_a_batch_archives_share_one_object_per_hour(
    emulator: Emulator, deployed_stack: DeployedStack, feedback: Any, queues: dict[str, Queue]
) -> None:
    # GIVEN five results of one hour and two of the next, in one batch
    results = [make_result("archive") for _ in range(5)]
    later = datetime(2026, 11, 25, 10, 5, tzinfo=UTC).isoformat()
    results += [make_result("archive", timestamp=later) for _ in range(2)]
    # WHEN feedback archives them
    assert deliver(feedback, queues, results)[1] == set()
    # THEN they are in two objects (JSON Lines), one per hour partition: two S3 PUTs, not seven
    keys = {archived_of(emulator, deployed_stack, r.orderId)[0]["archiveKey"] for r in results}
    assert len(keys) == 2
    assert sorted(k.split("/hour=")[1][:2] for k in keys) == ["09", "10"]


def test_archive_of_a_result_whose_data_is_in_s3_stores_the_full_data(
    emulator: Emulator, deployed_stack: DeployedStack, feedback: Any, queues: dict[str, Queue], records: OrderRecords
) -> None:
    # GIVEN a result whose 300 KB of data the worker put in S3, the message pointing to it
    bucket = deployed_stack.outputs["ArchiveBucketName"]
    data = {"headings": ["word " * 3000] * 20, "title": "Large page"}
    order_id = str(uuid.uuid4())
    pointer = result_payloads.store(
        emulator.client("s3"), bucket, result_payloads.payload_key(order_id, 0), result_payloads.data_bytes(data)
    )
    result = with_data_in_s3(make_result("archive", orderId=order_id), pointer)
    queued_order(records, order_id)
    # WHEN feedback archives it
    assert deliver(feedback, queues, [result])[1] == set()
    # THEN the archive holds the result with its whole data in place, and no pointer
    [archived] = archived_of(emulator, deployed_stack, order_id)
    assert archived["result"]["data"] == data
    assert "dataPointer" not in archived["result"]
    assert archived["result"]["summary"] == result.result.summary
    assert (records.get(order_id) or {})["status"] == "archived"


def test_a_result_whose_data_is_gone_from_s3_is_reported_not_archived_empty(
    deployed_stack: DeployedStack, feedback: Any, queues: dict[str, Queue]
) -> None:
    # GIVEN a result pointing to data no longer in S3 (expired by the lifecycle rule)
    order_id = str(uuid.uuid4())
    pointer = PayloadS3Pointer(
        s3BucketName=deployed_stack.outputs["ArchiveBucketName"], s3Key=f"payloads/{order_id}/attempt-0.json", size=10
    )
    result = with_data_in_s3(make_result("archive", orderId=order_id), pointer)
    # WHEN feedback handles it
    event, failed = deliver(feedback, queues, [result])
    # THEN the record is reported (it returns, then reaches the result DLQ), never archived without its data
    assert failed == {event["Records"][0]["messageId"]}


def test_a_result_without_an_action_is_archived(
    emulator: Emulator, deployed_stack: DeployedStack, feedback: Any, queues: dict[str, Queue]
) -> None:
    # GIVEN a result without a follow-up action
    result = make_result(None)
    # WHEN feedback handles it
    assert deliver(feedback, queues, [result])[1] == set()
    # THEN it is archived
    assert len(archived_of(emulator, deployed_stack, result.orderId)) == 1


def test_notify_sends_the_summary_to_the_users_telegram_chat(
    feedback: Any, queues: dict[str, Queue], telegram: TelegramStandIn
) -> None:
    # GIVEN a result asking to notify its user, who has a Telegram chat
    result = make_result("notify")
    before = len(telegram.requests)
    # WHEN feedback handles it
    assert deliver(feedback, queues, [result])[1] == set()
    # THEN one message goes to the user's chat, naming the order and giving the result's summary
    [sent] = telegram.requests[before:]
    message = sent.json()
    assert message["chat_id"] == "1001"
    assert result.orderId in message["text"] and "HTTP 200" in message["text"]


def test_notify_for_a_user_without_a_chat_archives_instead(
    emulator: Emulator,
    deployed_stack: DeployedStack,
    feedback: Any,
    queues: dict[str, Queue],
    telegram: TelegramStandIn,
) -> None:
    # GIVEN a result asking to notify a user who has no Telegram chat
    result = make_result("notify", userId="nobody")
    before = len(telegram.requests)
    # WHEN feedback handles it
    assert deliver(feedback, queues, [result])[1] == set()
    # THEN nothing is sent to Telegram and the result is archived instead
    assert len(telegram.requests) == before
    assert len(archived_of(emulator, deployed_stack, result.orderId)) == 1


def test_notify_before_the_operator_created_the_chat_map_archives_instead(
    emulator: Emulator,
    deployed_stack: DeployedStack,
    feedback: Any,
    queues: dict[str, Queue],
    telegram: TelegramStandIn,
) -> None:
    # GIVEN no Telegram chat map (the operator creates it; the stack does not own it)
    ssm = emulator.client("ssm")
    name = f"{deployed_stack.ssm_prefix}/telegram/chats"
    chats = ssm.get_parameter(Name=name)["Parameter"]["Value"]
    ssm.delete_parameter(Name=name)
    parameters.clear_caches()
    try:
        # WHEN a result asks to notify
        result = make_result("notify")
        before = len(telegram.requests)
        failed = deliver(feedback, queues, [result])[1]
    finally:
        ssm.put_parameter(Name=name, Value=chats, Type="String")
        parameters.clear_caches()
    # THEN nothing is sent and the result is archived, not failed
    assert failed == set()
    assert len(telegram.requests) == before
    assert len(archived_of(emulator, deployed_stack, result.orderId)) == 1


def test_enhance_asks_perplexity_then_notifies_with_its_answer(
    feedback: Any, queues: dict[str, Queue], telegram: TelegramStandIn, perplexity: PerplexityStandIn
) -> None:
    # GIVEN a result asking to be enhanced
    before = len(telegram.requests), len(perplexity.requests)
    # WHEN feedback handles it
    assert deliver(feedback, queues, [make_result("enhance")])[1] == set()
    # THEN Perplexity is asked once, and its answer is sent to the user's Telegram chat
    assert len(perplexity.requests) == before[1] + 1
    [sent] = telegram.requests[before[0] :]
    assert "Answer to:" in sent.json()["text"]


def test_requeue_sends_the_order_again_one_attempt_later(
    feedback: Any, queues: dict[str, Queue], records: OrderRecords
) -> None:
    # GIVEN a failed result asking for a requeue, of an order on its second attempt with a correlation id
    result = make_result("requeue", status="failure")
    original = queued_order(records, result.orderId, retryCount=1, correlationId="trace-1")
    # WHEN feedback handles it
    assert deliver(feedback, queues, [result])[1] == set()
    # THEN the same order is back on the order queue one attempt later, with its correlation id,
    # and its status record says requeued, at that attempt
    [message] = queues["order"].drain()
    requeued = OrderMessage.model_validate_json(message["Body"])
    assert requeued.retryCount == 2
    assert requeued.model_copy(update={"retryCount": 1}) == original
    assert message["MessageAttributes"]["CorrelationId"]["StringValue"] == "trace-1"
    record = records.get(result.orderId) or {}
    assert record["status"] == "requeued" and record["retryCount"] == 2


def test_requeue_with_retries_spent_escalates_to_the_alert_topic(
    feedback: Any, queues: dict[str, Queue], records: OrderRecords, alerts: Queue
) -> None:
    # GIVEN a timed-out result asking for a requeue, of an order whose retries are spent
    result = make_result("requeue", status="timeout")
    queued_order(records, result.orderId, retryCount=3)
    # WHEN feedback handles it
    assert deliver(feedback, queues, [result])[1] == set()
    # THEN the order is not requeued: an alert naming it goes to the alert topic, and it is escalated
    assert queues["order"].drain() == []
    [alert] = alerts.receive(1)
    assert result.orderId in json.loads(alert["Body"])["Message"]
    assert (records.get(result.orderId) or {})["status"] == "escalated"


def test_escalate_publishes_the_result_to_the_alert_topic(
    feedback: Any, queues: dict[str, Queue], alerts: Queue
) -> None:
    # GIVEN a failed result asking to be escalated
    result = make_result("escalate", status="failure")
    # WHEN feedback handles it
    assert deliver(feedback, queues, [result])[1] == set()
    # THEN the alert topic publishes the result
    [alert] = alerts.receive(1)
    published = json.loads(json.loads(alert["Body"])["Message"])
    assert published["result"]["orderId"] == result.orderId


def test_an_escalation_too_large_for_sns_is_published_without_its_data(
    feedback: Any, queues: dict[str, Queue], alerts: Queue
) -> None:
    # GIVEN a failed result carrying data near the contract's 256,000 bytes (indented, over SNS's 256 KiB)
    data = {f"field{i}": "x" * 90 for i in range(2400)}
    result = make_result("escalate", status="failure")
    result = result.model_copy(update={"result": result.result.model_copy(update={"data": data})})
    # WHEN feedback escalates it
    assert deliver(feedback, queues, [result])[1] == set()
    # THEN the alert goes out, naming the order, with the data left out and said so
    [alert] = alerts.receive(1)
    published = json.loads(json.loads(alert["Body"])["Message"])
    assert published["result"]["orderId"] == result.orderId
    assert "data" not in published["result"]["result"]
    assert "left out" in published["result"]["result"]["dataOmitted"]


def test_a_batch_that_requeues_and_archives_finishes(
    feedback: Any, queues: dict[str, Queue], records: OrderRecords
) -> None:
    # GIVEN a batch with results to archive and results to requeue (each kind waits for the
    # whole batch: one archive object, one SendMessageBatch)
    archives = [make_result("archive") for _ in range(3)]
    requeues = [make_result("requeue", status="failure") for _ in range(3)]
    for result in requeues:
        queued_order(records, result.orderId)
    # WHEN feedback handles it (in a thread, so a batch waiting on itself fails the test)
    outcome: list[set[str]] = []
    handling = threading.Thread(
        target=lambda: outcome.append(deliver(feedback, queues, archives + requeues)[1]), daemon=True
    )
    handling.start()
    handling.join(timeout=30)
    # THEN it finished, with every record done
    assert outcome == [set()], "the batch did not finish: its archive and its requeues waited for each other"
    assert len(queues["order"].drain()) == 3


def test_requeues_of_a_batch_leave_in_one_send_message_batch(
    feedback: Any, queues: dict[str, Queue], records: OrderRecords
) -> None:
    # GIVEN a batch of five failed results asking for a requeue
    results = [make_result("requeue", status="failure") for _ in range(5)]
    for result in results:
        queued_order(records, result.orderId)
    # WHEN feedback handles it
    with counted_batches(feedback.sqs) as calls:
        assert deliver(feedback, queues, results)[1] == set()
    # THEN the five orders are requeued in a single SendMessageBatch call
    assert calls == [5]
    assert len(queues["order"].drain()) == 5


def test_each_records_log_lines_carry_its_own_order_id(
    emulator: Emulator, deployed_stack: DeployedStack, feedback: Any, queues: dict[str, Queue]
) -> None:
    # GIVEN a batch of archive results handled concurrently, feedback's log read as CloudWatch would
    results = [make_result("archive") for _ in range(5)]
    log = io.StringIO()
    handler = feedback.logger.registered_handler
    previous = handler.setStream(log)
    try:
        # WHEN feedback archives them
        assert deliver(feedback, queues, results)[1] == set()
    finally:
        handler.setStream(previous)
    # THEN every "result archived" line names an order whose result it archived, each once
    lines = [json.loads(line) for line in log.getvalue().splitlines()]
    archived = [line for line in lines if line.get("message") == "result archived"]
    assert sorted(line["order_id"] for line in archived) == sorted(r.orderId for r in results)
    for line in archived:
        assert archived_of(emulator, deployed_stack, line["order_id"])[0]["archiveKey"] == line["key"]


def test_a_result_arriving_twice_is_acted_on_once(
    feedback: Any, queues: dict[str, Queue], telegram: TelegramStandIn
) -> None:
    # GIVEN a result asking to notify, which feedback has handled
    before = len(telegram.requests)
    event, failed = deliver(feedback, queues, [make_result("notify")])
    assert failed == set()
    # WHEN the same record is delivered again
    again = feedback.lambda_handler(event, context_for("feedback"))
    # THEN it is done without a failure, and the user was notified only once
    assert again["batchItemFailures"] == []
    assert len(telegram.requests) == before + 1


def test_a_result_for_an_order_that_has_ended_is_not_acted_on(
    feedback: Any, queues: dict[str, Queue], telegram: TelegramStandIn, records: OrderRecords
) -> None:
    # GIVEN an order notified by its result
    result = make_result("notify")
    queued_order(records, result.orderId)
    assert deliver(feedback, queues, [result])[1] == set()
    before = len(telegram.requests)
    # WHEN another result of it arrives (a cancelled attempt's, asking for a requeue)
    late = make_result("requeue", status="cancelled", orderId=result.orderId)
    assert deliver(feedback, queues, [late])[1] == set()
    # THEN nothing is requeued or sent, and the order stays notified
    assert queues["order"].drain() == []
    assert len(telegram.requests) == before
    assert (records.get(result.orderId) or {})["status"] == "notified"


def test_a_refused_requeue_is_reported_and_done_on_redelivery(
    feedback: Any, queues: dict[str, Queue], records: OrderRecords
) -> None:
    # GIVEN a failed result asking for a requeue
    result = make_result("requeue", status="failure")
    queued_order(records, result.orderId)
    # WHEN feedback handles it while SQS refuses the requeue
    with refused_entries(feedback.sqs, lambda _, __: True):
        event, failed = deliver(feedback, queues, [result])
    # THEN its record is reported as failed and nothing is requeued
    assert failed == {event["Records"][0]["messageId"]}
    assert queues["order"].drain() == []
    # WHEN the record is delivered again, SQS accepting this time
    # THEN it is done, and the order is requeued once
    assert feedback.lambda_handler(event, context_for("feedback"))["batchItemFailures"] == []
    assert len(queues["order"].drain()) == 1


BAD_RECORDS = {
    "malformed JSON": "{",
    "contract violation": json.dumps({"orderId": str(uuid.uuid4()), "status": "success"}),
    "unknown follow-up action": json.dumps({**json.loads(make_result().to_json()), "followUpAction": "delete"}),
}


@pytest.mark.parametrize("body", BAD_RECORDS.values(), ids=BAD_RECORDS.keys())
def test_a_bad_record_is_reported_alone(feedback: Any, queues: dict[str, Queue], body: str) -> None:
    # GIVEN a batch of a good result and a bad record (malformed, off the contract or of an unknown action)
    good = make_result("archive")
    queues["result"].send([result_message(good, message_id="good"), OutgoingMessage(id="bad", body=body)])
    event = queues["result"].receive_event(2)
    bad_id = next(r["messageId"] for r in event["Records"] if r["body"] == body)
    # WHEN feedback handles the batch
    response = feedback.lambda_handler(event, context_for("feedback"))
    # THEN only the bad record is reported as failed
    assert {f["itemIdentifier"] for f in response["batchItemFailures"]} == {bad_id}
