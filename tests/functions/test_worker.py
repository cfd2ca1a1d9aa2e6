"""Worker against the emulator stack and real HTTP stand-ins on 127.0.0.1.

Orders go into the real order queue, come back through ReceiveMessage as a Lambda SQS
event, and the results are read from the real result queue.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from automation_local.aws.emulator import Emulator
from automation_local.cloudformation.stack import DeployedStack
from automation_local.outside.standins import LinkedInStandIn, PerplexityStandIn, Reply, ScriptedSite, TargetSite
from automation_shared.contracts import OrderMessage, PayloadS3Pointer, ResultMessage, TaskType
from automation_shared.messages import OutgoingMessage, order_message, result_message
from automation_shared.sqs_batches import MAX_MESSAGE_BYTES
from tests.functions.handlers import context_for
from tests.functions.queues import Queue, counted_batches, refused_entries

pytestmark = pytest.mark.slow

PAGE = b"""<html><head><title>Status page</title><meta name="description" content="All systems">
</head><body><h1>All good</h1><p>Everything is running as it should, with plenty of text to read here.
Services answer quickly and nothing is degraded today, so there is enough prose for a plain parser.</p>
<a href="/docs">Docs</a><form action="/login" method="post"><input name="user"><input name="password"
type="password"></form></body></html>"""
SCRIPTED = (
    b"<html><head><title>App</title><script src='/app.js'></script></head><body><div id=root></div></body></html>"
)


@pytest.fixture(scope="module")
def site() -> Iterator[TargetSite]:
    pages = {
        "/health": Reply(200, b"ok", "text/plain"),
        "/page": Reply(200, PAGE, "text/html"),
        "/scripted": Reply(200, SCRIPTED, "text/html"),
        "/down": Reply(503, b"maintenance", "text/plain"),
        "/slow": Reply(200, b"late", "text/plain", delay_seconds=8),
        "/large": Reply(200, ScriptedSite.LARGE_PAGE, "text/html"),
    }
    with TargetSite(pages) as running:
        yield running  # type: ignore[misc]


def make_order(task_type: str = "url-monitoring", **fields: Any) -> OrderMessage:
    document = {
        "orderId": str(uuid.uuid4()),
        "taskType": task_type,
        "payload": {"timeout": 30},
        "userId": "user-42",
        "timestamp": datetime.now(UTC).isoformat(),
        **fields,
    }
    return OrderMessage.model_validate(document)


def run_worker(worker: Any, event: dict[str, Any], timeout_seconds: float = 50.0) -> set[str]:
    response = worker.lambda_handler(event, context_for("worker", timeout_seconds))
    return {failure["itemIdentifier"] for failure in response["batchItemFailures"]}


def results_by_order(result_queue: Queue) -> dict[str, ResultMessage]:
    results = [ResultMessage.model_validate_json(m["Body"]) for m in result_queue.drain()]
    return {r.orderId: r for r in results}


# ------------------------------------------------------------------ every task type
def task_orders(site: TargetSite) -> dict[TaskType, OrderMessage]:
    text = {"parameters": {"text": "Great results today. The service is fast and clear. We love it."}, "timeout": 30}
    return {
        TaskType.URL_MONITORING: make_order(payload={"url": f"{site.base_url}/health", "timeout": 30}),
        TaskType.PLAYWRIGHT_SCRAPING: make_order("playwright-scraping", payload={"url": f"{site.base_url}/page"}),
        TaskType.WEB_AUTOMATION: make_order("web-automation", payload={"url": f"{site.base_url}/page"}),
        TaskType.TEXT_PROCESSING: make_order("text-processing", payload=text),
        TaskType.CONTENT_ANALYSIS: make_order("content-analysis", payload=text),
        TaskType.SYSTEM_HEALTH: make_order("system-health"),
        TaskType.PERPLEXITY_SUMMARY: make_order("perplexity-summary", payload={"url": f"{site.base_url}/page"}),
        TaskType.SCHEDULED_LINKEDIN: make_order(
            "scheduled-linkedin",
            payload={"parameters": {"topic": "queues", "publish": True, "author": "urn:li:person:1"}},
        ),
        TaskType.SCHEDULED_GERMAN: make_order("scheduled-german", payload={"parameters": {"topic": "Wetter"}}),
    }


def test_every_task_type_reaches_its_processor(
    worker: Any,
    site: TargetSite,
    perplexity: PerplexityStandIn,
    linkedin: LinkedInStandIn,
    order_queue: Queue,
    result_queue: Queue,
) -> None:
    # GIVEN one order of each of the nine task types in the order queue
    orders = task_orders(site)
    assert set(orders) == set(TaskType)
    order_queue.send([order_message(o) for o in orders.values()])
    # WHEN the worker processes them as one batch
    failed = run_worker(worker, order_queue.receive_event(len(orders)))
    # THEN every order has a successful result with its processor's data
    assert failed == set()
    results = results_by_order(result_queue)
    assert {results[o.orderId].status.value for o in orders.values()} == {"success"}, {
        t: results[o.orderId].result.summary for t, o in orders.items()
    }
    data = {task: results[order.orderId].result.data or {} for task, order in orders.items()}
    assert data[TaskType.URL_MONITORING]["statusCode"] == 200
    assert len(data[TaskType.URL_MONITORING]["contentSha256"]) == 64
    assert data[TaskType.PLAYWRIGHT_SCRAPING]["title"] == "Status page"
    assert data[TaskType.WEB_AUTOMATION]["forms"][0]["method"] == "POST"
    assert data[TaskType.TEXT_PROCESSING]["sentences"] == 3
    assert data[TaskType.CONTENT_ANALYSIS]["tone"] == "positive"
    assert set(data[TaskType.SYSTEM_HEALTH]["queues"]) == {"order", "result", "orderDeadLetter", "resultDeadLetter"}
    assert data[TaskType.PERPLEXITY_SUMMARY]["answer"].startswith("Answer to:")
    assert data[TaskType.SCHEDULED_LINKEDIN]["published"] is True
    assert len(linkedin.requests_to("/rest/posts")) == 1
    assert "Wetter" in data[TaskType.SCHEDULED_GERMAN]["text"]


def test_results_carry_the_contract_fields_and_attributes(
    worker: Any, site: TargetSite, order_queue: Queue, result_queue: Queue
) -> None:
    # GIVEN a high-priority monitoring order with a correlation id, in the order queue
    order = make_order(payload={"url": f"{site.base_url}/health"}, priority="high", correlationId="batch-9")
    order_queue.send([order_message(order)])
    # WHEN the worker runs it
    assert run_worker(worker, order_queue.receive_event(1)) == set()
    # THEN its result carries the order's correlation id and priority, its processing time,
    # cost, queue time and follow-up action, and the message attributes consumers filter on
    [message] = result_queue.drain()
    result = ResultMessage.model_validate_json(message["Body"])
    assert result.correlationId == "batch-9" and result.priority is not None and result.priority.value == "high"
    assert result.processingTime >= 0 and result.cost is not None and result.cost > 0
    assert result.queueMetrics is not None and result.queueMetrics.queueTime is not None
    assert result.followUpAction is not None and result.followUpAction.value == "archive"
    attributes = {k: v["StringValue"] for k, v in message["MessageAttributes"].items()}
    assert attributes == {
        "Status": "success",
        "Priority": "high",
        "FollowUpAction": "archive",
        "TaskType": "url-monitoring",
        "RetryCount": "0",  # the attempt the result is of: feedback requeues from the latest only
    }


def test_a_page_built_by_scripts_is_partial_and_says_it_needs_a_browser(
    worker: Any, site: TargetSite, order_queue: Queue, result_queue: Queue
) -> None:
    # GIVEN a scraping order for a page whose content its scripts build
    order = make_order("playwright-scraping", payload={"url": f"{site.base_url}/scripted"})
    order_queue.send([order_message(order)])
    # WHEN the worker runs it
    assert run_worker(worker, order_queue.receive_event(1)) == set()
    # THEN the result is partial and says the page needs a browser
    result = results_by_order(result_queue)[order.orderId]
    assert result.status.value == "partial" and (result.result.data or {})["needsBrowser"] is True


# ------------------------------------------------------------------ results too large for a message
def as_sent(message: dict[str, Any]) -> OutgoingMessage:
    """A received message as SQS measured it when it was sent (body and attributes)."""
    attributes = {name: value["StringValue"] for name, value in message["MessageAttributes"].items()}
    return OutgoingMessage(id=message["MessageId"], body=message["Body"], attributes=attributes)


def test_result_data_too_large_for_a_message_goes_to_s3_and_the_message_points_to_it(
    worker: Any,
    emulator: Emulator,
    deployed_stack: DeployedStack,
    site: TargetSite,
    order_queue: Queue,
    result_queue: Queue,
) -> None:
    # GIVEN a scraping order for a page whose headings alone are about 320 KB, and a small one
    large = make_order("playwright-scraping", payload={"url": f"{site.base_url}/large"}, retryCount=1)
    small = make_order(payload={"url": f"{site.base_url}/health"})
    order_queue.send([order_message(large), order_message(small)])
    # WHEN the worker runs them in one batch
    assert run_worker(worker, order_queue.receive_event(2)) == set()
    messages = {json.loads(m["Body"])["orderId"]: m for m in result_queue.drain()}
    # THEN the large result's message is a valid result that names where its data is, within the limit
    message = messages[large.orderId]
    result = ResultMessage.model_validate_json(message["Body"])
    assert result.status.value == "success" and result.followUpAction is not None
    assert result.result.data is None and result.result.size is None
    pointer = result.result.dataPointer
    assert pointer is not None
    assert pointer.s3BucketName == deployed_stack.outputs["ArchiveBucketName"]
    assert pointer.s3Key == f"payloads/{large.orderId}/attempt-1.json"
    assert pointer.size > MAX_MESSAGE_BYTES
    assert as_sent(message).size < 4096
    # AND S3 holds the whole data: every heading in full, nothing cut
    stored = emulator.client("s3").get_object(Bucket=pointer.s3BucketName, Key=pointer.s3Key)
    body = stored["Body"].read()
    assert len(body) == pointer.size and stored["ServerSideEncryption"] == "aws:kms"
    data = json.loads(body)
    assert data["title"] == "Large page" and len(data["headings"]) == 20
    assert all(len(heading) > 16_000 for heading in data["headings"])
    # AND the small result keeps its data in the message as before
    small_result = ResultMessage.model_validate_json(messages[small.orderId]["Body"])
    assert small_result.result.dataPointer is None and (small_result.result.data or {})["statusCode"] == 200


DATA_BOUND = 256_000  # the contract's maximum of result.size


@pytest.mark.parametrize(
    ("data_bytes", "error_bytes", "in_s3"),
    [
        (DATA_BOUND, 0, False),  # the most the contract lets a message carry
        (DATA_BOUND + 1, 0, True),
        (DATA_BOUND - 10_000, 20_000, True),  # data within bounds, but the message would pass 256 KiB
    ],
    ids=["data at the bound", "data one byte over", "message over 256 KiB"],
)
def test_a_result_keeps_its_data_only_while_data_and_message_are_within_their_limits(
    worker: Any, data_bytes: int, error_bytes: int, in_s3: bool
) -> None:
    # GIVEN an outcome with data of an exact size (`{"t":"..."}` is 8 bytes around the text)
    data = {"t": "x" * (data_bytes - 8)}
    error = {"trace": "e" * error_bytes} if error_bytes else None
    outcome = worker.TaskOutcome(worker.ResultStatus.SUCCESS, "done", data, error)
    stored: list[bytes] = []

    def store(body: bytes) -> Any:
        stored.append(body)
        return PayloadS3Pointer(s3BucketName="bucket", s3Key=f"payloads/{uuid.uuid4()}/attempt-0.json", size=len(body))

    # WHEN the worker builds its result
    result = worker.build_result(
        make_order(),
        outcome,
        started_ms=0.0,
        finished_ms=1.0,
        sent_ms=0.0,
        first_received_ms=0.0,
        memory_mb=512,
        node="worker",
        store_data=store,
    )
    # THEN the data is in the message or in S3, whole either way, and the message is within 256 KiB
    assert result_message(result, message_id="1").size <= MAX_MESSAGE_BYTES
    if in_s3:
        assert [json.loads(body) for body in stored] == [data] and len(stored[0]) == data_bytes
        assert result.result.data is None and result.result.dataPointer is not None
    else:
        assert stored == [] and result.result.data == data and result.result.size == data_bytes


# ------------------------------------------------------------------ batching and failures
def test_a_batch_of_ten_sends_its_results_in_one_call(
    worker: Any, site: TargetSite, order_queue: Queue, result_queue: Queue
) -> None:
    # GIVEN ten monitoring orders in the order queue
    orders = [make_order(payload={"url": f"{site.base_url}/health"}) for _ in range(10)]
    order_queue.send([order_message(o) for o in orders])
    # WHEN the worker runs them as one batch
    with counted_batches(worker.sqs) as calls:
        assert run_worker(worker, order_queue.receive_event(10)) == set()
    # THEN their ten results go out in a single SendMessageBatch call, one per order
    assert calls == [10]
    assert set(results_by_order(result_queue)) == {o.orderId for o in orders}


BAD_RECORDS = {
    "malformed JSON": '{"orderId": ',
    "contract violation": json.dumps({"orderId": str(uuid.uuid4()), "taskType": "url-monitoring"}),
    "unknown task type": json.dumps({**json.loads(make_order().to_json()), "taskType": "crypto-mining"}),
    # int("many") raises inside the processor: a defect, reported so the record reaches the DLQ.
    "processor raising": make_order(
        "text-processing", payload={"parameters": {"text": "a b.", "summarySentences": "many"}}
    ).to_json(),
}


@pytest.mark.parametrize("body", BAD_RECORDS.values(), ids=BAD_RECORDS.keys())
def test_a_bad_record_is_reported_alone_and_the_rest_of_the_batch_succeeds(
    worker: Any, site: TargetSite, order_queue: Queue, result_queue: Queue, body: str
) -> None:
    # GIVEN a batch of a good order and a bad record (malformed, off the contract, of an unknown task
    # type, or making its processor raise)
    good = make_order(payload={"url": f"{site.base_url}/health"})
    order_queue.send([order_message(good)])
    order_queue.send_raw(body)
    event = order_queue.receive_event(2)
    bad_id = next(r["messageId"] for r in event["Records"] if r["body"] == body)
    # WHEN the worker handles the batch
    # THEN only the bad record is reported as failed, and the good order has its result
    assert run_worker(worker, event) == {bad_id}
    assert set(results_by_order(result_queue)) == {good.orderId}


def test_a_result_sqs_refuses_reports_exactly_that_record(
    worker: Any, site: TargetSite, order_queue: Queue, result_queue: Queue
) -> None:
    # GIVEN a batch of three orders, SQS set to refuse the result of the second
    orders = [make_order(payload={"url": f"{site.base_url}/health"}) for _ in range(3)]
    order_queue.send([order_message(o) for o in orders])
    event = order_queue.receive_event(3)
    refused_record = event["Records"][1]["messageId"]
    refused_order = json.loads(event["Records"][1]["body"])["orderId"]

    # WHEN the worker runs the batch
    with refused_entries(worker.sqs, lambda _, entry: refused_order in entry["MessageBody"]):
        failed = run_worker(worker, event)
    # THEN only the record of that order is reported as failed, and the other two have their results
    assert failed == {refused_record}
    assert set(results_by_order(result_queue)) == {o.orderId for o in orders} - {refused_order}


def test_a_record_arriving_twice_runs_once_and_sends_the_same_result(
    worker: Any, site: TargetSite, order_queue: Queue, result_queue: Queue
) -> None:
    # GIVEN an order's record, delivered twice (SQS delivers at least once)
    order = make_order(payload={"url": f"{site.base_url}/health?dup={uuid.uuid4()}"})
    order_queue.send([order_message(order)])
    event = order_queue.receive_event(1)
    before = len(site.requests_to("/health"))
    # WHEN the worker handles both deliveries
    assert run_worker(worker, event) == set()
    assert run_worker(worker, event) == set()
    # THEN the task ran once, and the second delivery sent the stored result again, byte for
    # byte (no "sent" mark is kept: it would cost a write per order; feedback acts on the
    # same result once)
    assert len(site.requests_to("/health")) == before + 1
    bodies = [m["Body"] for m in result_queue.drain()]
    assert len(bodies) == 2 and bodies[0] == bodies[1]


def test_a_result_not_sent_is_sent_on_redelivery_without_running_the_task_again(
    worker: Any, site: TargetSite, order_queue: Queue, result_queue: Queue
) -> None:
    # GIVEN an order's record
    order = make_order(payload={"url": f"{site.base_url}/health"})
    order_queue.send([order_message(order)])
    event = order_queue.receive_event(1)

    before = len(site.requests_to("/health"))
    # WHEN the worker runs it while SQS refuses its result
    # THEN the record is reported as failed
    with refused_entries(worker.sqs, lambda _, __: True):
        assert run_worker(worker, event) == {event["Records"][0]["messageId"]}
    # WHEN the record is delivered again
    # THEN it is done: its result is sent, and the task ran only once
    assert run_worker(worker, event) == set()
    assert len(site.requests_to("/health")) == before + 1
    assert set(results_by_order(result_queue)) == {order.orderId}


# ------------------------------------------------------------------ time bounds and follow-up
def test_a_task_that_outlives_the_invocation_reports_timeout_instead_of_being_killed(
    worker: Any, site: TargetSite, order_queue: Queue, result_queue: Queue
) -> None:
    # GIVEN an order whose site answers after 8 s, in an invocation with 6 s left
    order = make_order(payload={"url": f"{site.base_url}/slow", "timeout": 30})
    order_queue.send([order_message(order)])
    # WHEN the worker runs it
    assert run_worker(worker, order_queue.receive_event(1), timeout_seconds=6) == set()
    # THEN the result says timeout (bounded by the time left minus the margin) and asks for a requeue
    result = results_by_order(result_queue)[order.orderId]
    assert result.status.value == "timeout"
    assert result.followUpAction is not None and result.followUpAction.value == "requeue"
    assert result.processingTime < 6000


@pytest.mark.parametrize(
    "retry_count, max_retries, action",
    [(0, None, "requeue"), (2, None, "requeue"), (3, None, "escalate"), (1, 1, "escalate"), (0, 0, "escalate")],
)
def test_a_failed_task_is_requeued_until_its_retries_are_spent(
    worker: Any,
    site: TargetSite,
    order_queue: Queue,
    result_queue: Queue,
    retry_count: int,
    max_retries: int | None,
    action: str,
) -> None:
    # GIVEN a failing order at some attempt, with or without its own maximum of retries
    payload: dict[str, Any] = {"url": f"{site.base_url}/down"}
    if max_retries is not None:
        payload["retryPolicy"] = {"maxRetries": max_retries}
    order = make_order(payload=payload, retryCount=retry_count)
    order_queue.send([order_message(order)])
    # WHEN the worker runs it
    assert run_worker(worker, order_queue.receive_event(1)) == set()
    # THEN the result is a failure asking for a requeue while retries remain, and an escalation after
    result = results_by_order(result_queue)[order.orderId]
    assert result.status.value == "failure"
    assert result.followUpAction is not None and result.followUpAction.value == action
