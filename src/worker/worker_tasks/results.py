"""From a task's outcome to the ResultMessage feedback acts on.

Follow-up rules (documented in the README):
- success or partial: `payload.configuration.followUpAction` if it is notify, enhance or
  archive; otherwise archive;
- failure, timeout or rate-limited: requeue while `retryCount` < `retryPolicy.maxRetries`
  (default 3), then escalate;
- cancelled (the task never started for lack of time): requeue; feedback does not count
  it as an attempt.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from automation_shared.contracts import (
    FollowUpAction,
    OrderMessage,
    QueueMetrics,
    ResultBody,
    ResultMessage,
    ResultMetadata,
    ResultStatus,
)

from .outcome import TaskOutcome

DEFAULT_MAX_RETRIES = 3
MAX_RESULT_DATA_BYTES = 200_000  # under the contract's 256000, leaving room for the rest
RETRYABLE = frozenset({ResultStatus.FAILURE, ResultStatus.TIMEOUT, ResultStatus.RATE_LIMITED})
CHOSEN_ON_SUCCESS = frozenset({FollowUpAction.NOTIFY, FollowUpAction.ENHANCE, FollowUpAction.ARCHIVE})
# Price list used for the cost estimate (USD): Lambda arm64 per GB-second and per request,
# SQS per request (receive, delete and the result's send, each shared by a batch of 10).
LAMBDA_GB_SECOND = 0.0000133334
LAMBDA_REQUEST = 0.0000002
SQS_REQUESTS_PER_ORDER = 0.3
SQS_REQUEST = 0.0000004


def max_retries(order: OrderMessage) -> int:
    policy = order.payload.retryPolicy
    return policy.maxRetries if policy and policy.maxRetries is not None else DEFAULT_MAX_RETRIES


def follow_up_action(order: OrderMessage, status: ResultStatus) -> FollowUpAction:
    if status is ResultStatus.CANCELLED:
        return FollowUpAction.REQUEUE
    if status in RETRYABLE:
        return FollowUpAction.REQUEUE if (order.retryCount or 0) < max_retries(order) else FollowUpAction.ESCALATE
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
) -> ResultMessage:
    data = outcome.data
    data_size = len(json.dumps(data, default=str).encode())
    if data_size > MAX_RESULT_DATA_BYTES:  # the contract's bound on result.size
        data, data_size = {"truncated": True, "originalSize": data_size}, 0
    metadata = ResultMetadata(
        processingNode=node, performanceMetrics={"durationMs": round(finished_ms - started_ms, 1)}
    )
    if outcome.error is not None:  # the contract refuses null: absent when there is no error
        metadata.errorDetails = outcome.error
    return ResultMessage(
        orderId=order.orderId,
        correlationId=order.correlationId or order.orderId,
        taskType=order.taskType.value,
        status=outcome.status,
        result=ResultBody(data=data, summary=outcome.summary[:1000], metadata=metadata, size=float(data_size)),
        processingTime=round(finished_ms - started_ms, 1),
        timestamp=datetime.now(UTC),
        userId=order.userId,
        followUpAction=follow_up_action(order, outcome.status),
        priority=order.priority,
        cost=estimated_cost(finished_ms - started_ms, memory_mb),
        queueMetrics=QueueMetrics(
            queueTime=max(0.0, started_ms - sent_ms), processingDelay=max(0.0, started_ms - first_received_ms)
        ),
    )
