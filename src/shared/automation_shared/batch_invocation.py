"""Per-invocation state of a queue consumer whose records run concurrently.

The records of one batch share a BatchedSender (their outgoing messages leave together)
and the invocation's deadline. Context variables rather than module globals: asyncio
tasks inherit them, and invocations run side by side in one process stay apart.
"""

from __future__ import annotations

import time
from contextvars import ContextVar
from typing import Any

from .batched_sender import BatchedSender

_sender: ContextVar[BatchedSender] = ContextVar("batch_sender")
_deadline: ContextVar[float] = ContextVar("invocation_deadline")
_length: ContextVar[float] = ContextVar("invocation_length")


def begin(sqs: Any, queue_url: str, event: dict[str, Any], remaining_millis: int) -> None:
    """Called by the handler before the batch is processed."""
    _sender.set(BatchedSender(sqs, queue_url, expected=len(event.get("Records", []))))
    _deadline.set(time.monotonic() + remaining_millis / 1000)
    _length.set(remaining_millis / 1000)


def sender() -> BatchedSender:
    return _sender.get()


def deadline() -> float:
    """When the invocation ends, on the time.monotonic() clock."""
    return _deadline.get()


def work_deadline(margin_seconds: float) -> float:
    """The deadline less the time kept back for sending and reporting: `margin_seconds`, or
    a fifth of the invocation when that is less, so short timeouts keep time for work."""
    return _deadline.get() - min(margin_seconds, _length.get() / 5)


def millis_left() -> int:
    return max(0, int((_deadline.get() - time.monotonic()) * 1000))
