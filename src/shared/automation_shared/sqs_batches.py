"""SendMessageBatch for any number of messages: 10 entries a call, failures reported by id."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from .messages import OutgoingMessage

MAX_ENTRIES = 10
# SQS's batch payload limit and message size limit were 256 KiB each until August 2025
# (now 1 MiB each); the result queue sets its MaximumMessageSize to this (template.yaml), and
# the worker keeps each result within it (result data beyond it goes to S3): a message
# that fits one limit fits the other, so no call is ever refused for its size.
MAX_MESSAGE_BYTES = 256 * 1024
MAX_BATCH_BYTES = 256 * 1024


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
