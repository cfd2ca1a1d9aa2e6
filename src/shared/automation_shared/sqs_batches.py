"""SendMessageBatch for any number of messages: 10 entries a call, failures reported by id."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from .messages import OutgoingMessage

MAX_ENTRIES = 10
MAX_BATCH_BYTES = 256 * 1024  # keeps every call within SQS's batch payload limit


def _chunks(messages: Sequence[OutgoingMessage]) -> Iterator[list[OutgoingMessage]]:
    chunk: list[OutgoingMessage] = []
    size = 0
    for message in messages:
        message_size = len(message.body.encode()) + sum(len(k) + len(v) for k, v in message.attributes.items())
        if chunk and (len(chunk) == MAX_ENTRIES or size + message_size > MAX_BATCH_BYTES):
            yield chunk
            chunk, size = [], 0
        chunk.append(message)
        size += message_size
    if chunk:
        yield chunk


def send_batches(sqs: Any, queue_url: str, messages: Sequence[OutgoingMessage]) -> set[str]:
    """Sends every message; returns the ids of those SQS did not accept (none lost silently)."""
    failed: set[str] = set()
    for chunk in _chunks(messages):
        entries = [message.batch_entry(str(index)) for index, message in enumerate(chunk)]
        try:
            response = sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)
        except (BotoCoreError, ClientError):
            failed.update(message.id for message in chunk)
            continue
        failed.update(chunk[int(entry["Id"])].id for entry in response.get("Failed", []))
    return failed
