"""A queue of the emulator stack as the tests use it: send, receive as a Lambda event, drain."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from automation_local.aws.emulator import Emulator
from automation_local.lambda_.esm.sqs_records import sqs_event
from automation_shared.messages import OutgoingMessage
from automation_shared.sqs_batches import send_batches


@dataclass
class Queue:
    emulator: Emulator
    url: str

    @property
    def _sqs(self) -> Any:
        return self.emulator.client("sqs")

    @property
    def arn(self) -> str:
        return self._sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

    def send(self, messages: list[OutgoingMessage]) -> None:
        assert send_batches(self._sqs, self.url, messages) == set()

    def send_raw(self, body: str, **fifo: str) -> None:
        """`fifo`: MessageGroupId and MessageDeduplicationId, on a FIFO queue."""
        self._sqs.send_message(QueueUrl=self.url, MessageBody=body, **fifo)

    def receive_now(self, most: int = 10) -> list[dict[str, Any]]:
        """What one receive returns now (all attributes), left in flight: maybe nothing."""
        return list(
            self._sqs.receive_message(
                QueueUrl=self.url,
                MaxNumberOfMessages=most,
                WaitTimeSeconds=0,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
        )

    def event(self, messages: list[dict[str, Any]]) -> dict[str, Any]:
        return sqs_event(messages, self.arn, self.emulator.region)

    def delete(self, messages: list[dict[str, Any]]) -> None:
        for message in messages:
            self._sqs.delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])

    def receive(self, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        """Exactly `count` messages (all attributes), received and left in flight."""
        messages: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while len(messages) < count and time.monotonic() < deadline:
            messages += self._sqs.receive_message(
                QueueUrl=self.url,
                MaxNumberOfMessages=min(10, count - len(messages)),
                WaitTimeSeconds=1,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
        assert len(messages) == count, f"expected {count} messages, got {len(messages)}"
        return messages

    def receive_event(self, count: int) -> dict[str, Any]:
        return self.event(self.receive(count))

    def drain(self) -> list[dict[str, Any]]:
        """Receives and deletes everything visible now (PurgeQueue is allowed once a minute)."""
        messages: list[dict[str, Any]] = []
        while batch := self._sqs.receive_message(
            QueueUrl=self.url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=0,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", []):
            messages += batch
            entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)]
            self._sqs.delete_message_batch(QueueUrl=self.url, Entries=entries)
        return messages


def emptied(emulator: Emulator, url: str) -> Queue:
    """The queue at `url`, drained: what a test's queue fixture hands it."""
    queue = Queue(emulator, url)
    queue.drain()
    return queue


SEND_MESSAGE_BATCH = "provide-client-params.sqs.SendMessageBatch"


@contextmanager
def counted_batches(sqs: Any) -> Iterator[list[int]]:
    """Entries per SendMessageBatch call the client makes while the block runs."""
    calls: list[int] = []

    def count(params: dict[str, Any], **_: Any) -> None:
        calls.append(len(params["Entries"]))

    sqs.meta.events.register(SEND_MESSAGE_BATCH, count)
    try:
        yield calls
    finally:
        sqs.meta.events.unregister(SEND_MESSAGE_BATCH, count)


@contextmanager
def refused_entries(sqs: Any, refuse: Callable[[int, dict[str, Any]], bool]) -> Iterator[None]:
    """SQS refuses the SendMessageBatch entries `refuse(index, entry)` picks: their invalid
    DelaySeconds is rejected per entry by the emulator, the other entries are sent."""

    def invalidate(params: dict[str, Any], **_: Any) -> None:
        for index, entry in enumerate(params["Entries"]):
            if refuse(index, entry):
                entry["DelaySeconds"] = 1000

    sqs.meta.events.register(SEND_MESSAGE_BATCH, invalidate)
    try:
        yield
    finally:
        sqs.meta.events.unregister(SEND_MESSAGE_BATCH, invalidate)
