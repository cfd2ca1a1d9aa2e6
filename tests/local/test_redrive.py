"""Redrive by hand (the emulator has no StartMessageMoveTask): nothing lost, nothing sent twice,
even when the move is interrupted between sending to the source and deleting from the DLQ."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from automation_local.emulator import Emulator
from automation_local.redrive import redrive

# The emulator answers StartMessageMoveTask with a 500, which botocore would retry with backoff.
ONE_ATTEMPT = {"mode": "standard", "max_attempts": 1}


class MoveInterruptedError(Exception):
    pass


def _queues(emulator: Emulator) -> tuple[str, str]:
    sqs = emulator.client("sqs")
    suffix = uuid.uuid4().hex[:8]
    source = sqs.create_queue(QueueName=f"source-{suffix}")["QueueUrl"]
    dead_letter = sqs.create_queue(QueueName=f"dlq-{suffix}", Attributes={"VisibilityTimeout": "0"})["QueueUrl"]
    return source, dead_letter


def _bodies(emulator: Emulator, url: str) -> list[str]:
    sqs, bodies = emulator.client("sqs"), []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=60).get(
        "Messages", []
    ):
        bodies += [m["Body"] for m in messages]
    return sorted(bodies)


def test_an_interrupted_redrive_resumes_without_loss_or_duplicates(emulator: Emulator, tmp_path: Path) -> None:
    # GIVEN a DLQ holding 15 messages
    source, dead_letter = _queues(emulator)
    sqs = emulator.client("sqs")
    sent = [f"message-{i:02}" for i in range(15)]
    for start in (0, 10):
        sqs.send_message_batch(
            QueueUrl=dead_letter, Entries=[{"Id": str(i), "MessageBody": b} for i, b in enumerate(sent[start:][:10])]
        )
    # WHEN the first run is interrupted right after its first batch reached the source queue
    interrupting = emulator.client("sqs", retries=ONE_ATTEMPT)

    def interrupt(**_: object) -> None:
        raise MoveInterruptedError

    interrupting.meta.events.register("before-call.sqs.DeleteMessageBatch", interrupt)
    with pytest.raises(MoveInterruptedError):
        redrive(interrupting, dead_letter, source, tmp_path)
    assert len(list(tmp_path.iterdir())) == 1, "the journal keeps what was sent"
    # AND a second run completes the move
    report = redrive(emulator.client("sqs", retries=ONE_ATTEMPT), dead_letter, source, tmp_path)
    # THEN every message is in the source queue exactly once, the DLQ is empty, the journal gone
    assert report.method == "receive-send-delete"
    assert _bodies(emulator, source) == sent
    assert _bodies(emulator, dead_letter) == []
    assert list(tmp_path.iterdir()) == []
