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

from automation_shared import batch_invocation, result_payloads
from automation_shared.contracts import OrderMessage, PayloadS3Pointer, ResultMessage, ResultStatus
from automation_shared.http_client import ExternalCallError
from automation_shared.messages import result_message
from automation_shared.order_status import OrderState, OrderStatusStore

RESULT_QUEUE_URL = os.environ["RESULT_QUEUE_URL"]
ORDERS_TABLE_NAME = os.environ["ORDERS_TABLE_NAME"]
PAYLOAD_BUCKET_NAME = os.environ["PAYLOAD_BUCKET_NAME"]
MEMORY_MB = int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512"))
DEFAULT_TASK_TIMEOUT_SECONDS = 60.0
# Time kept back from the invocation for sending results and reporting failures (at most
# a fifth of the invocation: see batch_invocation.work_deadline).
SAFETY_MARGIN_SECONDS = 3.0

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
        batch_invocation.work_deadline(SAFETY_MARGIN_SECONDS) - time.monotonic(),
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
    """Claims the attempt (raises IdempotencyItemAlreadyExistsError if taken), then marks the order processing."""
    persistence.save_inprogress(_attempt_key(order), millis_left)
    status_store.transition(order.orderId, OrderState.PROCESSING)


def _finish_attempt(order: OrderMessage, result: ResultMessage) -> None:
    """After SQS took the result: the attempt is stored as sent and the order's status is final."""
    _save_result(order, result, sent=True)
    state = OrderState.SUCCEEDED if result.status in (ResultStatus.SUCCESS, ResultStatus.PARTIAL) else OrderState.FAILED
    # Only over `processing`: the result is on the queue already, and feedback may have acted
    # on it (archived, notified, requeued...) before this call: its state must stand.
    status_store.transition(
        order.orderId, state, only_from=(OrderState.PROCESSING,), lastResultStatus=result.status.value
    )


async def _result_of(order: OrderMessage, record: SQSRecord) -> tuple[ResultMessage, bool]:
    """The attempt's result and whether it was sent before: runs the task only the first time."""
    try:
        await asyncio.to_thread(_start_attempt, order, batch_invocation.millis_left())
    except IdempotencyItemAlreadyExistsError as exists:
        earlier = exists.old_data_record or await asyncio.to_thread(persistence.get_record, _attempt_key(order))
        if earlier is None or earlier.status != "COMPLETED":
            raise AttemptInProgressError(order.orderId) from exists
        stored = earlier.response_json_as_dict()
        return ResultMessage.model_validate(stored["result"]), bool(stored.get("sent"))

    started_ms = time.time() * 1000
    outcome = await _bounded_task(order)
    finished_ms = time.time() * 1000
    result = await asyncio.to_thread(_build_and_save_result, order, record, outcome, started_ms, finished_ms)
    return result, False


async def record_handler(record: SQSRecord) -> None:
    sender = batch_invocation.sender()
    try:
        order = OrderMessage.model_validate_json(record.body)
        # Per record: the records of a batch run as concurrent tasks, each in its own context.
        logger.thread_safe_append_keys(order_id=order.orderId, correlation_id=order.correlationId or order.orderId)
        result, sent_before = await _result_of(order, record)
        if sent_before:
            return
        if not await sender.send(result_message(result, message_id=record.message_id)):
            raise ResultNotSentError(order.orderId)
        await asyncio.to_thread(_finish_attempt, order, result)
        metrics.add_metric(name=f"Tasks{result.status.value.title().replace('-', '')}", unit=MetricUnit.Count, value=1)
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
