"""SendMessageBatch for any number of messages: 10 entries a call, failures reported by id."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from . import limits
from .messages import OutgoingMessage

MAX_ENTRIES = limits.SQS_BATCH_MAX_ENTRIES
# SQS's batch payload limit and message size limit were 256 KiB each until August 2025
# (now 1 MiB each). Both queues take messages of 256 KiB at most (limits.py: each must fit a
# DynamoDB item), so batches are kept to the same size: a message that fits one limit fits
# the other, and no call is refused for its size on any SQS, before or after the change.
MAX_MESSAGE_BYTES = max(limits.ORDER_MESSAGE_MAX_BYTES, limits.RESULT_MESSAGE_MAX_BYTES)
MAX_BATCH_BYTES = MAX_MESSAGE_BYTES


def _chunks(messages: Sequence[OutgoingMessage]) -> Iterator[list[OutgoingMessage]]:
    chunk: list[OutgoingMessage] = []
    size = 0
    for message in messages:
        if chunk and (len(chunk) == MAX_ENTRIES or size + message.size > MAX_BATCH_BYTES):
            yield chunk
            chunk, size = [], 0
        chunk.append(message)
        size += message.size
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
