"""DLQ redrive: a dead-letter queue's messages back to their source queue.

On AWS this is `StartMessageMoveTask` (SQS moves the messages itself, to the queue each
came from). Where the endpoint does not offer that API (the embedded emulator answers
500), the messages are moved by hand: receive, send to the source, then delete from the
DLQ, with a journal of the DLQ message ids already sent, so that no message is lost and
none is sent twice:

- a message is deleted only after the source queue took it, so none is lost;
- every entry DeleteMessageBatch reports as failed is deleted again (a few attempts); one
  still there later is in the journal, so it is deleted, not sent again, when it comes
  back (later in the same run, or in the next one);
- receives long-poll (WaitTimeSeconds): a standard queue's short-polled receive asks only
  some of its servers and may answer nothing while messages remain. The move ends when a
  receive waited and found nothing and the DLQ's approximate counts (visible, in flight,
  delayed) are all 0, or when nothing could be sent or deleted for longer than a received
  message stays invisible (a source that keeps refusing, deletes that keep failing); the
  report then says how many are left, and running the command again carries on;
- the journal is kept after the move (a message whose delete failed may come back after
  it); each entry has the time it was written, and entries older than 14 days (the
  longest retention SQS gives, the DLQs' own) are pruned, since their messages have
  expired from the DLQ by then.

Between a send and the journal's write a crash could still send one message twice; the
consumers are idempotent, so that would cost one extra read.

What makes them idempotent is kept for as long as a message can come back
(order_records.MESSAGE_LIFETIME_SECONDS, from the queues' retention), and a redrive sends a
message anew, so the backbone's redrive (`redrive_backbone`: the command's and the
console's) renews it for each order before its message goes back (`renew`): the order's
record and its stored results (OrderRecords.renew_for_redrive). By hand, each message is
renewed before its send. StartMessageMoveTask moves messages out of sight, so the DLQ is
read first (a peek: every message received and made visible again at once), and the task
starts only if that reading saw every message the DLQ holds; otherwise (another reader held
some, or a FIFO group of more than 10, whose later messages no receive returns while its
first ones are held) the messages are moved by hand. A message dead-lettered between the
reading and the task's start goes back unrenewed; what it needs was written at most its
own lifetime ago, less the seconds between the two.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from automation_local.cloudformation.outputs import BackboneOutputs
from automation_local.ops.dead_letter_peek import peek
from automation_local.ops.queue_counts import queue_counts
from automation_shared.dead_letters import order_id_in
from automation_shared.order_records import OrderRecords

UNSUPPORTED_CODES = {"InvalidAction", "UnsupportedOperation", "AWS.SimpleQueueService.UnsupportedOperation", "500"}
RECEIVE_VISIBILITY_SECONDS = 60
# Long polling (any wait above 0 asks every server of the queue); short enough that the last,
# empty receive does not hold the command up long.
RECEIVE_WAIT_SECONDS = 5
DELETE_ATTEMPTS = 3
JOURNAL_KEEP_SECONDS = 14 * 24 * 3600  # SQS's longest retention (the DLQs'): an older entry's message is gone


@dataclass
class RedriveReport:
    method: str  # "StartMessageMoveTask" or "receive-send-delete"
    moved: int = 0
    task_handle: str | None = None
    note: str = ""
    left: int = 0  # receive-send-delete: messages still in the DLQ at the end (approximate)


@dataclass
class HandMove:
    moved: int = 0  # sent to the source queue (and deleted from the DLQ, unless counted in `left`)
    deleted_sent_before: int = 0  # in the journal already: deleted without being sent again
    left: int = 0


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


def _stamp(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class _Journal:
    """DLQ message ids already sent to the source queue, a line `<UTC time> <message id>` each,
    flushed each time. Opening it prunes the entries older than JOURNAL_KEEP_SECONDS."""

    def __init__(self, path: Path, now: float | None = None) -> None:
        self.path = path
        now = time.time() if now is None else now
        entries: dict[str, float] = {}
        undated = 0
        if path.exists():
            for line in path.read_text().splitlines():
                written, _, message_id = line.strip().rpartition(" ")
                if not message_id:
                    continue
                try:
                    entries[message_id] = datetime.fromisoformat(written).timestamp()
                except ValueError:  # a journal of an earlier version (ids only): dated now
                    entries[message_id], undated = now, undated + 1
        self.sent = {i: t for i, t in entries.items() if now - t <= JOURNAL_KEEP_SECONDS}
        self.pruned = len(entries) - len(self.sent)
        if self.pruned or undated:
            scratch = path.with_name(path.name + ".tmp")
            scratch.write_text("".join(f"{_stamp(t)} {i}\n" for i, t in self.sent.items()))
            os.replace(scratch, path)

    def record(self, message_ids: list[str]) -> None:
        if not message_ids:
            return
        now = time.time()
        with self.path.open("a") as journal:
            journal.write("".join(f"{_stamp(now)} {i}\n" for i in message_ids))
            journal.flush()
        self.sent.update(dict.fromkeys(message_ids, now))


def _attributes_to_send(message: dict[str, Any]) -> dict[str, Any]:
    return {
        name: {k: v for k, v in value.items() if k in ("DataType", "StringValue", "BinaryValue")}
        for name, value in message.get("MessageAttributes", {}).items()
    }


def _fifo_fields(message: dict[str, Any]) -> dict[str, str]:
    """On FIFO queues: the message's own group, and its DLQ message id as the deduplication
    id, so a send repeated within five minutes (a crash before the journal's write) is
    dropped by SQS."""
    group = message.get("Attributes", {}).get("MessageGroupId")
    return {"MessageGroupId": group, "MessageDeduplicationId": message["MessageId"]} if group else {}


def _send(sqs: Any, source_queue_url: str, messages: list[dict[str, Any]]) -> list[str]:
    """The DLQ message ids of those the source queue took."""
    answer = sqs.send_message_batch(
        QueueUrl=source_queue_url,
        Entries=[
            {
                "Id": str(index),
                "MessageBody": m["Body"],
                **({"MessageAttributes": _attributes_to_send(m)} if m.get("MessageAttributes") else {}),
                **_fifo_fields(m),
            }
            for index, m in enumerate(messages)
        ],
    )
    return [messages[int(entry["Id"])]["MessageId"] for entry in answer.get("Successful", [])]


def _delete(sqs: Any, queue_url: str, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Deletes the messages, again for each entry that failed; returns those still not deleted."""
    pending = {str(index): m for index, m in enumerate(messages)}
    for attempt in range(DELETE_ATTEMPTS):
        if not pending:
            break
        if attempt:
            time.sleep(0.2 * attempt)
        answer = sqs.delete_message_batch(
            QueueUrl=queue_url, Entries=[{"Id": i, "ReceiptHandle": m["ReceiptHandle"]} for i, m in pending.items()]
        )
        deleted = {entry["Id"] for entry in answer.get("Successful", [])}
        pending = {i: m for i, m in pending.items() if i not in deleted}
    return list(pending.values())


def move_by_hand(
    sqs: Any,
    dead_letter_queue_url: str,
    source_queue_url: str,
    journal_path: Path,
    *,
    wait_seconds: int = RECEIVE_WAIT_SECONDS,
    visibility_seconds: int = RECEIVE_VISIBILITY_SECONDS,
    on_moved: Callable[[list[dict[str, Any]]], None] | None = None,
    renew: Callable[[list[str]], None] | None = None,
) -> HandMove:
    """Receive, send to the source, record, delete, until the DLQ is empty (see the module's
    docstring for when it stops short); `renew` is given the bodies of each batch before it
    is sent, `on_moved` each batch of messages the source queue took."""
    journal = _Journal(journal_path)
    move = HandMove()
    # A message received but neither sent nor deleted is visible again after the visibility
    # timeout; with no progress for longer than that (and two waits), none will be made.
    give_up_after = visibility_seconds + 2 * wait_seconds
    last_progress = time.monotonic()
    while time.monotonic() - last_progress <= give_up_after:
        messages = sqs.receive_message(
            QueueUrl=dead_letter_queue_url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=wait_seconds,
            VisibilityTimeout=visibility_seconds,
            MessageAttributeNames=["All"],
            AttributeNames=["MessageGroupId"],  # FIFO queues: the group it goes back to
        ).get("Messages", [])
        if not messages:
            if queue_counts(sqs, dead_letter_queue_url).total == 0:
                break
            continue
        sent_before = {m["MessageId"] for m in messages if m["MessageId"] in journal.sent}
        to_send = [m for m in messages if m["MessageId"] not in sent_before]
        if renew is not None and to_send:
            renew([m["Body"] for m in to_send])
        sent_ids = _send(sqs, source_queue_url, to_send) if to_send else []
        journal.record(sent_ids)
        move.moved += len(sent_ids)
        if on_moved is not None and sent_ids:
            on_moved([m for m in to_send if m["MessageId"] in set(sent_ids)])
        deletable = [m for m in messages if m["MessageId"] in journal.sent]
        not_deleted = {m["MessageId"] for m in _delete(sqs, dead_letter_queue_url, deletable)} if deletable else set()
        move.deleted_sent_before += len(sent_before - not_deleted)
        if sent_ids or len(deletable) > len(not_deleted):
            last_progress = time.monotonic()
    move.left = queue_counts(sqs, dead_letter_queue_url).total
    return move


def redrive(
    sqs: Any,
    dead_letter_queue_url: str,
    source_queue_url: str,
    journal_dir: Path,
    *,
    wait_seconds: int = RECEIVE_WAIT_SECONDS,
    visibility_seconds: int = RECEIVE_VISIBILITY_SECONDS,
    on_moved: Callable[[list[dict[str, Any]]], None] | None = None,
    renew: Callable[[list[str]], None] | None = None,
) -> RedriveReport:
    """Move every message of the DLQ back to the source queue (the waits, `on_moved` and
    `renew`: move_by_hand's; StartMessageMoveTask moves them out of sight, so `on_moved` is
    not called then: the consumers set each order's status when they take it on again; and
    it is used only if `renew` could be given every message first)."""
    note = "the DLQ could not be read whole before a message move task (each message is renewed before it goes back)"
    if renew is None or renew_every_message(sqs, dead_letter_queue_url, renew):
        started = _start_move_task(sqs, dead_letter_queue_url)
        if started is not None:
            return started
        note = "this endpoint has no StartMessageMoveTask (the emulator)"
    name = dead_letter_queue_url.rstrip("/").rsplit("/", 1)[-1]
    move = move_by_hand(
        sqs,
        dead_letter_queue_url,
        source_queue_url,
        journal_dir / f"redrive-{name}.journal",
        wait_seconds=wait_seconds,
        visibility_seconds=visibility_seconds,
        on_moved=on_moved,
        renew=renew,
    )
    note += ": moved by receive, send, delete"
    if move.left:
        note += (
            f"; {move.left} message(s) left in the DLQ (not taken by the source queue, or not deleted):"
            " run the command again (the journal keeps those sent from being sent twice)"
        )
    return RedriveReport("receive-send-delete", moved=move.moved, note=note, left=move.left)


def renew_every_message(sqs: Any, dead_letter_queue_url: str, renew: Callable[[list[str]], None]) -> bool:
    """`renew` given the body of every message the DLQ lets a peek see now; whether that was
    every message it holds."""
    reading = peek(sqs, dead_letter_queue_url)
    if reading.messages:
        renew([message.body for message in reading.messages])
    return reading.complete


def renew_orders(statuses: OrderRecords, bodies: list[str]) -> None:
    """For each body naming an order: what keeps that order from running or being acted on
    twice, kept for the life a new send gives its message (OrderRecords.renew_for_redrive)."""
    for order_id in dict.fromkeys(filter(None, map(order_id_in, bodies))):
        statuses.renew_for_redrive(order_id)


def set_back_redriven(statuses: OrderRecords, messages: list[dict[str, Any]]) -> None:
    """Each redriven order's status as it was before it was dead-lettered."""
    for message in messages:
        order_id = order_id_in(message["Body"])
        if order_id:
            statuses.redriven(order_id)


def redrive_backbone(
    sqs: Any,
    dynamodb: Any,
    backbone: BackboneOutputs,
    queue: str,
    journal_dir: Path,
    *,
    wait_seconds: int = RECEIVE_WAIT_SECONDS,
) -> RedriveReport:
    """The backbone's `order` or `result` DLQ back to its queue, each order renewed before its
    message goes back, and each moved by hand set back to its status before (what
    `automation-local redrive` and the console's button do)."""
    statuses = OrderRecords(dynamodb, backbone.orders_table_name)
    return redrive(
        sqs,
        *backbone.queue_pair(queue),
        journal_dir,
        wait_seconds=wait_seconds,
        on_moved=lambda messages: set_back_redriven(statuses, messages),
        renew=lambda bodies: renew_orders(statuses, bodies),
    )


def renew_backbone_dead_letters(sqs: Any, dynamodb: Any, backbone: BackboneOutputs, queue: str) -> bool:
    """`automation-local redrive QUEUE --renew-only`: the renewal alone, for a redrive by the
    AWS CLI's message move task (docs/runbook.md); whether every message was seen."""
    statuses = OrderRecords(dynamodb, backbone.orders_table_name)
    dead_letter_queue_url, _ = backbone.queue_pair(queue)
    return renew_every_message(sqs, dead_letter_queue_url, lambda bodies: renew_orders(statuses, bodies))


def report_json(report: RedriveReport) -> str:
    return json.dumps(report.__dict__)
