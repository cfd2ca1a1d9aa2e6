"""Queue messages as producers send them: body plus the message attributes consumers read,
and on FIFO queues (QUEUE_TYPE=fifo) the group and deduplication ids.

On FIFO queues a user's messages are one group (`MessageGroupId` = userId), so a user's
orders and results are handled in order; `MessageDeduplicationId` names the message, never
its content: an order's first attempt by its `deduplicationId` (or `orderId`), a later one
and each result by the order and attempt. Standard queues get neither (they refuse them).
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field

from .contracts import OrderMessage, ResultMessage


@dataclass(frozen=True)
class OutgoingMessage:
    """One SendMessageBatch entry. `id` is the caller's key for reporting failures back."""

    id: str
    body: str
    attributes: dict[str, str] = field(default_factory=dict)
    delay_seconds: int = 0
    group_id: str | None = None  # FIFO only
    deduplication_id: str | None = None  # FIFO only

    def __post_init__(self) -> None:
        if self.group_id is not None and self.delay_seconds:
            raise ValueError("FIFO queues take no per-message delay")

    @property
    def size(self) -> int:
        """Bytes SQS counts against its message size limit: the body, and each attribute's
        name, data type and value."""
        attributes = (
            len(name.encode()) + len("String") + len(value.encode()) for name, value in self.attributes.items()
        )
        return len(self.body.encode()) + sum(attributes)

    def batch_entry(self, entry_id: str) -> dict[str, object]:
        entry: dict[str, object] = {
            "Id": entry_id,
            "MessageBody": self.body,
            "MessageAttributes": {k: {"DataType": "String", "StringValue": v} for k, v in self.attributes.items()},
        }
        if self.delay_seconds:
            entry["DelaySeconds"] = self.delay_seconds
        # Only on FIFO queues: standard queues reject both (deduplication is idempotency's job there).
        if self.group_id is not None:
            entry["MessageGroupId"] = self.group_id
        if self.deduplication_id is not None:
            entry["MessageDeduplicationId"] = self.deduplication_id
        return entry


def fifo_queues() -> bool:
    """Whether this stack's queues are FIFO (the template's QueueType, as QUEUE_TYPE)."""
    return os.environ.get("QUEUE_TYPE", "standard") == "fifo"


# What SQS takes as a MessageGroupId or MessageDeduplicationId: 1-128 of these characters.
_FIFO_ID = re.compile(r"""[A-Za-z0-9!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~]{1,128}""")


def fifo_id(text: str) -> str:
    """`text` where SQS takes it as a FIFO id; a digest of it where not (a userId with spaces
    or accents, say): the same text always gives the same id."""
    return text if _FIFO_ID.fullmatch(text) else hashlib.sha256(text.encode()).hexdigest()


def _attempt_id(order_id: str, retry_count: int | None) -> str:
    return fifo_id(f"{order_id}:{retry_count or 0}")


def order_message(
    order: OrderMessage, *, message_id: str | None = None, delay_seconds: int = 0, fifo: bool = False
) -> OutgoingMessage:
    """`fifo`: for a FIFO order queue (no delay there: a FIFO retry waits in its group)."""
    first_attempt = not order.retryCount
    deduplication = (
        (order.deduplicationId or order.orderId) if first_attempt else _attempt_id(order.orderId, order.retryCount)
    )
    return OutgoingMessage(
        id=message_id or order.orderId,
        body=order.to_json(),
        attributes={
            "TaskType": order.taskType.value,
            "Priority": order.priority.value,
            "UserId": order.userId,
            "CorrelationId": order.correlationId or order.orderId,
        },
        delay_seconds=0 if fifo else delay_seconds,
        group_id=fifo_id(order.userId) if fifo else None,
        deduplication_id=fifo_id(deduplication) if fifo else None,
    )


# The attempt a result is of (the order's retryCount): the result contract has no field for
# it, and feedback must not requeue from a result older than the order's latest attempt.
RETRY_COUNT_ATTRIBUTE = "RetryCount"


def result_message(
    result: ResultMessage,
    *,
    message_id: str,
    retry_count: int | None = None,
    body: str | None = None,
    fifo: bool = False,
) -> OutgoingMessage:
    """`body`: the result's JSON when the caller has it already (a stored result is sent
    again byte for byte, and on a FIFO queue deduplicated as the same attempt's)."""
    attributes = {"Status": result.status.value, "TaskType": result.taskType}
    if retry_count is not None:
        attributes[RETRY_COUNT_ATTRIBUTE] = str(retry_count)
    if result.priority:
        attributes["Priority"] = result.priority.value
    if result.followUpAction:
        attributes["FollowUpAction"] = result.followUpAction.value
    return OutgoingMessage(
        id=message_id,
        body=body if body is not None else result.to_json(),
        attributes=attributes,
        group_id=fifo_id(result.userId or result.orderId) if fifo else None,
        deduplication_id=_attempt_id(result.orderId, retry_count) if fifo else None,
    )
