"""Worker: runs the orders of the order queue and sends one result per order.

Records of a batch run concurrently (the tasks are I/O-bound); each task is bounded by
min(payload.timeout, time left in the invocation minus a margin) and reports `timeout`
instead of being killed. Results leave in SendMessageBatch calls of up to 10 (result data too large for a message
goes to S3 first and the message points to it: automation_shared.result_payloads); a record
whose result SQS did not take, or that cannot be read, is reported as a batch item
failure (never a crashed batch). Idempotent per order and attempt (orderId, retryCount):
a redelivered record neither runs its task again nor sends its result twice.
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
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import AsyncBatchProcessor, EventType, async_process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, IdempotencyConfig
from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyItemAlreadyExistsError
from aws_lambda_powertools.utilities.typing import LambdaContext
from worker_tasks.outcome import TaskOutcome
from worker_tasks.registry import processor_for
from worker_tasks.results import build_result

from automation_shared import batch_invocation, dead_letters, result_payloads
from automation_shared.batched_sender import BatchedSender
from automation_shared.contracts import OrderMessage, PayloadS3Pointer, ResultMessage, ResultStatus
from automation_shared.http_client import ExternalCallError
from automation_shared.messages import result_message
from automation_shared.order_status import OrderState, OrderStatusStore
from automation_shared.task_budget import WORKER_MARGIN_SECONDS

RESULT_QUEUE_URL = os.environ["RESULT_QUEUE_URL"]
ORDERS_TABLE_NAME = os.environ["ORDERS_TABLE_NAME"]
PAYLOAD_BUCKET_NAME = os.environ["PAYLOAD_BUCKET_NAME"]
MAX_RECEIVE_COUNT = int(os.environ["ORDER_QUEUE_MAX_RECEIVE_COUNT"])
MEMORY_MB = int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512"))
DEFAULT_TASK_TIMEOUT_SECONDS = 60.0

logger = Logger()
# Patches botocore only: of what patch_all() would patch, the only library here (sqlite3,
# requests and the database drivers are never used), without importing the others.
tracer = Tracer(patch_modules=["botocore"])
metrics = Metrics()
# Every record of a batch (10 at most) starts at once: none waits for a worker thread.
executor = ThreadPoolExecutor(max_workers=10, thread_name_prefix="task")
# The body is parsed in record_handler rather than by the processor's `model=`: every record
# must reach the handler, so the batch's shared sender knows when all messages are in.
processor = AsyncBatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
sqs = boto3.client("sqs")
dynamodb = boto3.client("dynamodb")
status_store = OrderStatusStore(dynamodb, ORDERS_TABLE_NAME)
persistence = DynamoDBPersistenceLayer(
    table_name=ORDERS_TABLE_NAME, key_attr="id", expiry_attr="expiration", boto3_client=dynamodb
)
persistence.configure(
    IdempotencyConfig(event_key_jmespath="[orderId, retryCount]", expires_after_seconds=7 * 24 * 3600),
    key_prefix="worker#attempt",
)


class ResultNotSentError(Exception):
    """SQS did not take the record's result: the record returns to the queue."""


class AttemptInProgressError(Exception):
    """Another invocation is running this attempt now; the record is retried later."""


class AttemptCancelledError(Exception):
    """Recorded with the claim it releases: the attempt never ran (no time left)."""


@functools.cache
def _s3() -> Any:
    """The S3 client, created on first use: only results too large for a message need it."""
    return boto3.client("s3")


def _store_data(order: OrderMessage, data: bytes) -> PayloadS3Pointer:
    key = result_payloads.payload_key(order.orderId, order.retryCount or 0)
    return result_payloads.store(_s3(), PAYLOAD_BUCKET_NAME, key, data)


def _run_task(order: OrderMessage, deadline: float) -> TaskOutcome:
    try:
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
    try:
        return await asyncio.wait_for(loop.run_in_executor(executor, _run_task, order, task_deadline), budget)
    except TimeoutError:
        return TaskOutcome(ResultStatus.TIMEOUT, f"task exceeded its {budget:.0f} s bound")


def _attempt_key(order: OrderMessage) -> dict[str, object]:
    """The idempotency key's data: one record per order and attempt."""
    return {"orderId": order.orderId, "retryCount": order.retryCount or 0}


# The DynamoDB calls of a record run in worker threads (blocking I/O); calls that follow
# each other are made in one hop, since each hop costs a thread handoff per record.


def _save_result(order: OrderMessage, result: ResultMessage, *, sent: bool) -> None:
    stored = {"result": result.model_dump(mode="json", exclude_none=True), "sent": sent}
    persistence.save_success(_attempt_key(order), stored)


def _build_and_save_result(
    order: OrderMessage, record: SQSRecord, outcome: TaskOutcome, started_ms: float, finished_ms: float
) -> ResultMessage:
    """The attempt's result, stored before it is sent, so a failed send is retried without
    running the task again. In one thread hop: building it may put large data in S3."""
    result = build_result(
        order,
        outcome,
        started_ms=started_ms,
        finished_ms=finished_ms,
        sent_ms=float(record.attributes.sent_timestamp),
        first_received_ms=float(record.attributes.approximate_first_receive_timestamp),
        memory_mb=MEMORY_MB,
        node=os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "local"),
        store_data=functools.partial(_store_data, order),
    )
    _save_result(order, result, sent=False)
    return result


def _start_attempt(order: OrderMessage, millis_left: int) -> None:
    """Claims the attempt (raises IdempotencyItemAlreadyExistsError if taken), then marks the
    order processing, writing its whole status record (an order sent straight to the queue
    has none yet, and feedback requeues from it)."""
    persistence.save_inprogress(_attempt_key(order), millis_left)
    status_store.record_processing(order)


def _finish_attempt(order: OrderMessage, result: ResultMessage) -> None:
    """After SQS took the result: the attempt is stored as sent and the order's status is final."""
    _save_result(order, result, sent=True)
    state = OrderState.SUCCEEDED if result.status in (ResultStatus.SUCCESS, ResultStatus.PARTIAL) else OrderState.FAILED
    # Only over `processing`: the result is on the queue already, and feedback may have acted
    # on it (archived, notified, requeued...) before this call: its state must stand.
    status_store.transition(
        order.orderId, state, only_from=(OrderState.PROCESSING,), lastResultStatus=result.status.value
    )


@dataclass
class Attempt:
    result: ResultMessage
    sent_before: bool = False  # a redelivery of an attempt whose result went out already
    claimed: bool = True  # False for one cancelled before it was claimed (nothing to finish)


def _cancelled(order: OrderMessage, record: SQSRecord) -> ResultMessage:
    """The result of an attempt never started, made from the message alone (its times are
    the message's first receive), so a redelivery of the same message yields the same result
    and feedback acts on it once: it is not stored like a result of a task that ran."""
    first_received_ms = float(record.attributes.approximate_first_receive_timestamp)
    return build_result(
        order,
        TaskOutcome(ResultStatus.CANCELLED, "not started: no time left in this invocation"),
        started_ms=first_received_ms,
        finished_ms=first_received_ms,
        sent_ms=float(record.attributes.sent_timestamp),
        first_received_ms=first_received_ms,
        memory_mb=MEMORY_MB,
        node=os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "local"),
        store_data=functools.partial(_store_data, order),
        at=datetime.fromtimestamp(first_received_ms / 1000, UTC),
    )


def _release_attempt(order: OrderMessage) -> None:
    """The attempt was claimed but never run (time ran out): its claim goes, so the order
    feedback requeues for it (same retryCount) runs it."""
    persistence.delete_record(_attempt_key(order), AttemptCancelledError(order.orderId))


async def _attempt(order: OrderMessage, record: SQSRecord) -> Attempt:
    """The attempt's result: the task runs only the first time; a `cancelled` one is never
    stored, so it takes no attempt from the order."""
    if batch_invocation.work_deadline(WORKER_MARGIN_SECONDS) <= time.monotonic():
        return Attempt(_cancelled(order, record), claimed=False)
    try:
        await asyncio.to_thread(_start_attempt, order, batch_invocation.millis_left())
    except IdempotencyItemAlreadyExistsError as exists:
        earlier = exists.old_data_record or await asyncio.to_thread(persistence.get_record, _attempt_key(order))
        if earlier is None or earlier.status != "COMPLETED":
            raise AttemptInProgressError(order.orderId) from exists
        stored = earlier.response_json_as_dict()
        return Attempt(ResultMessage.model_validate(stored["result"]), sent_before=bool(stored.get("sent")))

    started_ms = time.time() * 1000
    outcome = await _bounded_task(order)
    if outcome.status is ResultStatus.CANCELLED:  # time ran out while claiming
        await asyncio.to_thread(_release_attempt, order)
        return Attempt(_cancelled(order, record), claimed=False)
    finished_ms = time.time() * 1000
    result = await asyncio.to_thread(_build_and_save_result, order, record, outcome, started_ms, finished_ms)
    return Attempt(result)


async def _handle(record: SQSRecord, sender: BatchedSender) -> None:
    order = OrderMessage.model_validate_json(record.body)
    # Per record: the records of a batch run as concurrent tasks, each in its own context.
    logger.thread_safe_append_keys(order_id=order.orderId, correlation_id=order.correlationId or order.orderId)
    attempt = await _attempt(order, record)
    if attempt.sent_before:
        return
    message = result_message(attempt.result, message_id=record.message_id, retry_count=order.retryCount or 0)
    if not await sender.send(message):
        raise ResultNotSentError(order.orderId)
    if attempt.claimed:
        await asyncio.to_thread(_finish_attempt, order, attempt.result)
    metrics.add_metric(
        name=f"Tasks{attempt.result.status.value.title().replace('-', '')}", unit=MetricUnit.Count, value=1
    )


async def record_handler(record: SQSRecord) -> None:
    sender = batch_invocation.sender()
    try:
        await _handle(record, sender)
    except Exception as failure:
        await asyncio.to_thread(dead_letters.record_failed, record, failure, MAX_RECEIVE_COUNT, status_store)
        raise
    finally:
        await sender.release(record.message_id)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    batch_invocation.begin(sqs, RESULT_QUEUE_URL, event, context.get_remaining_time_in_millis())
    return async_process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
