"""DLQ redrive: a dead-letter queue's messages back to their source queue.

On AWS this is `StartMessageMoveTask` (SQS moves the messages itself, to the queue each
came from). Where the endpoint does not offer that API (the embedded emulator answers
500), the messages are moved by hand: receive, send to the source, then delete from the
DLQ. A journal of the DLQ message ids already sent makes that safe to interrupt: a
message sent but not yet deleted is only deleted on the next run, never sent twice; a
message is deleted only after the source queue took it, so none is lost. (Between the
send and the journal's write a crash could still send one message twice; the consumers
are idempotent, so that would cost one extra read.)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

UNSUPPORTED_CODES = {"InvalidAction", "UnsupportedOperation", "AWS.SimpleQueueService.UnsupportedOperation", "500"}
RECEIVE_VISIBILITY_SECONDS = 60


@dataclass
class RedriveReport:
    method: str  # "StartMessageMoveTask" or "receive-send-delete"
    moved: int = 0
    task_handle: str | None = None
    note: str = ""


def _queue_arn(sqs: Any, queue_url: str) -> str:
    return str(sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"])


def _start_move_task(sqs: Any, dead_letter_queue_url: str) -> RedriveReport | None:
    """The AWS way; None where the endpoint lacks the API."""
    arn = _queue_arn(sqs, dead_letter_queue_url)
    try:
        answer = sqs.start_message_move_task(SourceArn=arn)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in UNSUPPORTED_CODES:
            return None
        raise
    return RedriveReport("StartMessageMoveTask", task_handle=answer["TaskHandle"])


class _Journal:
    """DLQ message ids already sent to the source queue, one per line, flushed each time."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sent = set(path.read_text().split()) if path.exists() else set()

    def record(self, message_ids: list[str]) -> None:
        with self.path.open("a") as journal:
            journal.write("".join(f"{i}\n" for i in message_ids))
            journal.flush()
        self.sent.update(message_ids)

    def close(self) -> None:
        self.path.unlink(missing_ok=True)


def _attributes_to_send(message: dict[str, Any]) -> dict[str, Any]:
    return {
        name: {k: v for k, v in value.items() if k in ("DataType", "StringValue", "BinaryValue")}
        for name, value in message.get("MessageAttributes", {}).items()
    }


def move_by_hand(sqs: Any, dead_letter_queue_url: str, source_queue_url: str, journal_path: Path) -> int:
    """Receive, send to the source, record, delete; returns the number of messages moved."""
    journal = _Journal(journal_path)
    moved = 0
    while True:
        messages = sqs.receive_message(
            QueueUrl=dead_letter_queue_url,
            MaxNumberOfMessages=10,
            VisibilityTimeout=RECEIVE_VISIBILITY_SECONDS,
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            break
        to_send = [m for m in messages if m["MessageId"] not in journal.sent]
        sent_ids: list[str] = []
        if to_send:
            answer = sqs.send_message_batch(
                QueueUrl=source_queue_url,
                Entries=[
                    {
                        "Id": str(index),
                        "MessageBody": m["Body"],
                        **({"MessageAttributes": _attributes_to_send(m)} if m.get("MessageAttributes") else {}),
                    }
                    for index, m in enumerate(to_send)
                ],
            )
            sent_ids = [to_send[int(entry["Id"])]["MessageId"] for entry in answer.get("Successful", [])]
            journal.record(sent_ids)
            moved += len(sent_ids)
        deletable = [m for m in messages if m["MessageId"] in journal.sent]
        if deletable:
            sqs.delete_message_batch(
                QueueUrl=dead_letter_queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(deletable)],
            )
    journal.close()
    return moved


def redrive(sqs: Any, dead_letter_queue_url: str, source_queue_url: str, journal_dir: Path) -> RedriveReport:
    """Move every message of the DLQ back to the source queue."""
    started = _start_move_task(sqs, dead_letter_queue_url)
    if started is not None:
        return started
    name = dead_letter_queue_url.rstrip("/").rsplit("/", 1)[-1]
    moved = move_by_hand(sqs, dead_letter_queue_url, source_queue_url, journal_dir / f"redrive-{name}.journal")
    return RedriveReport(
        "receive-send-delete",
        moved=moved,
        note="this endpoint has no StartMessageMoveTask (the emulator): moved by receive, send, delete",
    )


def report_json(report: RedriveReport) -> str:
    return json.dumps(report.__dict__)
