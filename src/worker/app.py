"""Worker: runs the orders of the order queue and sends one result per order.

Records of a batch run concurrently (the tasks are I/O-bound); each task is bounded by
min(payload.timeout, time left in the invocation minus a margin) and reports `timeout`
instead of being killed. Results leave in SendMessageBatch calls of up to 10 (result data too large for a message
goes to S3 first and the message points to it: automation_shared.result_payloads); a record
whose result SQS did not take, or that cannot be read, is reported as a batch item
failure (never a crashed batch). Idempotent per order and attempt (orderId, retryCount),
on the order's record (automation_shared.order_records): a record claims its attempt and
marks the order processing in one write, and stores its result in one more before sending
it, so a redelivered record never runs its task again: it sends the stored result (feedback
acts on a result once). A message of an attempt the order is past is deleted unused.

On FIFO queues (QUEUE_TYPE=fifo) a failure with retries left is not sent to feedback to
requeue (a new message would join the end of the user's group): the worker writes the
retry on the order's record, sets the message's visibility to the backoff and reports it
failed, so the message stays at the head of its group and the user's later orders wait;
its next receive runs the attempt the record names. Records run one at a time in the
batch's order (SqsFifoPartialProcessor). README, "FIFO mode".
"""

from __future__ import annotations

import asyncio
import functools
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import async_process_partial_response, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError
from worker_tasks.outcome import BegunActs, TaskOutcome
from worker_tasks.registry import processor_for
from worker_tasks.results import build_result

from automation_shared import batch_invocation, dead_letters, limits, result_payloads
from automation_shared.batched_sender import BatchedSender
from automation_shared.contracts import FollowUpAction, OrderMessage, PayloadS3Pointer, ResultMessage, ResultStatus
from automation_shared.handler_setup import (
    botocore_tracer,
    fifo_record_processor,
    order_records,
    sqs_record_processor,
)
from automation_shared.http_client import ExternalCallError
from automation_shared.messages import fifo_queues, result_message
from automation_shared.order_records import Claim, ClaimOutcome
from automation_shared.retry_policy import backoff_seconds, next_attempt
from automation_shared.task_budget import WORKER_MARGIN_SECONDS

RESULT_QUEUE_URL = os.environ["RESULT_QUEUE_URL"]
ORDER_QUEUE_URL = os.environ["ORDER_QUEUE_URL"]  # FIFO: the queue whose messages it holds for their retries
REQUEUE_BASE_DELAY_SECONDS = float(os.environ.get("REQUEUE_BASE_DELAY_SECONDS", "30"))
PAYLOAD_BUCKET_NAME = os.environ["PAYLOAD_BUCKET_NAME"]
MAX_RECEIVE_COUNT = int(os.environ["ORDER_QUEUE_MAX_RECEIVE_COUNT"])
FIFO_QUEUES = fifo_queues()
MEMORY_MB = int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512"))
DEFAULT_TASK_TIMEOUT_SECONDS = 60.0

logger = Logger()
tracer = botocore_tracer()
metrics = Metrics()
# Every record of a batch (10 at most) starts at once: none waits for a worker thread.
executor = ThreadPoolExecutor(max_workers=10, thread_name_prefix="task")
processor = fifo_record_processor() if FIFO_QUEUES else sqs_record_processor()
sqs = boto3.client("sqs")
dynamodb = boto3.client("dynamodb")
records = order_records(dynamodb)


class ResultNotSentError(Exception):
    """SQS did not take the record's result: the record returns to the queue."""


class AttemptInProgressError(Exception):
    """Another invocation is running this attempt now; the record is retried later."""


class HeldForRetryError(Exception):
    """FIFO: the attempt failed with retries left; its message returns after the backoff."""


@functools.cache
def _s3() -> Any:
    """The S3 client, created on first use: only results too large for a message need it."""
    return boto3.client("s3")


def _store_data(order: OrderMessage, data: bytes) -> PayloadS3Pointer:
    key = result_payloads.payload_key(order.orderId, order.retryCount or 0)
    return result_payloads.store(_s3(), PAYLOAD_BUCKET_NAME, key, data)


def _run_task(order: OrderMessage, deadline: float, acts: BegunActs) -> TaskOutcome:
    try:
        with acts.recording():
            return processor_for(order.taskType)(order, deadline)
    except ExternalCallError as failed:
        error = {"message": str(failed), **failed.details, **({} if failed.retryable else {"retryable": False})}
        return TaskOutcome(failed.status, str(failed), error=error, retryable=failed.retryable)


async def _bounded_task(order: OrderMessage) -> TaskOutcome:
    budget = min(
        order.payload.timeout or DEFAULT_TASK_TIMEOUT_SECONDS,
        batch_invocation.work_deadline(WORKER_MARGIN_SECONDS) - time.monotonic(),
    )
    if budget <= 0:
        return TaskOutcome(ResultStatus.CANCELLED, "not started: no time left in this invocation")
    task_deadline = time.monotonic() + budget
    loop = asyncio.get_running_loop()
    acts = BegunActs()
    try:
        return await asyncio.wait_for(loop.run_in_executor(executor, _run_task, order, task_deadline, acts), budget)
    except TimeoutError:
        # The task's thread runs on: an unrepeatable act it began may still happen, so such
        # an attempt is escalated, not retried (worker_tasks.outcome).
        return acts.outcome_after_timeout(f"task exceeded its {budget:.0f} s bound")


# The DynamoDB calls of a record run in worker threads (blocking I/O); calls that follow
# each other are made in one hop, since each hop costs a thread handoff per record.


def _result(order: OrderMessage, record: SQSRecord, outcome: TaskOutcome, started_ms: float) -> ResultMessage:
    first_received_ms = float(record.attributes.approximate_first_receive_timestamp)
    cancelled = outcome.status is ResultStatus.CANCELLED
    return build_result(
        order,
        outcome,
        started_ms=first_received_ms if cancelled else started_ms,
        finished_ms=first_received_ms if cancelled else time.time() * 1000,
        sent_ms=float(record.attributes.sent_timestamp),
        first_received_ms=first_received_ms,
        memory_mb=MEMORY_MB,
        node=os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "local"),
        store_data=functools.partial(_store_data, order),
        # A cancelled attempt's result is made from the message alone (its times are the
        # message's first receive): it is not stored, and a redelivery of the same message
        # yields the same result, which feedback then acts on once.
        at=datetime.fromtimestamp(first_received_ms / 1000, UTC) if cancelled else None,
    )


def _cancelled(order: OrderMessage, record: SQSRecord) -> ResultMessage:
    return _result(order, record, TaskOutcome(ResultStatus.CANCELLED, "not started: no time left"), 0.0)


@dataclass(frozen=True)
class ResultToSend:
    """The result to send, and its JSON exactly as stored (sent again byte for byte)."""

    result: ResultMessage
    body: str


def _build_and_store_result(
    order: OrderMessage, record: SQSRecord, outcome: TaskOutcome, started_ms: float
) -> ResultToSend:
    """The attempt's result, stored before it is sent, so a failed send is retried without
    running the task again (an earlier invocation's, if it stored one first). In one thread
    hop: building it may put large data in S3."""
    result = _result(order, record, outcome, started_ms)
    body = result.to_json()
    stored = records.store_result(order.orderId, order.retryCount or 0, body)
    return (
        ResultToSend(result, body)
        if stored == body
        else ResultToSend(ResultMessage.model_validate_json(stored), stored)
    )


def _stored(order: OrderMessage) -> ResultToSend | None:
    stored = records.stored_result(order.orderId, order.retryCount or 0)
    return ResultToSend(ResultMessage.model_validate_json(stored), stored) if stored else None


def _unstored(result: ResultMessage) -> ResultToSend:
    return ResultToSend(result, result.to_json())


async def _attempt(order: OrderMessage, record: SQSRecord) -> tuple[OrderMessage, ResultToSend | None]:
    """The attempt run, and its result to send, or None when there is nothing to do (the
    order has moved on). The task runs only the first time; a cancelled attempt is never
    stored, so it takes no attempt from the order."""
    if batch_invocation.work_deadline(WORKER_MARGIN_SECONDS) <= time.monotonic():
        return order, _unstored(_cancelled(order, record))  # not claimed: it runs again (requeued or held)
    claim = await asyncio.to_thread(records.claim_attempt, order, record.message_id, batch_invocation.millis_left())
    if FIFO_QUEUES and claim.outcome is ClaimOutcome.SUPERSEDED and (latest := records.latest_attempt(claim.record)):
        # FIFO: the one message of the order, received again for the attempt its record
        # holds (its body is the first attempt's): that attempt is the one to run.
        order = latest
        claim = await asyncio.to_thread(records.claim_attempt, order, record.message_id, batch_invocation.millis_left())
    return order, await _claimed(order, record, claim)


async def _claimed(order: OrderMessage, record: SQSRecord, claim: Claim) -> ResultToSend | None:
    """The result of the attempt `claim` was asked for, or None when it is not this message's."""
    if claim.outcome is ClaimOutcome.FOREIGN:
        # Its orderId's record is another order's (another user's, or another deduplicationId):
        # a direct producer reused an id, or a request lost the race for it and was answered
        # 409. Running it would overwrite that order's record; nobody was told it would run.
        logger.warning("orderId names another order; message not run", claim=claim.outcome.value)
        metrics.add_metric(name="OrdersRefused", unit=MetricUnit.Count, value=1)
        return None
    if claim.outcome in (ClaimOutcome.FINISHED, ClaimOutcome.SUPERSEDED, ClaimOutcome.HELD_ELSEWHERE):
        # The order is past this attempt, or another message of it (a copy a retried request
        # or requeue sent) holds it: that message sends the result (its redelivery, if its
        # invocation dies). Nothing to do here; the message is deleted.
        logger.info("another message of the attempt, or of a later one, does its work", claim=claim.outcome.value)
        return None
    if claim.outcome in (ClaimOutcome.IN_PROGRESS, ClaimOutcome.TAKEN_OVER):
        # Claimed before: if that invocation stored a result, the attempt ran (this message
        # delivered again, or a holder that ended): send the stored result, never run the task twice.
        if stored := await asyncio.to_thread(_stored, order):
            return stored
        if claim.outcome is ClaimOutcome.IN_PROGRESS:
            raise AttemptInProgressError(order.orderId)
    started_ms = time.time() * 1000
    outcome = await _bounded_task(order)
    if outcome.status is ResultStatus.CANCELLED:  # time ran out while claiming: give the claim back
        await asyncio.to_thread(records.release_attempt, order, claim)
        return _unstored(_cancelled(order, record))
    return await asyncio.to_thread(_build_and_store_result, order, record, outcome, started_ms)


def _hold_for_retry(order: OrderMessage, result: ResultMessage, record: SQSRecord) -> None:
    """FIFO: the retry on the order's record, and the message back at the head of its group
    after the backoff (a cancelled attempt at once: it is the same attempt again)."""
    retry = next_attempt(order, result)
    if retry is None:  # the worker asks for a requeue only with retries left
        raise RuntimeError(f"requeue asked for {order.orderId} without retries left")
    delay = 0
    if retry.retryCount != order.retryCount:
        records.hold_for_retry(order, retry)  # False: written before this redelivery
        delay = backoff_seconds(order, REQUEUE_BASE_DELAY_SECONDS)
    try:
        sqs.change_message_visibility(
            QueueUrl=ORDER_QUEUE_URL, ReceiptHandle=record.receipt_handle, VisibilityTimeout=delay
        )
    except Exception as refused:  # the retry then waits for the queue's visibility timeout
        logger.warning("visibility not changed; the retry waits for the visibility timeout", error=str(refused))
    raise HeldForRetryError(f"attempt {retry.retryCount or 0} in {delay} s")


def _refused(order: OrderMessage, body: str) -> bool:
    """A direct order past the stack's bounds (limits.py: the webhook refuses such orders
    with a 422) is not run: its result could not be stored or sent, so every receive would
    fail until the DLQ. Its record says why instead, and its message is deleted. Its size is
    its body's (the attributes are within the queue's MaximumMessageSize, which SQS checked)."""
    exceeded = limits.bounds_exceeded(order, len(body.encode()))
    if not exceeded:
        return False
    reason = "; ".join(f"{'.'.join(location) or 'the order'}: {message}" for location, message in exceeded)
    logger.warning("order past the stack's bounds; refused, not run", reason=reason)
    metrics.add_metric(name="OrdersRefused", unit=MetricUnit.Count, value=1)
    records.refuse(order, reason)
    return True


async def _handle(record: SQSRecord, sender: BatchedSender) -> None:
    order = OrderMessage.model_validate_json(record.body)
    # Per record: the records of a batch run as concurrent tasks, each in its own context.
    logger.thread_safe_append_keys(order_id=order.orderId)
    if await asyncio.to_thread(_refused, order, record.body):  # before its correlation id goes on every log line
        return
    logger.thread_safe_append_keys(correlation_id=order.correlationId or order.orderId)
    order, outcome = await _attempt(order, record)
    if outcome is None:
        return
    result = outcome.result
    metrics.add_metric(name=f"Tasks{result.status.value.title().replace('-', '')}", unit=MetricUnit.Count, value=1)
    if FIFO_QUEUES and result.followUpAction is FollowUpAction.REQUEUE:
        await asyncio.to_thread(_hold_for_retry, order, result, record)
    message = result_message(
        result, message_id=record.message_id, retry_count=order.retryCount or 0, body=outcome.body, fifo=FIFO_QUEUES
    )
    if not await sender.send(message):
        raise ResultNotSentError(order.orderId)


async def record_handler(record: SQSRecord) -> None:
    sender = batch_invocation.sender()
    try:
        await _handle(record, sender)
    except Exception as failure:
        if FIFO_QUEUES and isinstance(failure, ValidationError):
            await asyncio.to_thread(dead_letters.return_now, sqs, ORDER_QUEUE_URL, record)
        await asyncio.to_thread(dead_letters.record_failed, record, failure, MAX_RECEIVE_COUNT, records)
        raise
    finally:
        await sender.release(record.message_id)


def _begin(records_in_batch: int, remaining_millis: int) -> None:
    batch_invocation.begin(sqs, RESULT_QUEUE_URL, records_in_batch, remaining_millis)


# FIFO queues: the processor's handler, each record run to its end before the next.
record_handler_in_order = batch_invocation.one_at_a_time(record_handler, _begin)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    if FIFO_QUEUES:
        return process_partial_response(
            event=event, record_handler=record_handler_in_order, processor=processor, context=context
        )
    _begin(len(event.get("Records", [])), context.get_remaining_time_in_millis())
    return async_process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
