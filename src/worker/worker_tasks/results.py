"""From a task's outcome to the ResultMessage feedback acts on.

Follow-up rules (documented in the README):
- success or partial: `payload.configuration.followUpAction` if it is notify, enhance or
  archive; otherwise archive;
- failure, timeout or rate-limited: requeue while `retryCount` < `retryPolicy.maxRetries`
  (default 3), then escalate; a failure that is not retryable (the task's URL resolves to
  a refused address, or a LinkedIn post's outcome is unknown: worker_tasks.outcome) is
  escalated at once;
- cancelled (the task never started for lack of time): requeue; feedback does not count
  it as an attempt.

Data that would not fit the message (over the contract's 256,000 bytes for `result.size`,
or a message over the result queue's 256 KiB) is stored in S3 and the message carries
`result.dataPointer` instead (automation_shared.result_payloads); nothing is cut.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from automation_shared.contracts import (
    FollowUpAction,
    OrderMessage,
    PayloadS3Pointer,
    QueueMetrics,
    ResultBody,
    ResultMessage,
    ResultMetadata,
    ResultStatus,
)
from automation_shared.limits import RESULT_MESSAGE_MAX_BYTES
from automation_shared.messages import result_message
from automation_shared.result_payloads import data_bytes
from automation_shared.retry_policy import retries_left

from .outcome import TaskOutcome

MAX_INLINE_DATA_BYTES = 256_000  # the contract's bound on result.size
RETRYABLE = frozenset({ResultStatus.FAILURE, ResultStatus.TIMEOUT, ResultStatus.RATE_LIMITED})
CHOSEN_ON_SUCCESS = frozenset({FollowUpAction.NOTIFY, FollowUpAction.ENHANCE, FollowUpAction.ARCHIVE})
# Price list used for the cost estimate (USD): Lambda arm64 per GB-second and per request,
# SQS per request (receive, delete and the result's send, each shared by a batch of 10).
LAMBDA_GB_SECOND = 0.0000133334
LAMBDA_REQUEST = 0.0000002
SQS_REQUESTS_PER_ORDER = 0.3
SQS_REQUEST = 0.0000004


def follow_up_action(order: OrderMessage, status: ResultStatus, *, retryable: bool = True) -> FollowUpAction:
    if status is ResultStatus.CANCELLED:
        return FollowUpAction.REQUEUE
    if status in RETRYABLE:
        return FollowUpAction.REQUEUE if retryable and retries_left(order) else FollowUpAction.ESCALATE
    requested = (order.payload.configuration or {}).get("followUpAction")
    if requested in {a.value for a in CHOSEN_ON_SUCCESS}:
        return FollowUpAction(requested)
    return FollowUpAction.ARCHIVE


def estimated_cost(duration_ms: float, memory_mb: int) -> float:
    compute = duration_ms / 1000 * memory_mb / 1024 * LAMBDA_GB_SECOND
    return round(compute + LAMBDA_REQUEST / 10 + SQS_REQUESTS_PER_ORDER * SQS_REQUEST, 10)


def build_result(
    order: OrderMessage,
    outcome: TaskOutcome,
    *,
    started_ms: float,
    finished_ms: float,
    sent_ms: float,
    first_received_ms: float,
    memory_mb: int,
    node: str,
    store_data: Callable[[bytes], PayloadS3Pointer],
    at: datetime | None = None,
) -> ResultMessage:
    """The attempt's result; `store_data` keeps data too large for the message (in S3) and
    is called only then; `at`: the result's timestamp (default now)."""
    metadata = ResultMetadata(
        processingNode=node, performanceMetrics={"durationMs": round(finished_ms - started_ms, 1)}
    )
    if outcome.error is not None:  # the contract refuses null: absent when there is no error
        metadata.errorDetails = outcome.error
    result = ResultMessage(
        orderId=order.orderId,
        correlationId=order.correlationId or order.orderId,
        taskType=order.taskType.value,
        status=outcome.status,
        result=ResultBody(summary=outcome.summary[:1000], metadata=metadata),
        processingTime=round(finished_ms - started_ms, 1),
        timestamp=at or datetime.now(UTC),
        userId=order.userId,
        followUpAction=follow_up_action(order, outcome.status, retryable=outcome.retryable),
        priority=order.priority,
        cost=estimated_cost(finished_ms - started_ms, memory_mb),
        queueMetrics=QueueMetrics(
            queueTime=max(0.0, started_ms - sent_ms), processingDelay=max(0.0, started_ms - first_received_ms)
        ),
    )
    data = data_bytes(outcome.data)
    if len(data) <= MAX_INLINE_DATA_BYTES:
        inline = _with_body(result, data=outcome.data, size=float(len(data)))
        if result_message(inline, message_id="", retry_count=order.retryCount or 0).size <= RESULT_MESSAGE_MAX_BYTES:
            return inline
    return _with_body(result, dataPointer=store_data(data))


def _with_body(result: ResultMessage, **fields: Any) -> ResultMessage:
    return result.model_copy(update={"result": result.result.model_copy(update=fields)})
