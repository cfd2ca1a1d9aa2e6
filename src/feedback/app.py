"""Feedback: acts on each result of the result queue by its follow-up action.

notify (Telegram), enhance (Perplexity, then notify), requeue (the order again, with
backoff; escalated once its retries are spent), escalate (alert topic), archive (S3).
A result without an action is archived. Of these only archive needs `result.data`: a
result whose data was too large for the message (`result.dataPointer`) is archived with
the data read back from S3; notify and enhance read the summary, escalate and requeue
pass the pointer along. Requeues of a batch leave in SendMessageBatch
calls of up to 10. Idempotent per result: a redelivered result is not acted on twice.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import AsyncBatchProcessor, EventType, async_process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, IdempotencyConfig
from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyItemAlreadyExistsError
from aws_lambda_powertools.utilities.typing import LambdaContext
from feedback_actions import alerts, telegram
from feedback_actions.archive import archive
from feedback_actions.requeue import next_attempt, requeue_message

from automation_shared import batch_invocation, dead_letters, result_payloads
from automation_shared.contracts import FollowUpAction, OrderMessage, ResultMessage
from automation_shared.messages import RETRY_COUNT_ATTRIBUTE
from automation_shared.order_status import OrderState, OrderStatusStore
from automation_shared.perplexity_client import complete

ORDER_QUEUE_URL = os.environ["ORDER_QUEUE_URL"]
ALERT_TOPIC_ARN = os.environ["ALERT_TOPIC_ARN"]
ARCHIVE_BUCKET_NAME = os.environ["ARCHIVE_BUCKET_NAME"]
ORDERS_TABLE_NAME = os.environ["ORDERS_TABLE_NAME"]
MAX_RECEIVE_COUNT = int(os.environ["RESULT_QUEUE_MAX_RECEIVE_COUNT"])
REQUEUE_BASE_DELAY_SECONDS = float(os.environ.get("REQUEUE_BASE_DELAY_SECONDS", "30"))
SAFETY_MARGIN_SECONDS = 2.0

logger = Logger()
# Patches botocore only: of what patch_all() would patch, the only library here (sqlite3,
# requests and the database drivers are never used), without importing the others.
tracer = Tracer(patch_modules=["botocore"])
metrics = Metrics()
# The body is parsed in record_handler rather than by the processor's `model=`: every record
# must reach the handler, so the batch's shared sender knows when all messages are in.
processor = AsyncBatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
sqs = boto3.client("sqs")
s3 = boto3.client("s3")  # archive: the follow-up of most successes, so created with the rest
dynamodb = boto3.client("dynamodb")
status_store = OrderStatusStore(dynamodb, ORDERS_TABLE_NAME)
persistence = DynamoDBPersistenceLayer(
    table_name=ORDERS_TABLE_NAME, key_attr="id", expiry_attr="expiration", boto3_client=dynamodb
)
# No key path: the whole result is the key, so each result message is acted on once.
persistence.configure(IdempotencyConfig(expires_after_seconds=7 * 24 * 3600), key_prefix="feedback#result")


class ActionNotDoneError(Exception):
    """The follow-up could not be completed now; the record returns to the queue."""


@functools.cache
def _sns() -> Any:
    """The SNS client, created on first use: only escalations publish, and most batches have none."""
    return boto3.client("sns")


def _deadline() -> float:
    return batch_invocation.work_deadline(SAFETY_MARGIN_SECONDS)


async def _escalate(result: ResultMessage, reason: str) -> OrderState:
    await asyncio.to_thread(
        _sns().publish,
        TopicArn=ALERT_TOPIC_ARN,
        Subject=alerts.subject(result),
        Message=alerts.message(result, reason),
    )
    return OrderState.ESCALATED


def _archive_in_full(result: ResultMessage) -> str:
    return archive(s3, ARCHIVE_BUCKET_NAME, result_payloads.resolve(s3, ARCHIVE_BUCKET_NAME, result))


async def _archive(result: ResultMessage) -> OrderState:
    key = await asyncio.to_thread(_archive_in_full, result)
    logger.info("result archived", key=key)
    return OrderState.ARCHIVED


async def _notify(result: ResultMessage, summary: str | None = None) -> OrderState:
    chat = await asyncio.to_thread(telegram.chat_for, result.userId)
    if chat is None:  # nowhere to notify: keep the result rather than drop it
        logger.warning("no Telegram chat for user; archiving instead", user_id=result.userId)
        metrics.add_metric(name="NotificationsWithoutChat", unit=MetricUnit.Count, value=1)
        return await _archive(result)
    await asyncio.to_thread(telegram.send, chat, telegram.message_text(result, summary), _deadline())
    return OrderState.NOTIFIED


async def _enhance(result: ResultMessage) -> OrderState:
    prompt = f"Explain this {result.taskType} result for a busy reader: {result.result.summary or ''}"
    enhanced = await asyncio.to_thread(complete, prompt, _deadline())
    return await _notify(result, enhanced)


def _attempt_of(record: SQSRecord) -> int | None:
    """The attempt (retryCount) the result is of, from the worker's message attribute."""
    attribute = record.message_attributes[RETRY_COUNT_ATTRIBUTE]
    value = attribute.string_value if attribute else None
    return int(value) if value and value.isdecimal() else None


async def _requeue(result: ResultMessage, record: SQSRecord) -> OrderState:
    status = await asyncio.to_thread(status_store.get, result.orderId)
    if not status or not status.get("order"):
        return await _escalate(result, "requeue asked, but the original order is unknown")
    failed_attempt = OrderMessage.model_validate_json(str(status["order"]))
    attempt = _attempt_of(record)
    if attempt is not None and attempt < (failed_attempt.retryCount or 0):
        # A later attempt was requeued already (this result came again, from an earlier
        # delivery): requeueing from it would skip or double an attempt.
        logger.info("result of an earlier attempt; its requeue was done", attempt=attempt)
        return OrderState.REQUEUED
    retry = next_attempt(failed_attempt, result)
    if retry is None:
        return await _escalate(result, f"retries spent after {failed_attempt.retryCount or 0} retries")
    message = requeue_message(failed_attempt, retry, REQUEUE_BASE_DELAY_SECONDS, record.message_id)
    if not await batch_invocation.sender().send(message):
        raise ActionNotDoneError(f"requeue of {result.orderId} not accepted by SQS")
    await asyncio.to_thread(status_store.record_requeued, retry)
    return OrderState.REQUEUED


async def _act(result: ResultMessage, record: SQSRecord) -> OrderState:
    match result.followUpAction:
        case FollowUpAction.NOTIFY:
            return await _notify(result)
        case FollowUpAction.ENHANCE:
            return await _enhance(result)
        case FollowUpAction.REQUEUE:
            return await _requeue(result, record)
        case FollowUpAction.ESCALATE:
            return await _escalate(result, "the worker asked for escalation")
        case _:  # archive, or no action given
            return await _archive(result)


def _set_status(result: ResultMessage, state: OrderState) -> None:
    """The order's final status, once; a requeued order's was set when it was requeued."""
    if state is not OrderState.REQUEUED:
        status_store.finish(result.orderId, state)


async def _handle(record: SQSRecord) -> None:
    result = ResultMessage.model_validate_json(record.body)
    # Per record: the records of a batch run as concurrent tasks, each in its own context.
    logger.thread_safe_append_keys(order_id=result.orderId, correlation_id=result.correlationId or result.orderId)
    key = json.loads(record.body)
    try:
        await asyncio.to_thread(persistence.save_inprogress, key, batch_invocation.millis_left())
    except IdempotencyItemAlreadyExistsError as exists:
        earlier = exists.old_data_record or await asyncio.to_thread(persistence.get_record, key)
        if earlier is not None and earlier.status == "COMPLETED":
            # Acted on before. The order's status is set again: the invocation that acted
            # may have ended between recording the act and setting the status.
            await asyncio.to_thread(_set_status, result, OrderState(earlier.response_json_as_dict()["state"]))
            return
        raise ActionNotDoneError(f"result of {result.orderId} is being handled elsewhere") from exists
    try:
        state = await _act(result, record)
    except Exception as error:
        await asyncio.to_thread(persistence.delete_record, key, error)
        raise
    await asyncio.to_thread(persistence.save_success, key, {"state": state.value})
    await asyncio.to_thread(_set_status, result, state)
    metrics.add_metric(name=f"FollowUp{(result.followUpAction or 'archive').title()}", unit=MetricUnit.Count, value=1)


async def record_handler(record: SQSRecord) -> None:
    try:
        await _handle(record)
    except Exception as failure:
        await asyncio.to_thread(dead_letters.record_failed, record, failure, MAX_RECEIVE_COUNT, status_store)
        raise
    finally:
        await batch_invocation.sender().release(record.message_id)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    batch_invocation.begin(sqs, ORDER_QUEUE_URL, event, context.get_remaining_time_in_millis())
    return async_process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
