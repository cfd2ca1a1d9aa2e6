"""The worker's pure parts on events/worker-*.json: the record body as an OrderMessage, the
task type's processor, and the outcome as the ResultMessage feedback receives.

url-monitoring reaches a site: here the target-site stand-in on 127.0.0.1, let through
by OUTBOUND_ALLOWED_NETWORKS as the local stacks let their stand-ins through. So does
scheduled-linkedin's post, to the LinkedIn stand-in (its draft and token patched in: no
Perplexity, no secret).
"""

from __future__ import annotations

import contextvars
import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pydantic import ValidationError
from worker_tasks import scheduled_posts
from worker_tasks.outcome import (
    BegunActs,
    OutcomeUnknownError,
    TaskFailedError,
    TaskOutcome,
    begin_unrepeatable_act,
)
from worker_tasks.registry import PROCESSOR_MODULES, processor_for
from worker_tasks.results import build_result, estimated_cost, follow_up_action

from automation_local.lambda_.esm.filtering import matches_filter_criteria
from automation_local.net.loopback_server import free_port
from automation_local.outside.standins import LinkedInStandIn, Reply, TargetSite
from automation_shared import batch_invocation
from automation_shared.contracts import (
    FollowUpAction,
    OrderMessage,
    PayloadS3Pointer,
    ResultMessage,
    ResultStatus,
    TaskType,
)
from automation_shared.http_client import ALLOWED_NETWORKS_VARIABLE, ExternalCallError, RefusedAddressError
from automation_shared.messages import result_message
from automation_shared.result_payloads import data_bytes, payload_key
from automation_shared.routing import ORDER_QUEUE_FILTER_CRITERIA, RESULT_QUEUE_FILTER_CRITERIA
from automation_shared.sqs_batches import MAX_MESSAGE_BYTES
from automation_shared.task_budget import SETUP_SECONDS, WORKER_MARGIN_SECONDS, longest_task_seconds
from tests.pure.events import names, record, record_body
from tests.pure.fakes import FakeLambdaContext

pytestmark = pytest.mark.fast


def order_of(event_name: str, **payload: Any) -> OrderMessage:
    """The order of a worker sample event, its payload fields replaced by `payload`."""
    document = json.loads(record_body(event_name))
    document["payload"] |= payload
    return OrderMessage.model_validate(document)


def deadline_in(seconds: float = 10.0) -> float:
    return time.monotonic() + seconds


# ------------------------------------------------------------------ the pure text tasks
def test_the_text_processing_event_is_counted_and_summarised() -> None:
    # GIVEN the sample text-processing order ("Orders arrive through the webhook. The worker runs them.")
    order = OrderMessage.model_validate_json(record_body("worker-text-processing"))

    # WHEN its task type's processor runs it
    outcome = processor_for(order.taskType)(order, deadline_in())

    # THEN it succeeds with the text's counts, its keywords (stop words left out) and a summary
    assert outcome.status is ResultStatus.SUCCESS
    assert outcome.summary == "9 words, 2 sentences"
    data = outcome.data
    assert (data["characters"], data["words"], data["sentences"], data["readingTimeSeconds"]) == (56, 9, 2, 2)
    assert [k["word"] for k in data["keywords"]] == ["orders", "arrive", "through", "webhook", "worker", "runs", "them"]
    assert data["summary"] == "Orders arrive through the webhook. The worker runs them."


def test_the_content_analysis_event_reads_as_positive_and_easy() -> None:
    # GIVEN the sample content-analysis order ("A clear and fast service. Users love it.")
    order = OrderMessage.model_validate_json(record_body("worker-content-analysis"))

    # WHEN its task type's processor runs it
    outcome = processor_for(order.taskType)(order, deadline_in())

    # THEN three of its eight words are positive ones, in two sentences of plain English
    assert outcome.status is ResultStatus.SUCCESS
    assert outcome.data["tone"] == "positive"
    assert outcome.data["toneScore"] == 0.375
    assert outcome.data["averageSentenceWords"] == 4.0
    assert outcome.data["readingEase"] == 75.9
    assert outcome.summary == "positive tone, reading ease 75.9"


def test_a_text_task_without_text_fails_with_a_reason_worth_reporting() -> None:
    # GIVEN the sample text-processing order with its text left out
    order = order_of("worker-text-processing", parameters={})

    # WHEN its processor runs it
    # THEN it fails as a task (reported in the result), not as a bug, naming the parameter
    with pytest.raises(TaskFailedError, match=r"payload\.parameters\.text is required for text-processing"):
        processor_for(order.taskType)(order, deadline_in())


def test_the_sample_events_cover_every_task_type_and_each_has_a_processor() -> None:
    # GIVEN the worker's sample events that are not `bad-` cases
    bodies = [json.loads(record_body(n)) for n in names("worker") if not n.startswith("worker-bad-")]

    # WHEN their task types are read and each is looked up in the registry
    task_types = {TaskType(b["taskType"]) for b in bodies}
    processors = {t: processor_for(t) for t in task_types}

    # THEN every task type of the contract has a sample event and a processor
    assert task_types == set(TaskType) == set(PROCESSOR_MODULES)
    assert all(callable(p) for p in processors.values())


# ------------------------------------------------------------------ refused records
def test_the_unknown_task_type_event_is_refused_by_the_contract_and_by_the_order_queues_filter() -> None:
    # GIVEN the sample record of a task type the contract does not know ("crypto-mining")
    sqs_record = record("worker-bad-unknown-task-type")

    # WHEN the worker validates its body, and Lambda's filter of the order queue reads it
    with pytest.raises(ValidationError) as refused:
        OrderMessage.model_validate_json(sqs_record["body"])
    reaches_the_worker = matches_filter_criteria(ORDER_QUEUE_FILTER_CRITERIA, sqs_record)

    # THEN the contract refuses `taskType` alone, and on AWS the record never reaches the worker
    assert [(e["loc"], e["type"]) for e in refused.value.errors()] == [(("taskType",), "enum")]
    assert reaches_the_worker is False


@pytest.mark.parametrize(
    "event_name, refused_fields",
    [
        ("worker-bad-contract-violation", [("payload",), ("userId",), ("timestamp",)]),
        ("worker-bad-malformed-json", [()]),
    ],
)
def test_a_bad_record_is_refused_naming_what_is_wrong(event_name: str, refused_fields: list[tuple[str, ...]]) -> None:
    # GIVEN a bad sample record of the order queue
    body = record_body(event_name)

    # WHEN the worker validates its body
    with pytest.raises(ValidationError) as refused:
        OrderMessage.model_validate_json(body)

    # THEN each missing field is named (the whole body when it is not JSON)
    assert [e["loc"] for e in refused.value.errors()] == refused_fields


# ------------------------------------------------------------------ url-monitoring on loopback
PAGES = {"/health": (200, b"ok"), "/down": (503, b"maintenance"), "/busy": (429, b"slow down")}


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    """The project's own target-site stand-in (a loopback HTTP server in a thread)."""
    with TargetSite({path: Reply(status, body, "text/plain") for path, (status, body) in PAGES.items()}) as running:
        yield running.base_url


def test_the_url_monitoring_events_loopback_url_is_refused_without_an_allow_list(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN the sample url-monitoring order (http://127.0.0.1:9/) and no allowed networks (as on AWS)
    monkeypatch.delenv(ALLOWED_NETWORKS_VARIABLE, raising=False)
    order = OrderMessage.model_validate_json(record_body("worker-url-monitoring"))

    # WHEN its processor runs it
    with pytest.raises(RefusedAddressError) as refused:
        processor_for(order.taskType)(order, deadline_in())

    # THEN the address is refused before any connection, and another attempt would not help
    assert refused.value.details == {"refusedAddress": "127.0.0.1", "reason": "loopback"}
    assert refused.value.retryable is False


@pytest.mark.parametrize(
    "path, status, code",
    [
        ("/health", ResultStatus.SUCCESS, 200),
        ("/down", ResultStatus.FAILURE, 503),
        ("/busy", ResultStatus.RATE_LIMITED, 429),
    ],
)
def test_url_monitoring_reports_the_sites_answer(
    monkeypatch: pytest.MonkeyPatch, site: str, path: str, status: ResultStatus, code: int
) -> None:
    # GIVEN the sample url-monitoring order pointed at a loopback site that is allowed
    monkeypatch.setenv(ALLOWED_NETWORKS_VARIABLE, "127.0.0.1/32")
    order = order_of("worker-url-monitoring", url=f"{site}{path}")

    # WHEN its processor runs it
    outcome = processor_for(order.taskType)(order, deadline_in())

    # THEN the status follows the site's answer, with its code and a hash of its content
    assert outcome.status is status
    assert outcome.data["statusCode"] == code
    body = PAGES[path][1]
    assert outcome.data["contentSha256"] == hashlib.sha256(body).hexdigest()
    assert outcome.data["contentLength"] == len(body)


# ------------------------------------------------------------------ the result, with a Lambda context
def not_stored(data: bytes) -> PayloadS3Pointer:
    raise AssertionError(f"{len(data)} bytes of data fit the message: nothing is stored")


def test_an_outcome_becomes_a_result_that_the_result_queues_filter_admits(lambda_context: FakeLambdaContext) -> None:
    # GIVEN the sample text-processing record, run 50 ms after it was first received
    sqs_record = record("worker-text-processing")
    order = OrderMessage.model_validate_json(sqs_record["body"])
    outcome = processor_for(order.taskType)(order, deadline_in())
    received_ms = float(sqs_record["attributes"]["ApproximateFirstReceiveTimestamp"])

    # WHEN the worker builds its result in a 512 MB function
    result = build_result(
        order,
        outcome,
        started_ms=received_ms + 50,
        finished_ms=received_ms + 170,
        sent_ms=float(sqs_record["attributes"]["SentTimestamp"]),
        first_received_ms=received_ms,
        memory_mb=lambda_context.memory_limit_in_mb,
        node=lambda_context.function_name,
        store_data=not_stored,
    )

    # THEN the result carries the order's ids, its data inline, and is to be archived
    assert (result.orderId, result.correlationId, result.userId) == (order.orderId, order.correlationId, "user-42")
    assert (result.status, result.followUpAction) == (ResultStatus.SUCCESS, FollowUpAction.ARCHIVE)
    assert result.result.data == outcome.data
    assert result.result.size == len(data_bytes(outcome.data))
    assert result.processingTime == 120.0
    assert (result.queueMetrics.queueTime, result.queueMetrics.processingDelay) == (50.0, 50.0)  # type: ignore[union-attr]
    assert result.result.metadata.processingNode == "automation-dev-worker"  # type: ignore[union-attr]
    assert result.cost == estimated_cost(120, 512) > 0
    # and as sent, it is a valid ResultMessage that reaches the feedback function
    body = result_message(result, message_id="m-1", retry_count=0).body
    assert ResultMessage.model_validate_json(body) == result
    assert matches_filter_criteria(RESULT_QUEUE_FILTER_CRITERIA, {"body": body}) is True


def test_data_too_large_for_the_message_is_stored_and_the_result_points_to_it(
    lambda_context: FakeLambdaContext,
) -> None:
    # GIVEN the sample text-processing order with data over the contract's 256,000 bytes (a message would take it)
    order = OrderMessage.model_validate_json(record_body("worker-text-processing"))
    outcome = TaskOutcome(ResultStatus.SUCCESS, "large", {"text": "x" * 257_000})
    stored: list[bytes] = []

    def store_data(data: bytes) -> PayloadS3Pointer:
        stored.append(data)
        return PayloadS3Pointer(
            s3BucketName="automation-dev-payloads", s3Key=payload_key(order.orderId, 0), size=len(data)
        )

    # WHEN the worker builds its result
    result = build_result(
        order,
        outcome,
        started_ms=0,
        finished_ms=10,
        sent_ms=0,
        first_received_ms=0,
        memory_mb=lambda_context.memory_limit_in_mb,
        node=lambda_context.function_name,
        store_data=store_data,
    )

    # THEN the data is stored once, byte for byte, and the message names it instead of carrying it
    assert stored == [data_bytes(outcome.data)]
    assert result.result.data is None
    assert result.result.dataPointer is not None
    assert result.result.dataPointer.s3Key == f"payloads/{order.orderId}/attempt-0.json"
    assert result_message(result, message_id="m-1").size < MAX_MESSAGE_BYTES


@pytest.mark.parametrize("timeout_seconds, margin", [(50, WORKER_MARGIN_SECONDS), (10, 2.0)])
def test_the_work_deadline_keeps_a_margin_and_leaves_the_longest_task_its_time(
    lambda_context: FakeLambdaContext, timeout_seconds: int, margin: float
) -> None:
    # GIVEN a worker invocation with its whole timeout left, a batch of the sample record
    lambda_context.remaining_millis = timeout_seconds * 1000
    event = {"Records": [record("worker-text-processing")]}

    def deadlines() -> tuple[float, float, float]:
        started = time.monotonic()
        batch_invocation.begin(
            None, "order-queue-url", len(event["Records"]), lambda_context.get_remaining_time_in_millis()
        )
        return started, batch_invocation.deadline(), batch_invocation.work_deadline(WORKER_MARGIN_SECONDS)

    # WHEN the handler begins the batch (in a context of its own, as an invocation)
    started, deadline, work_deadline = contextvars.copy_context().run(deadlines)

    # THEN work stops 3 s before the end (a fifth of a short invocation), which still gives the
    # longest task the webhook accepts for this timeout its whole time after setup
    assert deadline - work_deadline == pytest.approx(margin)
    assert work_deadline - started >= longest_task_seconds(timeout_seconds) + SETUP_SECONDS


# ------------------------------------------------------------------ a LinkedIn post, at most once
LINKEDIN_TOKEN = "li-token"
DRAFT = "Queues decouple what asks from what does."


def publishing_order() -> OrderMessage:
    """The sample scheduled-linkedin order, asked to publish."""
    return order_of(
        "worker-scheduled-linkedin",
        parameters={"topic": "serverless queues", "publish": True, "author": "urn:li:person:1"},
    )


@pytest.fixture
def linkedin_at(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    """Points scheduled-linkedin's LinkedIn calls at a base URL (Perplexity's draft is DRAFT)."""
    monkeypatch.setenv(ALLOWED_NETWORKS_VARIABLE, "127.0.0.1/32")
    monkeypatch.setattr(scheduled_posts, "complete", lambda prompt, deadline: DRAFT)

    def point_at(base_url: str) -> None:
        monkeypatch.setattr(scheduled_posts, "api_access", lambda *names: (LINKEDIN_TOKEN, base_url))

    return point_at


@pytest.fixture
def linkedin() -> Iterator[LinkedInStandIn]:
    with LinkedInStandIn(LINKEDIN_TOKEN) as running:
        yield running  # type: ignore[misc]


def test_a_post_linkedin_accepts_is_published_once_with_its_id(
    linkedin_at: Callable[[str], None], linkedin: LinkedInStandIn
) -> None:
    # GIVEN LinkedIn answering as usual
    linkedin_at(linkedin.base_url)
    # WHEN the order is run
    outcome = processor_for(TaskType.SCHEDULED_LINKEDIN)(publishing_order(), deadline_in())
    # THEN the draft is published once, and the result names the post
    assert (outcome.status, outcome.data["published"], outcome.data["postId"]) == (
        ResultStatus.SUCCESS,
        True,
        "urn:li:share:1",
    )
    assert [post.json()["commentary"] for post in linkedin.published] == [DRAFT]


@pytest.mark.parametrize(
    "answer, status, why",
    [
        (Reply(503, b'{"message": "unavailable"}'), ResultStatus.FAILURE, "LinkedIn: HTTP 503"),
        (Reply(500, b'{"message": "internal"}'), ResultStatus.FAILURE, "LinkedIn: HTTP 500"),
        (Reply(504, b""), ResultStatus.FAILURE, "LinkedIn: HTTP 504"),
        (Reply(408, b""), ResultStatus.FAILURE, "LinkedIn: HTTP 408"),
        (Reply(201, b"", delay_seconds=3.0), ResultStatus.TIMEOUT, "timed out after"),
    ],
)
def test_a_post_of_unknown_outcome_is_escalated_for_a_person_not_retried(
    linkedin_at: Callable[[str], None], linkedin: LinkedInStandIn, answer: Reply, status: ResultStatus, why: str
) -> None:
    # GIVEN LinkedIn that publishes the post, then answers with a server error or too late
    # for the task (its deadline is 1 s away)
    linkedin_at(linkedin.base_url)
    linkedin.answers_after_publishing.append(answer)
    order = publishing_order()
    # WHEN the order is run
    with pytest.raises(OutcomeUnknownError) as unknown:
        processor_for(order.taskType)(order, deadline_in(1.0))
    # THEN the post was made once, and the failure is not retryable: escalated at once, its
    # reason saying the post may exist, with the draft and author to look for
    assert len(linkedin.published) == 1
    failure = unknown.value
    assert failure.status is status and failure.retryable is False and why in str(failure)
    assert str(failure).startswith("LinkedIn post may have been made")
    assert "a person must check" in str(failure)
    assert failure.details | {"outcomeUnknown": True, "draft": DRAFT, "author": "urn:li:person:1"} == failure.details
    assert follow_up_action(order, failure.status, retryable=failure.retryable) is FollowUpAction.ESCALATE


@pytest.mark.parametrize(
    "answer, status",
    [
        (Reply(429, b'{"message": "throttled"}'), ResultStatus.RATE_LIMITED),
        (Reply(422, b'{"message": "invalid author"}'), ResultStatus.FAILURE),
        (Reply(403, b'{"message": "not allowed"}'), ResultStatus.FAILURE),
    ],
)
def test_a_post_linkedin_refused_is_retried_as_any_failure(
    linkedin_at: Callable[[str], None], answer: Reply, status: ResultStatus
) -> None:
    # GIVEN LinkedIn refusing the post (rate limited, or a 4xx other than 408): nothing published
    with TargetSite({"/rest/posts": answer}) as refusing:
        linkedin_at(refusing.base_url)
        order = publishing_order()
        # WHEN the order is run
        with pytest.raises(ExternalCallError) as failed:
            processor_for(order.taskType)(order, deadline_in())
        assert len(refusing.requests_to("/rest/posts")) == 1
    # THEN the failure is retryable, and requeued while retries are left
    assert not isinstance(failed.value, OutcomeUnknownError)
    assert failed.value.status is status and failed.value.retryable is True
    assert follow_up_action(order, failed.value.status, retryable=failed.value.retryable) is FollowUpAction.REQUEUE


def test_a_post_that_never_left_is_retried(linkedin_at: Callable[[str], None]) -> None:
    # GIVEN a LinkedIn address where nothing listens (the connection is refused before sending)
    linkedin_at(f"http://127.0.0.1:{free_port()}")
    order = publishing_order()
    # WHEN the order is run
    with pytest.raises(ExternalCallError) as failed:
        processor_for(order.taskType)(order, deadline_in())
    # THEN nothing can have been published: the failure is retryable
    assert not isinstance(failed.value, OutcomeUnknownError) and failed.value.retryable is True


def test_a_task_overrunning_its_bound_during_an_unrepeatable_act_is_escalated() -> None:
    # GIVEN two attempts' acts: one whose task began a LinkedIn post (in the task's thread, as
    # the worker records it), one whose task began none
    posting, reading = BegunActs(), BegunActs()
    worker_thread = threading.Thread(target=lambda: _in(posting, lambda: begin_unrepeatable_act("LinkedIn post")))
    worker_thread.start()
    worker_thread.join()
    begin_unrepeatable_act("LinkedIn post")  # outside any task: recorded nowhere
    # WHEN the worker's bound fires on each
    after_post, after_read = (acts.outcome_after_timeout("task exceeded its 30 s bound") for acts in (posting, reading))
    # THEN the one that began a post is escalated (its thread may still post), the other retried
    order = publishing_order()
    assert after_post.status is ResultStatus.TIMEOUT and after_post.retryable is False
    assert after_post.summary.startswith("LinkedIn post may have been made (task exceeded its 30 s bound)")
    assert after_post.error is not None and after_post.error["outcomeUnknown"] is True
    assert follow_up_action(order, after_post.status, retryable=after_post.retryable) is FollowUpAction.ESCALATE
    assert (after_read.status, after_read.retryable, after_read.error) == (ResultStatus.TIMEOUT, True, None)
    assert follow_up_action(order, after_read.status, retryable=after_read.retryable) is FollowUpAction.REQUEUE


def _in(acts: BegunActs, task: Callable[[], None]) -> None:
    with acts.recording():
        task()
