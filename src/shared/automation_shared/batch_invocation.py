"""Per-invocation state of a queue consumer whose records run concurrently.

The records of one batch share a BatchedSender (their outgoing messages leave together)
and the invocation's deadline. Context variables rather than module globals: asyncio
tasks inherit them, and invocations run side by side in one process stay apart.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from .batched_sender import BatchedSender

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext

_sender: ContextVar[BatchedSender] = ContextVar("batch_sender")
_deadline: ContextVar[float] = ContextVar("invocation_deadline")
_length: ContextVar[float] = ContextVar("invocation_length")


def begin(sqs: Any, queue_url: str, records: int, remaining_millis: int) -> None:
    """Called by the handler before its `records` are processed."""
    _sender.set(BatchedSender(sqs, queue_url, expected=records))
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


def one_at_a_time(
    record_handler: Callable[[SQSRecord], Coroutine[Any, Any, None]], begin_records: Callable[[int, int], None]
) -> Callable[[SQSRecord, LambdaContext], None]:
    """FIFO queues: `record_handler` as Powertools' SqsFifoPartialProcessor calls a handler,
    one record after another in the batch's order (it has no async form), each run to its
    end before the next begins: a user's second result is acted on only once the first one
    is. `begin_records(1, millis_left)` sets each record up as a batch of its own, since the
    batch's gatherings would wait for records that have not started."""

    def handle_in_order(record: SQSRecord, lambda_context: LambdaContext) -> None:
        begin_records(1, lambda_context.get_remaining_time_in_millis())
        asyncio.run(record_handler(record))

    return handle_in_order
