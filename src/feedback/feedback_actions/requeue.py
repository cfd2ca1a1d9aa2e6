"""requeue (standard queues): the original order again, one attempt later, delayed by its
backoff (automation_shared.retry_policy).

The result does not carry the order, so it is read from the order's status record. On FIFO
queues the worker holds a failed order in its group instead (its retry keeps the user's
order); a requeue result reaches feedback there only once the retries are spent (it is then
escalated), or from a worker of a standard deployment: it is then sent to the end of the
user's group, delay-free as FIFO queues require.
"""

from __future__ import annotations

from automation_shared.contracts import OrderMessage
from automation_shared.messages import OutgoingMessage, fifo_queues, order_message
from automation_shared.retry_policy import backoff_seconds


def requeue_message(
    failed_attempt: OrderMessage, retry: OrderMessage, base_seconds: float, message_id: str
) -> OutgoingMessage:
    return order_message(
        retry, message_id=message_id, delay_seconds=backoff_seconds(failed_attempt, base_seconds), fifo=fifo_queues()
    )
