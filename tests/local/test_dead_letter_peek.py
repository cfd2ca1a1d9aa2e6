"""Peeking at a DLQ (ops/dead_letter_peek.py) on the emulator: what it reads, what it leaves,
and that a reading that missed a message held by another reader is read again."""

from __future__ import annotations

import uuid

import pytest

from automation_local.aws.emulator import Emulator
from automation_local.ops.dead_letter_peek import DeadLetterPeek, peek

pytestmark = pytest.mark.slow


def _queue(emulator: Emulator, *bodies: str) -> str:
    sqs = emulator.client("sqs")
    url = str(sqs.create_queue(QueueName=f"peeked-{uuid.uuid4().hex[:8]}")["QueueUrl"])
    for body in bodies:
        sqs.send_message(
            QueueUrl=url, MessageBody=body, MessageAttributes={"kind": {"DataType": "String", "StringValue": "test"}}
        )
    return url


def test_a_peek_reads_every_body_with_its_receive_count_and_leaves_the_messages_visible(emulator: Emulator) -> None:
    # GIVEN a queue of two messages
    url = _queue(emulator, "first", "second")
    # WHEN it is peeked twice
    peek(emulator.client("sqs"), url)
    reading = peek(emulator.client("sqs"), url)
    # THEN each body is read with its attributes, each peek counted in its receive count,
    # and the messages are visible again at once
    assert reading.complete
    assert sorted(m.body for m in reading.messages) == ["first", "second"]
    assert {m.receive_count for m in reading.messages} == {2}
    assert {m.attributes["kind"] for m in reading.messages} == {"test"}
    received = emulator.client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    assert len(received) == 2


def test_a_reading_that_missed_a_held_message_is_not_kept(emulator: Emulator) -> None:
    # GIVEN a queue of two messages, one of them held by another reader for a moment
    sqs = emulator.client("sqs")
    url = _queue(emulator, "held", "free")
    held = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, VisibilityTimeout=60)["Messages"][0]
    dead_letters = DeadLetterPeek(sqs, url)
    # WHEN it is peeked, then the holder lets go (the queue's depth unchanged), and it is looked at again
    first = dead_letters.messages()
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=held["ReceiptHandle"], VisibilityTimeout=0)
    second = dead_letters.messages()
    # THEN the first look saw one, and the second reads again and sees both (a kept gap
    # would hide the held order's DLQ copy for as long as the depth stayed the same)
    assert [m.body for m in first] == ["free"]
    assert sorted(m.body for m in second) == ["free", "held"]
    # AND a complete reading is kept while the depth stays the same (no receive in between)
    counts = {m.body: m.receive_count for m in second}
    assert {m.body: m.receive_count for m in dead_letters.messages()} == counts
