"""requeue: the original order again, one attempt later and delayed by its backoff.

The result does not carry the order, so it is read from the order's status record.
`DelaySeconds = min(900, base * backoffMultiplier ** retryCount)`; once `retryCount`
reaches `maxRetries` (default 3) the result is escalated instead. A `cancelled` result
(the task never started) is requeued without counting an attempt.
"""

from __future__ import annotations

from automation_shared.contracts import OrderMessage, ResultMessage, ResultStatus
from automation_shared.messages import OutgoingMessage, fifo_queues, order_message

MAX_DELAY_SECONDS = 900  # SQS's limit for DelaySeconds
DEFAULT_BACKOFF = 2.0
DEFAULT_MAX_RETRIES = 3


def next_attempt(order: OrderMessage, result: ResultMessage) -> OrderMessage | None:
    """The order to send again, or None when its retries are spent."""
    retry_count = order.retryCount or 0
    if result.status is ResultStatus.CANCELLED:
        return order
    policy = order.payload.retryPolicy
    max_retries = policy.maxRetries if policy and policy.maxRetries is not None else DEFAULT_MAX_RETRIES
    if retry_count >= max_retries:
        return None
    return order.model_copy(update={"retryCount": retry_count + 1})


def delay_seconds(failed_attempt: OrderMessage, base_seconds: float) -> int:
    """Backoff from the attempt that just failed: base, base * m, base * m**2, ..."""
    policy = failed_attempt.payload.retryPolicy
    backoff = policy.backoffMultiplier if policy and policy.backoffMultiplier is not None else DEFAULT_BACKOFF
    return int(min(MAX_DELAY_SECONDS, base_seconds * backoff ** (failed_attempt.retryCount or 0)))


def requeue_message(
    failed_attempt: OrderMessage, retry: OrderMessage, base_seconds: float, message_id: str
) -> OutgoingMessage:
    # FIFO (not yet order-keeping: the retry joins the end of its user's group; issue 13)
    return order_message(
        retry, message_id=message_id, delay_seconds=delay_seconds(failed_attempt, base_seconds), fifo=fifo_queues()
    )
