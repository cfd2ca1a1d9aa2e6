"""Redrive by hand (the emulator has no StartMessageMoveTask): nothing lost, nothing sent twice,
even when the move is interrupted between sending to the source and deleting from the DLQ,
when DeleteMessageBatch fails some entries, or when a receive answers nothing while
messages remain; the journal outlives the move and drops what has expired."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from automation_local.aws.emulator import Emulator
from automation_local.ops.queue_counts import queue_counts
from automation_local.ops.redrive import JOURNAL_KEEP_SECONDS, redrive, set_back_redriven
from automation_shared.contracts import OrderMessage
from automation_shared.order_records import OrderRecords

# The emulator answers StartMessageMoveTask with a 500, which botocore would retry with backoff.
ONE_ATTEMPT = {"mode": "standard", "max_attempts": 1}
# Short waits so a message whose delete failed is back within seconds (the command's: 5 s and 60 s).
FAST = {"wait_seconds": 1, "visibility_seconds": 2}


class MoveInterruptedError(Exception):
    pass


def _queues(emulator: Emulator) -> tuple[str, str]:
    sqs = emulator.client("sqs")
    suffix = uuid.uuid4().hex[:8]
    source = sqs.create_queue(QueueName=f"source-{suffix}")["QueueUrl"]
    dead_letter = sqs.create_queue(QueueName=f"dlq-{suffix}", Attributes={"VisibilityTimeout": "0"})["QueueUrl"]
    return source, dead_letter


def _fill(emulator: Emulator, url: str, bodies: list[str]) -> None:
    sqs = emulator.client("sqs")
    for start in range(0, len(bodies), 10):
        sqs.send_message_batch(
            QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": b} for i, b in enumerate(bodies[start : start + 10])]
        )


def _bodies(emulator: Emulator, url: str) -> list[str]:
    sqs, bodies = emulator.client("sqs"), []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=60).get(
        "Messages", []
    ):
        bodies += [m["Body"] for m in messages]
    return sorted(bodies)


def _messages_in(emulator: Emulator, url: str) -> int:
    """Visible, in flight and delayed: what the queue holds at all."""
    return queue_counts(emulator.client("sqs"), url).total


def _journal_ids(journal_dir: Path) -> list[str]:
    [journal] = journal_dir.iterdir()
    return [line.split()[1] for line in journal.read_text().splitlines()]


class WrappedSqs:
    """An SQS client whose DeleteMessageBatch fails the entries `fails(body, attempt)` picks
    (attempt: 1 for a message's first delete) and whose first `empty_receives` receives answer
    nothing, as a short-polled receive may; every other call goes to the client as it is."""

    def __init__(self, client: Any, fails: Callable[[str, int], bool] | None = None, empty_receives: int = 0) -> None:
        self.client = client
        self.fails = fails or (lambda body, attempt: False)
        self.empty_receives = empty_receives
        self.receives: list[dict[str, Any]] = []
        self.sent_bodies: list[str] = []
        self._bodies: dict[str, str] = {}  # receipt handle -> body
        self._attempts: dict[str, int] = {}  # body -> deletes asked

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)

    def receive_message(self, **request: Any) -> dict[str, Any]:
        self.receives.append(request)
        if len(self.receives) <= self.empty_receives:
            return {"Messages": []}
        answer: dict[str, Any] = self.client.receive_message(**request)
        self._bodies.update({m["ReceiptHandle"]: m["Body"] for m in answer.get("Messages", [])})
        return answer

    def send_message_batch(self, **request: Any) -> dict[str, Any]:
        self.sent_bodies += [entry["MessageBody"] for entry in request["Entries"]]
        return self.client.send_message_batch(**request)  # type: ignore[no-any-return]

    def delete_message_batch(self, QueueUrl: str, Entries: list[dict[str, str]]) -> dict[str, Any]:  # noqa: N803
        failing = []
        for entry in Entries:
            body = self._bodies[entry["ReceiptHandle"]]
            self._attempts[body] = self._attempts.get(body, 0) + 1
            if self.fails(body, self._attempts[body]):
                failing.append(entry)
        passing = [e for e in Entries if e not in failing]
        answer = self.client.delete_message_batch(QueueUrl=QueueUrl, Entries=passing) if passing else {}
        failed = [{"Id": e["Id"], "SenderFault": False, "Code": "InternalError", "Message": "test"} for e in failing]
        return {"Successful": answer.get("Successful", []), "Failed": failed}


def test_an_interrupted_redrive_resumes_without_loss_or_duplicates(emulator: Emulator, tmp_path: Path) -> None:
    # GIVEN a DLQ holding 15 messages
    source, dead_letter = _queues(emulator)
    sent = [f"message-{i:02}" for i in range(15)]
    _fill(emulator, dead_letter, sent)
    # WHEN the first run is interrupted right after its first batch reached the source queue
    interrupting = emulator.client("sqs", retries=ONE_ATTEMPT)

    def interrupt(**_: object) -> None:
        raise MoveInterruptedError

    interrupting.meta.events.register("before-call.sqs.DeleteMessageBatch", interrupt)
    with pytest.raises(MoveInterruptedError):
        redrive(interrupting, dead_letter, source, tmp_path, **FAST)
    assert len(_journal_ids(tmp_path)) == 10, "the journal keeps what was sent"
    # AND a second run completes the move (the first batch, in flight when the run stopped,
    # comes back and is deleted without being sent again)
    report = redrive(emulator.client("sqs", retries=ONE_ATTEMPT), dead_letter, source, tmp_path, **FAST)
    # THEN every message is in the source queue exactly once and the DLQ holds nothing
    assert report.method == "receive-send-delete" and report.moved == 5 and report.left == 0
    assert _bodies(emulator, source) == sent
    assert _messages_in(emulator, dead_letter) == 0


def test_deletes_that_fail_are_retried_and_a_second_run_sends_nothing_twice(emulator: Emulator, tmp_path: Path) -> None:
    # GIVEN a DLQ of 12 messages, and a client whose DeleteMessageBatch fails entries: those
    # of messages 0-2 every time, those of messages 3-4 the first time only
    source, dead_letter = _queues(emulator)
    sent = [f"message-{i:02}" for i in range(12)]
    _fill(emulator, dead_letter, sent)
    always, once = set(sent[:3]), set(sent[3:5])
    failing = WrappedSqs(
        emulator.client("sqs", retries=ONE_ATTEMPT),
        fails=lambda body, attempt: body in always or (body in once and attempt == 1),
    )
    # WHEN the first run moves them
    first = redrive(failing, dead_letter, source, tmp_path, **FAST)
    # THEN every message was sent once; the deletes that failed once were retried and took;
    # the three that never took are still in the DLQ, and the report says so
    assert sorted(failing.sent_bodies) == sent
    assert first.moved == 12 and first.left == 3 and "3 message(s) left" in first.note
    assert _messages_in(emulator, dead_letter) == 3
    # WHEN a second run, whose deletes work, moves what is left
    second_client = WrappedSqs(emulator.client("sqs", retries=ONE_ATTEMPT))
    second = redrive(second_client, dead_letter, source, tmp_path, **FAST)
    # THEN it sends nothing (the journal knew those three were sent) and deletes them
    assert second_client.sent_bodies == [] and second.moved == 0 and second.left == 0
    assert _bodies(emulator, source) == sent
    assert _messages_in(emulator, dead_letter) == 0


def test_a_receive_that_answers_nothing_while_messages_remain_does_not_end_the_move(
    emulator: Emulator, tmp_path: Path
) -> None:
    # GIVEN a DLQ of 5 messages, and receives whose first two answers are empty (as a
    # short-polled receive of a standard queue may answer while messages remain)
    source, dead_letter = _queues(emulator)
    sent = [f"message-{i:02}" for i in range(5)]
    _fill(emulator, dead_letter, sent)
    client = WrappedSqs(emulator.client("sqs", retries=ONE_ATTEMPT), empty_receives=2)
    # WHEN the DLQ is redriven
    report = redrive(client, dead_letter, source, tmp_path, **FAST)
    # THEN the move goes on past the empty answers (the DLQ's counts are not 0) and moves all
    assert report.moved == 5 and report.left == 0
    assert _bodies(emulator, source) == sent
    assert _messages_in(emulator, dead_letter) == 0
    # AND every receive long-polls
    assert all(r["WaitTimeSeconds"] > 0 for r in client.receives)


def test_the_journal_outlives_a_completed_move(emulator: Emulator, tmp_path: Path) -> None:
    # GIVEN a DLQ of 3 messages, WHEN it is redriven to the end
    source, dead_letter = _queues(emulator)
    _fill(emulator, dead_letter, ["a", "b", "c"])
    report = redrive(emulator.client("sqs", retries=ONE_ATTEMPT), dead_letter, source, tmp_path, **FAST)
    assert report.moved == 3 and report.left == 0
    # THEN the journal is still there, an entry per message sent, each with the time it was written
    [journal] = tmp_path.iterdir()
    lines = [line.split() for line in journal.read_text().splitlines()]
    assert len(lines) == 3 and len({message_id for _, message_id in lines}) == 3
    for written, _ in lines:
        assert abs((datetime.now(UTC) - datetime.fromisoformat(written)).total_seconds()) < 60


def test_journal_entries_older_than_the_dlq_retention_are_pruned(emulator: Emulator, tmp_path: Path) -> None:
    # GIVEN a journal with an entry older than 14 days, a recent one, and one of an earlier
    # version without a time
    source, dead_letter = _queues(emulator)
    name = dead_letter.rstrip("/").rsplit("/", 1)[-1]
    journal = tmp_path / f"redrive-{name}.journal"

    def stamp(age_seconds: float) -> str:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - age_seconds))

    journal.write_text(f"{stamp(JOURNAL_KEEP_SECONDS + 3600)} expired-id\n{stamp(86_400)} recent-id\nundated-id\n")
    # WHEN the DLQ is redriven (it is empty)
    report = redrive(emulator.client("sqs", retries=ONE_ATTEMPT), dead_letter, source, tmp_path, **FAST)
    # THEN the expired entry is gone, the others stay (the undated one now with a time)
    assert report.moved == 0 and report.left == 0
    lines = [line.split() for line in journal.read_text().splitlines()]
    assert [message_id for _, message_id in lines] == ["recent-id", "undated-id"]


def test_a_redriven_order_gets_back_the_status_it_had_before_it_was_dead_lettered(
    emulator: Emulator, tmp_path: Path
) -> None:
    # GIVEN an order whose message failed on its last receive while it was processing,
    # marked dead-lettered, its message now in the DLQ
    table = f"orders-{uuid.uuid4().hex[:8]}"
    dynamodb = emulator.client("dynamodb")
    dynamodb.create_table(
        TableName=table,
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    statuses = OrderRecords(dynamodb, table)
    order = OrderMessage.model_validate(
        {
            "orderId": str(uuid.uuid4()),
            "taskType": "text-processing",
            "payload": {"parameters": {"text": "back again"}},
            "userId": "user-1",
            "timestamp": datetime.now(UTC).isoformat(),
        }
    )
    statuses.record_accepted(order)
    statuses.claim_attempt(order, "message-1", 1000)
    statuses.mark_dead_lettered(order.orderId)
    source, dead_letter = _queues(emulator)
    _fill(emulator, dead_letter, [order.to_json(), "not an order"])
    # WHEN the DLQ is redriven with the command's status hook
    sqs = emulator.client("sqs", retries=ONE_ATTEMPT)
    report = redrive(sqs, dead_letter, source, tmp_path, on_moved=lambda m: set_back_redriven(statuses, m), **FAST)
    # THEN both messages are back, and the order is `processing` again (its state before)
    assert report.moved == 2
    record = statuses.get(order.orderId) or {}
    assert record["status"] == "processing"
    assert [h["status"] for h in record["history"]] == ["queued", "processing", "dead-lettered", "processing"]


def test_a_fifo_dlq_goes_back_to_its_source_each_message_in_its_own_group_in_order(
    emulator: Emulator, tmp_path: Path
) -> None:
    # GIVEN a FIFO source queue and its FIFO DLQ holding messages of two groups
    sqs = emulator.client("sqs")
    suffix = uuid.uuid4().hex[:8]
    fifo = {"FifoQueue": "true", "ContentBasedDeduplication": "false"}
    source = sqs.create_queue(QueueName=f"source-{suffix}.fifo", Attributes=fifo)["QueueUrl"]
    dead_letter = sqs.create_queue(QueueName=f"dlq-{suffix}.fifo", Attributes={**fifo, "VisibilityTimeout": "0"})[
        "QueueUrl"
    ]
    sent = [("user-1", "a1"), ("user-2", "b1"), ("user-1", "a2"), ("user-2", "b2")]
    for group, body in sent:
        sqs.send_message(QueueUrl=dead_letter, MessageBody=body, MessageGroupId=group, MessageDeduplicationId=body)
    # WHEN it is redriven by hand
    report = redrive(emulator.client("sqs", retries=ONE_ATTEMPT), dead_letter, source, tmp_path, **FAST)
    # THEN every message is back in the source queue, in its own group, in its group's order
    assert report.moved == 4 and _messages_in(emulator, dead_letter) == 0
    back: list[tuple[str, str]] = []
    while messages := sqs.receive_message(
        QueueUrl=source, MaxNumberOfMessages=10, AttributeNames=["MessageGroupId"]
    ).get("Messages", []):
        back += [(m["Attributes"]["MessageGroupId"], m["Body"]) for m in messages]
        sqs.delete_message_batch(
            QueueUrl=source,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
        )
    for group in ("user-1", "user-2"):
        assert [body for g, body in back if g == group] == [body for g, body in sent if g == group]
