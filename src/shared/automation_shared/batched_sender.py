"""What concurrently running record handlers produce, written together: one SendMessageBatch
for their outgoing messages (BatchedSender), one S3 object for their archive entries (see
feedback_actions/archive.py).

Each record handler of a batch either submits one item (and learns whether it was written)
or releases its place; a gathering writes what it holds every `flush_every` items and once
every record has submitted or released, so a batch of N records costs ceil(N /
flush_every) calls (one, without a bound), not N.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from .messages import OutgoingMessage
from .sqs_batches import MAX_ENTRIES, send_batches


class BatchGathering[Item]:
    """Subclasses say how to write a list of items (`_write`, in a worker thread)."""

    flush_every: int | None = None  # write at this many items as well (None: only at the end)

    def __init__(self, expected: int) -> None:
        self._waiting = expected  # records that have neither submitted nor released
        self._pending: list[tuple[Item, asyncio.Future[bool]]] = []
        self._settled: set[str] = set()

    def _write(self, items: Sequence[Item]) -> set[int]:
        """Writes the items; returns the indexes of those not written."""
        raise NotImplementedError

    async def submit(self, record_id: str, item: Item) -> bool:
        """Queues the item for the next write; True once it is written."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        self._settle(record_id)
        await self._flush_if_due()
        return await future

    async def release(self, record_id: str) -> None:
        """The record writes nothing here (it failed, did something else, or was done before)."""
        self._settle(record_id)
        await self._flush_if_due()

    def _settle(self, record_id: str) -> None:
        if record_id not in self._settled:
            self._settled.add(record_id)
            self._waiting -= 1

    def _due(self) -> bool:
        """Every record is in (or out), or a bounded gathering holds a full chunk."""
        if not self._pending:
            return False
        return self._waiting <= 0 or (self.flush_every is not None and len(self._pending) >= self.flush_every)

    async def _flush_if_due(self) -> None:
        while self._due():
            size = self.flush_every or len(self._pending)
            chunk, self._pending = self._pending[:size], self._pending[size:]
            try:
                failed = await asyncio.to_thread(self._write, [item for item, _ in chunk])
            except Exception:  # nothing of this chunk is known to be written: each record fails alone
                failed = set(range(len(chunk)))
            for index, (_, future) in enumerate(chunk):
                future.set_result(index not in failed)


class BatchedSender(BatchGathering[OutgoingMessage]):
    """One SendMessageBatch for the messages of a batch's records, 10 entries a call."""

    flush_every = MAX_ENTRIES

    def __init__(self, sqs: Any, queue_url: str, expected: int) -> None:
        super().__init__(expected)
        self._sqs = sqs
        self._queue_url = queue_url

    async def send(self, message: OutgoingMessage) -> bool:
        """Queues the message for the next batch; True once SQS accepted it."""
        return await self.submit(message.id, message)

    def _write(self, items: Sequence[OutgoingMessage]) -> set[int]:
        failed = send_batches(self._sqs, self._queue_url, items)
        return {index for index, message in enumerate(items) if message.id in failed}
