"""One SendMessageBatch for the messages that concurrently running record handlers produce.

Each record handler of a batch either submits one message (and learns whether SQS took
it) or releases its place; the sender flushes every 10 messages and once every record
has submitted or released, so a batch of N records costs ceil(N / 10) calls, not N.
"""

from __future__ import annotations

import asyncio
from typing import Any

from .messages import OutgoingMessage
from .sqs_batches import MAX_ENTRIES, send_batches


class BatchedSender:
    def __init__(self, sqs: Any, queue_url: str, expected: int) -> None:
        self._sqs = sqs
        self._queue_url = queue_url
        self._waiting = expected  # records that have neither submitted nor released
        self._pending: list[tuple[OutgoingMessage, asyncio.Future[bool]]] = []
        self._settled: set[str] = set()

    async def send(self, message: OutgoingMessage) -> bool:
        """Queues the message for the next batch; True once SQS accepted it."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._pending.append((message, future))
        self._settle(message.id)
        await self._flush_if_due()
        return await future

    async def release(self, record_id: str) -> None:
        """The record sends nothing (it failed, or its result was sent before)."""
        self._settle(record_id)
        await self._flush_if_due()

    def _settle(self, record_id: str) -> None:
        if record_id not in self._settled:
            self._settled.add(record_id)
            self._waiting -= 1

    async def _flush_if_due(self) -> None:
        while self._pending and (len(self._pending) >= MAX_ENTRIES or self._waiting <= 0):
            chunk, self._pending = self._pending[:MAX_ENTRIES], self._pending[MAX_ENTRIES:]
            messages = [message for message, _ in chunk]
            failed = await asyncio.to_thread(send_batches, self._sqs, self._queue_url, messages)
            for message, future in chunk:
                future.set_result(message.id not in failed)
