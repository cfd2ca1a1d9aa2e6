"""What a dead-letter queue holds, read without taking it: every message received, then made
visible again at once (what the SQS console's "poll for messages" does).

A peek is a receive: SQS counts it in each message's ApproximateReceiveCount, and a message
another reader holds at that moment is not seen. So a reading is kept while the queue's
depth stays the same, and it is read again only when the depth changes; a reading that saw
fewer messages than the queue held (someone else held some) is not kept, so the next look
reads again rather than keep the gap.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import batched
from typing import Any

from automation_local.ops.queue_counts import queue_counts
from automation_shared.sqs_batches import MAX_ENTRIES as SQS_MAX_ENTRIES

PEEK_VISIBILITY_SECONDS = 30  # how long a peeked message would stay hidden if the peek died before its return


@dataclass(frozen=True)
class PeekedMessage:
    message_id: str
    body: str
    receive_count: int  # ApproximateReceiveCount, this peek's receive included
    sent_at_ms: int  # SentTimestamp: when it was first sent to the source queue
    attributes: dict[str, str]  # message attributes with a string value


@dataclass(frozen=True)
class Reading:
    depth: int  # the queue's messages (visible, in flight, delayed) when it was read
    messages: tuple[PeekedMessage, ...]

    @property
    def complete(self) -> bool:
        return len(self.messages) >= self.depth


def _string_attributes(message: dict[str, Any]) -> dict[str, str]:
    return {
        name: value["StringValue"]
        for name, value in message.get("MessageAttributes", {}).items()
        if "StringValue" in value
    }


def peek(sqs: Any, queue_url: str) -> Reading:
    """Every message the queue lets this reader see now, each made visible again at once."""
    depth = queue_counts(sqs, queue_url).total
    seen: dict[str, PeekedMessage] = {}
    handles: list[str] = []
    while True:
        messages = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=10,
            VisibilityTimeout=PEEK_VISIBILITY_SECONDS,
            AttributeNames=["ApproximateReceiveCount", "SentTimestamp"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            break
        for message in messages:
            handles.append(message["ReceiptHandle"])
            attributes = message.get("Attributes", {})
            seen[message["MessageId"]] = PeekedMessage(
                message["MessageId"],
                message["Body"],
                int(attributes.get("ApproximateReceiveCount", 0)),
                int(attributes.get("SentTimestamp", 0)),
                _string_attributes(message),
            )
    for batch in batched(handles, SQS_MAX_ENTRIES, strict=False):
        sqs.change_message_visibility_batch(
            QueueUrl=queue_url,
            Entries=[{"Id": str(i), "ReceiptHandle": h, "VisibilityTimeout": 0} for i, h in enumerate(batch)],
        )
    return Reading(depth, tuple(seen.values()))


class DeadLetterPeek:
    """One DLQ's messages, peeked again only when its depth changed (or the last peek missed some)."""

    def __init__(self, sqs: Any, queue_url: str) -> None:
        self._sqs = sqs
        self.queue_url = queue_url
        self._kept: Reading | None = None

    def depth(self) -> int:
        return queue_counts(self._sqs, self.queue_url).total

    def messages(self, *, again: bool = False) -> tuple[PeekedMessage, ...]:
        """`again`: peek even if the depth is the one last read (a user asked to look again)."""
        if not again and self._kept is not None and self._kept.depth == self.depth():
            return self._kept.messages
        reading = peek(self._sqs, self.queue_url)
        self._kept = reading if reading.complete else None
        return reading.messages
