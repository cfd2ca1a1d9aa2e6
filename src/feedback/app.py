"""Feedback: acts on each result of the result queue by its follow-up action.

notify (Telegram), enhance (Perplexity, then notify), requeue (the order again, with
backoff; escalated once its retries are spent), escalate (alert topic), archive (S3).
A result without an action is archived. Of these only archive needs `result.data`: a
result whose data was too large for the message (`result.dataPointer`) is archived with
the data read back from S3; notify and enhance read the summary, escalate and requeue
pass the pointer along. Requeues of a batch leave in SendMessageBatch
calls of up to 10. Idempotent per result, on the order's record (automation_shared.
order_records): a result is read against the record's acts first, and its act recorded
with the order's new state in one write after it, so a redelivered result is not acted on
twice; the same result twice in one batch is acted on by one record. No claim before the
act (Powertools' in-progress record), which would cost a write per result: copies of a
result come from the worker sending a stored result again, which it does only for the
message that holds the attempt (its redelivery, or a copy that took an abandoned attempt
over), so two copies of a result meet only if a result waits in the queue for longer than
the worker's lease, or in SQS's rare duplicate deliveries: then the act is at least once,
as it is for an invocation that dies after acting and before recording.

On FIFO queues (QUEUE_TYPE=fifo) the mapping gives feedback one result an invocation
(template.yaml), as it gives the worker one order: in a batch of several, a user's results
behind one that failed would be reported failed untried, each of that one's receives
spending one of theirs, and a transient failure would move them to the DLQ never tried. With
one a batch, a result's receives are its own tries, and its user's next results wait in the
queue, unreceived. The record still runs through SqsFifoPartialProcessor (the worker's
processor; in a larger batch it would keep a user's results in order), gathering its own
requeue and archive object, so a user's results are acted on, and their orders end, in the
order they were sent.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import os
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import async_process_partial_response, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from feedback_actions import alerts, telegram
from feedback_actions.archive import ArchiveWriter
from feedback_actions.requeue import requeue_message
from pydantic import ValidationError

from automation_shared import batch_invocation, dead_letters, result_payloads
from automation_shared.contracts import FollowUpAction, OrderMessage, ResultMessage
from automation_shared.handler_setup import (
    botocore_tracer,
    fifo_record_processor,
    order_records,
    sqs_record_processor,
)
from automation_shared.messages import RETRY_COUNT_ATTRIBUTE, fifo_queues
from automation_shared.order_records import OrderState
from automation_shared.perplexity_client import complete
from automation_shared.retry_policy import next_attempt

ORDER_QUEUE_URL = os.environ["ORDER_QUEUE_URL"]
RESULT_QUEUE_URL = os.environ["RESULT_QUEUE_URL"]  # FIFO: refused records are returned to it at once
FIFO_QUEUES = fifo_queues()
ALERT_TOPIC_ARN = os.environ["ALERT_TOPIC_ARN"]
ARCHIVE_BUCKET_NAME = os.environ["ARCHIVE_BUCKET_NAME"]
MAX_RECEIVE_COUNT = int(os.environ["RESULT_QUEUE_MAX_RECEIVE_COUNT"])
REQUEUE_BASE_DELAY_SECONDS = float(os.environ.get("REQUEUE_BASE_DELAY_SECONDS", "30"))
SAFETY_MARGIN_SECONDS = 2.0

logger = Logger()
tracer = botocore_tracer()
metrics = Metrics()
processor = fifo_record_processor() if FIFO_QUEUES else sqs_record_processor()
sqs = boto3.client("sqs")
s3 = boto3.client("s3")  # archive: the follow-up of most successes, so created with the rest
dynamodb = boto3.client("dynamodb")
records = order_records(dynamodb)


# The invocation's archive object, and the results its records have taken on: the records of
# a batch run as concurrent tasks, which inherit this context (as batch_invocation's sender).
_archives: ContextVar[ArchiveWriter] = ContextVar("archives")
_taken_on: ContextVar[set[str]] = ContextVar("results_taken_on")


class ActionNotDoneError(Exception):
    """The follow-up could not be completed now; the record returns to the queue."""


@functools.cache
def _sns() -> Any:
    """The SNS client, created on first use: only escalations publish, and most batches have none."""
    return boto3.client("sns")


def _deadline() -> float:
    return batch_invocation.work_deadline(SAFETY_MARGIN_SECONDS)


@dataclass(frozen=True)
class Acted:
    """What an act did: the order's new state, and the attempt sent again for a requeue."""

    state: OrderState
    retry: OrderMessage | None = None


async def _escalate(result: ResultMessage, reason: str) -> Acted:
    await asyncio.to_thread(
        _sns().publish,
        TopicArn=ALERT_TOPIC_ARN,
        Subject=alerts.subject(result),
        Message=alerts.message(result, reason),
    )
    return Acted(OrderState.ESCALATED)


async def _archive(result: ResultMessage, record_id: str) -> Acted:
    """Into the invocation's archive object (the data of a result that points to S3 read back
    first, so the archive holds it in full)."""
    in_full = await asyncio.to_thread(result_payloads.resolve, s3, ARCHIVE_BUCKET_NAME, result)
    # This record sends nothing: the batch's requeues must not wait for it while it waits for
    # the archive (which waits for every record, those requeueing included).
    await batch_invocation.sender().release(record_id)
    writer = _archives.get()
    if not await writer.submit(record_id, in_full):
        raise ActionNotDoneError(f"archive of {result.orderId} not written")
    logger.info("result archived", key=writer.key_of[id(in_full)])
    return Acted(OrderState.ARCHIVED)


async def _notify(result: ResultMessage, record_id: str, summary: str | None = None) -> Acted:
    chat = await asyncio.to_thread(telegram.chat_for, result.userId)
    if chat is None:  # nowhere to notify: keep the result rather than drop it
        logger.warning("no Telegram chat for user; archiving instead", user_id=result.userId)
        metrics.add_metric(name="NotificationsWithoutChat", unit=MetricUnit.Count, value=1)
        return await _archive(result, record_id)
    await asyncio.to_thread(telegram.send, chat, telegram.message_text(result, summary), _deadline())
    return Acted(OrderState.NOTIFIED)


async def _enhance(result: ResultMessage, record_id: str) -> Acted:
    prompt = f"Explain this {result.taskType} result for a busy reader: {result.result.summary or ''}"
    enhanced = await asyncio.to_thread(complete, prompt, _deadline())
    return await _notify(result, record_id, enhanced)


def _attempt_of(record: SQSRecord) -> int | None:
    """The attempt (retryCount) the result is of, from the worker's message attribute."""
    attribute = record.message_attributes[RETRY_COUNT_ATTRIBUTE]
    value = attribute.string_value if attribute else None
    return int(value) if value and value.isdecimal() else None


async def _requeue(result: ResultMessage, record: SQSRecord, order_record: dict[str, Any] | None) -> Acted:
    if not order_record or "order" not in order_record:
        return await _escalate(result, "requeue asked, but the original order is unknown")
    failed_attempt = OrderMessage.model_validate_json(order_record["order"]["S"])
    attempt = _attempt_of(record)
    if attempt is not None and attempt < (failed_attempt.retryCount or 0):
        # A later attempt was requeued already (this result came again, from an earlier
        # delivery): requeueing from it would skip or double an attempt.
        logger.info("result of an earlier attempt; its requeue was done", attempt=attempt)
        return Acted(OrderState.REQUEUED)
    retry = next_attempt(failed_attempt, result)
    if retry is None:
        return await _escalate(result, f"retries spent after {failed_attempt.retryCount or 0} retries")
    message = requeue_message(failed_attempt, retry, REQUEUE_BASE_DELAY_SECONDS, record.message_id)
    await _archives.get().release(record.message_id)  # archives nothing: the archive need not wait for it
    if not await batch_invocation.sender().send(message):
        raise ActionNotDoneError(f"requeue of {result.orderId} not accepted by SQS")
    return Acted(OrderState.REQUEUED, retry)


async def _act(result: ResultMessage, record: SQSRecord, order_record: dict[str, Any] | None) -> Acted:
    match result.followUpAction:
        case FollowUpAction.NOTIFY:
            return await _notify(result, record.message_id)
        case FollowUpAction.ENHANCE:
            return await _enhance(result, record.message_id)
        case FollowUpAction.REQUEUE:
            return await _requeue(result, record, order_record)
        case FollowUpAction.ESCALATE:
            return await _escalate(result, "the worker asked for escalation")
        case _:  # archive, or no action given
            return await _archive(result, record.message_id)


def act_key(body: str) -> str:
    """What identifies a result for acting on it once: its body (the worker sends a stored
    result again byte for byte)."""
    return hashlib.sha256(body.encode()).hexdigest()[:32]


async def _handle(record: SQSRecord) -> None:
    result = ResultMessage.model_validate_json(record.body)
    # Per record: the records of a batch run as concurrent tasks, each in its own context.
    logger.thread_safe_append_keys(order_id=result.orderId, correlation_id=result.correlationId or result.orderId)
    key = act_key(record.body)
    if key in _taken_on.get():
        return  # the same result twice in one batch (a worker's copy): one record acts for both
    _taken_on.get().add(key)
    order_record = await asyncio.to_thread(records.item, result.orderId)
    if records.has_acted(order_record, key):
        return  # acted on before, and the order's state with it (one write)
    if records.has_ended(order_record):
        # Another result of the order ended it (a late copy, or a cancelled attempt's result
        # behind the result of the attempt that then ran): nothing more happens to it.
        logger.info("the order has ended; result not acted on", status=order_record["status"]["S"])
        return
    acted = await _act(result, record, order_record)
    # The act and the order's new state together; a delivery that died between the act and
    # this write acts again on redelivery (at least once, like any call without a key).
    await asyncio.to_thread(records.record_act, result.orderId, key, acted.state, acted.retry)
    metrics.add_metric(name=f"FollowUp{(result.followUpAction or 'archive').title()}", unit=MetricUnit.Count, value=1)


async def record_handler(record: SQSRecord) -> None:
    try:
        await _handle(record)
    except Exception as failure:
        if FIFO_QUEUES and isinstance(failure, ValidationError):
            await asyncio.to_thread(dead_letters.return_now, sqs, RESULT_QUEUE_URL, record)
        await asyncio.to_thread(dead_letters.record_failed, record, failure, MAX_RECEIVE_COUNT, records)
        raise
    finally:  # whatever this record did, the batch's requeues and archive go out without it
        await batch_invocation.sender().release(record.message_id)
        await _archives.get().release(record.message_id)


def _begin(records_in_batch: int, remaining_millis: int) -> None:
    batch_invocation.begin(sqs, ORDER_QUEUE_URL, records_in_batch, remaining_millis)
    _archives.set(ArchiveWriter(s3, ARCHIVE_BUCKET_NAME, expected=records_in_batch))
    _taken_on.set(set())


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
