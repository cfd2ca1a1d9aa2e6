"""An order's retries: how many (`payload.retryPolicy.maxRetries`, default 3), the attempt
after a failed one, and the backoff before it. The worker decides with it whether a failure
is requeued or escalated; standard mode's feedback sends the retry, and on FIFO queues the
worker holds the failed message in its group for the backoff (README, "FIFO mode").

`backoff = min(900, base * backoffMultiplier ** retryCount)` seconds: 900 is SQS's most
DelaySeconds, and FIFO mode keeps the same bound on the visibility it sets instead.
"""

from __future__ import annotations

from .contracts import OrderMessage, ResultMessage, ResultStatus

MAX_BACKOFF_SECONDS = 900  # SQS's limit for DelaySeconds
DEFAULT_BACKOFF = 2.0
DEFAULT_MAX_RETRIES = 3


def max_retries(order: OrderMessage) -> int:
    policy = order.payload.retryPolicy
    return policy.maxRetries if policy and policy.maxRetries is not None else DEFAULT_MAX_RETRIES


def retries_left(order: OrderMessage) -> bool:
    return (order.retryCount or 0) < max_retries(order)


def next_attempt(order: OrderMessage, result: ResultMessage) -> OrderMessage | None:
    """The order to run again, or None when its retries are spent. A `cancelled` result
    (the task never started) is the same attempt again: it counts no retry."""
    if result.status is ResultStatus.CANCELLED:
        return order
    if not retries_left(order):
        return None
    return order.model_copy(update={"retryCount": (order.retryCount or 0) + 1})


def backoff_seconds(failed_attempt: OrderMessage, base_seconds: float) -> int:
    """Backoff from the attempt that just failed: base, base * m, base * m**2, ..."""
    policy = failed_attempt.payload.retryPolicy
    backoff = policy.backoffMultiplier if policy and policy.backoffMultiplier is not None else DEFAULT_BACKOFF
    return int(min(MAX_BACKOFF_SECONDS, base_seconds * backoff ** (failed_attempt.retryCount or 0)))
