"""Queue messages as producers send them: body plus the message attributes consumers read."""

from __future__ import annotations

from dataclasses import dataclass, field

from .contracts import OrderMessage, ResultMessage


@dataclass(frozen=True)
class OutgoingMessage:
    """One SendMessageBatch entry. `id` is the caller's key for reporting failures back."""

    id: str
    body: str
    attributes: dict[str, str] = field(default_factory=dict)
    delay_seconds: int = 0

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
        # Never MessageDeduplicationId: standard queues reject it (deduplication is idempotency's job).
        return entry


def order_message(order: OrderMessage, *, message_id: str | None = None, delay_seconds: int = 0) -> OutgoingMessage:
    return OutgoingMessage(
        id=message_id or order.orderId,
        body=order.to_json(),
        attributes={
            "TaskType": order.taskType.value,
            "Priority": order.priority.value,
            "UserId": order.userId,
            "CorrelationId": order.correlationId or order.orderId,
        },
        delay_seconds=delay_seconds,
    )


# The attempt a result is of (the order's retryCount): the result contract has no field for
# it, and feedback must not requeue from a result older than the order's latest attempt.
RETRY_COUNT_ATTRIBUTE = "RetryCount"


def result_message(
    result: ResultMessage, *, message_id: str, retry_count: int | None = None, body: str | None = None
) -> OutgoingMessage:
    """`body`: the result's JSON when the caller has it already (a stored result is sent
    again byte for byte)."""
    attributes = {"Status": result.status.value, "TaskType": result.taskType}
    if retry_count is not None:
        attributes[RETRY_COUNT_ATTRIBUTE] = str(retry_count)
    if result.priority:
        attributes["Priority"] = result.priority.value
    if result.followUpAction:
        attributes["FollowUpAction"] = result.followUpAction.value
    return OutgoingMessage(id=message_id, body=body if body is not None else result.to_json(), attributes=attributes)
