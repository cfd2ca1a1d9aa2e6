"""How many messages a queue holds, as SQS counts them: visible, in flight (received and not
yet deleted or returned) and delayed (sent with a delay not yet over)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

COUNT_ATTRIBUTES = {
    "visible": "ApproximateNumberOfMessages",
    "in_flight": "ApproximateNumberOfMessagesNotVisible",
    "delayed": "ApproximateNumberOfMessagesDelayed",
}


@dataclass(frozen=True)
class QueueCounts:
    visible: int
    in_flight: int
    delayed: int

    @property
    def total(self) -> int:
        """0 only when the queue holds nothing at all."""
        return self.visible + self.in_flight + self.delayed


def queue_counts(sqs: Any, queue_url: str) -> QueueCounts:
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=list(COUNT_ATTRIBUTES.values()))[
        "Attributes"
    ]
    return QueueCounts(**{field: int(attributes.get(name, 0)) for field, name in COUNT_ATTRIBUTES.items()})
