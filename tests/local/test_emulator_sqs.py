"""The emulator's indexed SQS queues (automation_local/aws/sqs_index.py) keep AWS's semantics,
on standard and FIFO queues, and a receive looks at as many messages on a deep queue as on a
shallow one.

Every test talks to the real emulator server over boto3. Times are short (visibility
timeouts and delays of 1-2 s) and asserted only as an order of events, never as speed: the
speed is the benchmark's (`receive_depth_ratio`, benchmarks/sqs_depth.py).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from automation_local.aws.emulator import Emulator
from automation_local.aws.sqs_index import fetch_queue_stats

pytestmark = pytest.mark.slow

COUNT_NAMES = [
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
]
KINDS = ["standard", "fifo"]


class Queue:
    """One fresh queue of the emulator, standard or FIFO, with the calls the tests make."""

    def __init__(self, emulator: Emulator, kind: str, attributes: dict[str, str] | None = None) -> None:
        self.emulator = emulator
        self.sqs = emulator.client("sqs")
        self.fifo = kind == "fifo"
        self.name = f"sqs-{kind}-{uuid.uuid4().hex[:10]}" + (".fifo" if self.fifo else "")
        given = {"FifoQueue": "true"} if self.fifo else {}
        self.url = self.sqs.create_queue(QueueName=self.name, Attributes={**given, **(attributes or {})})["QueueUrl"]
        self.arn = self.attributes("QueueArn")["QueueArn"]
        self._sent = 0

    def send(self, body: str | None = None, group: str = "g", **extra: Any) -> dict[str, Any]:
        self._sent += 1
        params: dict[str, Any] = {"QueueUrl": self.url, "MessageBody": body or f"m{self._sent}", **extra}
        if self.fifo:
            params.setdefault("MessageGroupId", group)
            params.setdefault("MessageDeduplicationId", uuid.uuid4().hex)
        answer: dict[str, Any] = self.sqs.send_message(**params)
        return answer

    def send_many(self, count: int, group: str = "g") -> None:
        for start in range(0, count, 10):
            entries = []
            for i in range(start, min(start + 10, count)):
                entry = {"Id": str(i - start), "MessageBody": f"n{i}"}
                if self.fifo:
                    entry |= {"MessageGroupId": group, "MessageDeduplicationId": uuid.uuid4().hex}
                entries.append(entry)
            assert not self.sqs.send_message_batch(QueueUrl=self.url, Entries=entries).get("Failed")

    def receive(self, count: int = 10, visibility: int | None = 30, wait: int = 0) -> list[dict[str, Any]]:
        params: dict[str, Any] = {
            "QueueUrl": self.url,
            "MaxNumberOfMessages": count,
            "WaitTimeSeconds": wait,
            "MessageSystemAttributeNames": ["All"],
        }
        if visibility is not None:
            params["VisibilityTimeout"] = visibility
        messages: list[dict[str, Any]] = self.sqs.receive_message(**params).get("Messages", [])
        return messages

    def delete(self, receipt_handle: str) -> None:
        self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=receipt_handle)

    def attributes(self, *names: str) -> dict[str, str]:
        answer: dict[str, str] = self.sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=list(names))[
            "Attributes"
        ]
        return answer

    def counts(self) -> tuple[int, int, int]:
        """(visible, not visible, delayed), as GetQueueAttributes answers them."""
        answer = self.attributes(*COUNT_NAMES)
        visible, not_visible, delayed = (int(answer[name]) for name in COUNT_NAMES)
        return visible, not_visible, delayed

    def stats(self) -> dict[str, Any]:
        stats: dict[str, Any] = fetch_queue_stats(self.emulator.endpoint_url)[self.arn]
        return stats


@pytest.fixture
def new_queue(emulator: Emulator) -> Callable[..., Queue]:
    def make(kind: str = "standard", **attributes: str) -> Queue:
        return Queue(emulator, kind, attributes)

    return make


def bodies(messages: list[dict[str, Any]]) -> list[str]:
    return [m["Body"] for m in messages]


def wait_until(condition: Callable[[], bool], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.1)


# -- visibility timeouts and receive counts ----------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_a_received_message_is_invisible_until_its_visibility_timeout_then_counted_again(
    new_queue: Callable[..., Queue], kind: str
) -> None:
    # GIVEN a queue holding one message, received with a visibility timeout of 1 s
    queue = new_queue(kind)
    sent = queue.send("once")
    (first,) = queue.receive(visibility=1)

    # WHEN it is received again at once, and again after the timeout
    during = queue.receive(visibility=1)
    counts_during = queue.counts()
    time.sleep(1.3)
    counts_after = queue.counts()
    (second,) = queue.receive(visibility=30)

    # THEN it was invisible (not visible: 1) in between, visible again afterwards, and the second
    # receive is of the same message with a new receipt handle, a receive count of 2 and the
    # first receive's timestamp
    assert during == []
    assert counts_during == (0, 1, 0)
    assert counts_after == (1, 0, 0)
    assert first["MessageId"] == second["MessageId"] == sent["MessageId"]
    assert first["ReceiptHandle"] != second["ReceiptHandle"]
    assert first["Attributes"]["ApproximateReceiveCount"] == "1"
    assert second["Attributes"]["ApproximateReceiveCount"] == "2"
    assert (
        first["Attributes"]["ApproximateFirstReceiveTimestamp"]
        == second["Attributes"]["ApproximateFirstReceiveTimestamp"]
    )
    assert int(first["Attributes"]["ApproximateFirstReceiveTimestamp"]) >= int(first["Attributes"]["SentTimestamp"])


@pytest.mark.parametrize("kind", KINDS)
def test_the_queue_visibility_timeout_applies_when_a_receive_names_none(
    new_queue: Callable[..., Queue], kind: str
) -> None:
    # GIVEN a queue whose VisibilityTimeout is 1 s, holding one message
    queue = new_queue(kind, VisibilityTimeout="1")
    queue.send("x")

    # WHEN it is received without a visibility timeout, then again at once and after 1 s
    first = queue.receive(visibility=None)
    at_once = queue.receive(visibility=None)
    time.sleep(1.3)
    later = queue.receive(visibility=None)

    # THEN the queue's timeout hid it for that second only
    assert bodies(first) == ["x"]
    assert at_once == []
    assert bodies(later) == ["x"]


@pytest.mark.parametrize("kind", KINDS)
def test_change_message_visibility_hides_longer_or_shows_at_once(new_queue: Callable[..., Queue], kind: str) -> None:
    # GIVEN two messages received with a visibility timeout of 1 s
    queue = new_queue(kind)
    queue.send("a", group="ga")
    queue.send("b", group="gb")
    received = {m["Body"]: m for m in queue.receive(visibility=1)}
    assert set(received) == {"a", "b"}

    # WHEN a's timeout is raised to 60 s and b's set to 0
    queue.sqs.change_message_visibility(
        QueueUrl=queue.url, ReceiptHandle=received["a"]["ReceiptHandle"], VisibilityTimeout=60
    )
    queue.sqs.change_message_visibility(
        QueueUrl=queue.url, ReceiptHandle=received["b"]["ReceiptHandle"], VisibilityTimeout=0
    )

    # THEN b is receivable at once, and a stays invisible past its first timeout
    assert queue.counts() == (1, 1, 0)
    assert bodies(queue.receive(visibility=30)) == ["b"]
    time.sleep(1.3)
    assert queue.receive() == []
    assert queue.counts() == (0, 2, 0)


@pytest.mark.parametrize("kind", KINDS)
def test_change_message_visibility_batch_answers_each_entry(new_queue: Callable[..., Queue], kind: str) -> None:
    # GIVEN three received messages, and a receipt handle the queue never gave
    queue = new_queue(kind)
    for body in ("a", "b", "c"):
        queue.send(body, group=body)
    received = queue.receive()
    assert len(received) == 3

    # WHEN a batch sets two of them visible, and names the unknown handle
    entries = [
        {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0} for i, m in enumerate(received[:2])
    ]
    entries.append({"Id": "unknown", "ReceiptHandle": "not-a-handle", "VisibilityTimeout": 0})
    answer = queue.sqs.change_message_visibility_batch(QueueUrl=queue.url, Entries=entries)

    # THEN the two succeed and are visible again, the unknown one fails on its own
    assert sorted(e["Id"] for e in answer["Successful"]) == ["0", "1"]
    assert [(e["Id"], e["Code"]) for e in answer["Failed"]] == [("unknown", "ReceiptHandleIsInvalid")]
    assert queue.counts() == (2, 1, 0)
    assert sorted(bodies(queue.receive())) == sorted(bodies(received[:2]))


@pytest.mark.parametrize("kind", KINDS)
def test_a_visibility_timeout_of_zero_on_receive_leaves_the_message_visible(
    new_queue: Callable[..., Queue], kind: str
) -> None:
    # GIVEN a queue with one message
    queue = new_queue(kind)
    queue.send("peek")

    # WHEN it is received twice with VisibilityTimeout 0
    first = queue.receive(visibility=0)
    second = queue.receive(visibility=0)

    # THEN both receives return it, once each, counted as two receives, and it stays visible
    assert bodies(first) == bodies(second) == ["peek"]
    assert second[0]["Attributes"]["ApproximateReceiveCount"] == "2"
    assert queue.counts() == (1, 0, 0)


# -- dead-letter queue -------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_a_message_received_max_receive_count_times_moves_to_the_dlq_on_the_next_receive(
    new_queue: Callable[..., Queue], kind: str
) -> None:
    # GIVEN a queue whose redrive policy allows 2 receives, holding one message and a later one
    dlq = new_queue(kind)
    queue = new_queue(kind, RedrivePolicy=json.dumps({"deadLetterTargetArn": dlq.arn, "maxReceiveCount": "2"}))
    doomed = queue.send("doomed", group="g1")
    queue.send("fine", group="g2")

    # WHEN the first message is received twice (never deleted), then the queue is received again
    for _ in range(2):
        assert bodies(queue.receive(count=1, visibility=0)) == ["doomed"]
    third = queue.receive(visibility=30)

    # THEN the third receive skips it (moved to the DLQ at that receive) but returns the other,
    # and the DLQ holds the same message with its receive count
    assert bodies(third) == ["fine"]
    assert dlq.counts() == (1, 0, 0)
    (dead,) = dlq.receive()
    assert dead["MessageId"] == doomed["MessageId"]
    assert dead["Body"] == "doomed"
    assert int(dead["Attributes"]["ApproximateReceiveCount"]) == 3  # 2 in the queue, 1 from the DLQ
    assert queue.counts() == (0, 1, 0)
    assert queue.stats()["dead_lettered"] == 1
    # AND the DLQ's receipt handle deletes it there
    dlq.delete(dead["ReceiptHandle"])
    assert dlq.counts() == (0, 0, 0)


def test_a_long_poll_moves_a_spent_message_to_the_dlq_and_keeps_waiting(new_queue: Callable[..., Queue]) -> None:
    # GIVEN a queue with maxReceiveCount 1 whose only message was received once
    dlq = new_queue()
    queue = new_queue(RedrivePolicy=json.dumps({"deadLetterTargetArn": dlq.arn, "maxReceiveCount": 1}))
    queue.send("spent")
    assert bodies(queue.receive(visibility=0)) == ["spent"]

    # WHEN a long poll of 1 s finds only that message
    started = time.monotonic()
    answer = queue.receive(wait=1)

    # THEN it answers nothing after its wait, and the message is already in the DLQ
    assert answer == []
    assert time.monotonic() - started >= 0.9
    assert dlq.counts() == (1, 0, 0)


# -- delays ------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_a_queue_delay_holds_new_messages_back(new_queue: Callable[..., Queue], kind: str) -> None:
    # GIVEN a queue with DelaySeconds 1
    queue = new_queue(kind, DelaySeconds="1")

    # WHEN a message is sent, received at once, and after the delay
    queue.send("late")
    at_once = queue.receive()
    counts_at_once = queue.counts()
    time.sleep(1.3)
    later = queue.receive()

    # THEN it is delayed at first (counted as delayed), receivable after the delay
    assert at_once == []
    assert counts_at_once == (0, 0, 1)
    assert bodies(later) == ["late"]


def test_a_message_delay_overrides_the_queue_delay(new_queue: Callable[..., Queue]) -> None:
    # GIVEN a standard queue with DelaySeconds 60
    queue = new_queue(DelaySeconds="60")

    # WHEN one message is sent with DelaySeconds 0 and another with DelaySeconds 1
    queue.send("now", DelaySeconds=0)
    queue.send("soon", DelaySeconds=1)
    queue.send("queue delay")

    # THEN the first is receivable at once, the second after its second, the third not yet
    assert bodies(queue.receive()) == ["now"]
    assert queue.counts() == (0, 1, 2)
    time.sleep(1.3)
    assert bodies(queue.receive()) == ["soon"]
    assert queue.counts() == (0, 2, 1)


def test_a_fifo_queue_refuses_a_message_delay(new_queue: Callable[..., Queue]) -> None:
    # GIVEN a FIFO queue
    queue = new_queue("fifo")

    # WHEN a message is sent with its own DelaySeconds
    # THEN it is refused, as SQS refuses it (FIFO queues take the queue's delay only)
    with pytest.raises(ClientError) as refused:
        queue.send("x", DelaySeconds=1)
    assert refused.value.response["Error"]["Code"] == "InvalidParameterValue"


# -- long polling ------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_a_long_poll_wakes_on_a_send(new_queue: Callable[..., Queue], kind: str) -> None:
    # GIVEN an empty queue and a receive waiting up to 10 s
    queue = new_queue(kind)
    answer: list[list[dict[str, Any]]] = []
    poll = threading.Thread(target=lambda: answer.append(queue.receive(wait=10)))
    poll.start()
    time.sleep(0.5)

    # WHEN a message is sent
    queue.send("wake")
    poll.join(timeout=15)

    # THEN the waiting receive returns it, long before its wait is over
    assert not poll.is_alive()
    assert bodies(answer[0]) == ["wake"]
    assert queue.stats()["receives"] == 1


@pytest.mark.parametrize("kind", KINDS)
def test_a_long_poll_wakes_when_a_message_becomes_visible_again(new_queue: Callable[..., Queue], kind: str) -> None:
    # GIVEN a queue whose only message is in flight for 1 more second
    queue = new_queue(kind)
    queue.send("again")
    assert bodies(queue.receive(visibility=1)) == ["again"]

    # WHEN a receive waits up to 10 s
    started = time.monotonic()
    answer = queue.receive(wait=10)
    waited = time.monotonic() - started

    # THEN it returns the message once its timeout is over, before its own wait ends
    assert bodies(answer) == ["again"]
    assert 0.5 < waited < 8


def test_an_empty_long_poll_waits_its_time_and_answers_nothing(new_queue: Callable[..., Queue]) -> None:
    # GIVEN an empty queue
    queue = new_queue()

    # WHEN a receive waits 1 s
    started = time.monotonic()
    answer = queue.receive(wait=1)

    # THEN it answers nothing, after about that second
    assert answer == []
    assert time.monotonic() - started >= 0.9


# -- retention and purge -----------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_a_message_past_the_retention_period_is_deleted(new_queue: Callable[..., Queue], kind: str) -> None:
    # GIVEN a queue holding a message and a retention period of 1 s (the emulator allows it)
    queue = new_queue(kind, MessageRetentionPeriod="1")
    sent = queue.send("old")
    (received,) = queue.receive(visibility=0)

    # WHEN the period has passed
    time.sleep(1.3)

    # THEN the message is gone from the counts and the receives, and its handle deletes nothing
    assert received["MessageId"] == sent["MessageId"]
    assert queue.counts() == (0, 0, 0)
    assert queue.receive() == []
    queue.delete(received["ReceiptHandle"])
    assert queue.stats()["expired"] == 1


@pytest.mark.parametrize("kind", KINDS)
def test_purge_empties_the_queue_in_every_state(new_queue: Callable[..., Queue], kind: str) -> None:
    # GIVEN a queue with messages visible, in flight and (standard) delayed
    queue = new_queue(kind)
    queue.send_many(5)
    assert len(queue.receive(count=2)) == 2
    if not queue.fifo:
        queue.send("delayed", DelaySeconds=60)

    # WHEN it is purged
    queue.sqs.purge_queue(QueueUrl=queue.url)

    # THEN it holds nothing, and takes new messages as before
    assert queue.counts() == (0, 0, 0)
    assert queue.receive() == []
    queue.send("after")
    assert bodies(queue.receive()) == ["after"]


# -- deletes -----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_a_receipt_handle_deletes_its_message_once_and_again_without_error(
    new_queue: Callable[..., Queue], kind: str
) -> None:
    # GIVEN two received messages
    queue = new_queue(kind)
    queue.send("a", group="ga")
    queue.send("b", group="gb")
    received = {m["Body"]: m for m in queue.receive()}

    # WHEN a is deleted by its handle, twice
    queue.delete(received["a"]["ReceiptHandle"])
    queue.delete(received["a"]["ReceiptHandle"])

    # THEN only a is gone (b stays in flight), and the second delete was answered as the first
    assert queue.counts() == (0, 1, 0)
    queue.delete(received["b"]["ReceiptHandle"])
    assert queue.counts() == (0, 0, 0)


@pytest.mark.parametrize("kind", KINDS)
def test_a_stale_receipt_handle_still_deletes_and_an_unknown_one_is_invalid(
    new_queue: Callable[..., Queue], kind: str
) -> None:
    # GIVEN a message received twice (its first handle is stale: it was received again since)
    queue = new_queue(kind)
    queue.send("twice")
    (first,) = queue.receive(visibility=0)
    (second,) = queue.receive(visibility=30)
    assert first["ReceiptHandle"] != second["ReceiptHandle"]

    # WHEN the stale handle deletes it, and a handle the queue never gave is used
    queue.delete(first["ReceiptHandle"])
    with pytest.raises(ClientError) as unknown:
        queue.delete("never-given")

    # THEN the delete succeeds (SQS: "the request succeeds, but the message might not be
    # deleted"; the emulator deletes it, as moto always did), the unknown handle is refused,
    # and the current handle answers as for a deleted message
    assert queue.counts() == (0, 0, 0)
    assert unknown.value.response["Error"]["Code"] == "ReceiptHandleIsInvalid"
    queue.delete(second["ReceiptHandle"])


@pytest.mark.parametrize("kind", KINDS)
def test_delete_message_batch_answers_each_entry(new_queue: Callable[..., Queue], kind: str) -> None:
    # GIVEN three received messages
    queue = new_queue(kind)
    queue.send_many(3)
    received = queue.receive()
    assert len(received) == 3

    # WHEN a batch deletes them with an unknown handle among them
    entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(received)]
    entries.append({"Id": "unknown", "ReceiptHandle": "never-given"})
    answer = queue.sqs.delete_message_batch(QueueUrl=queue.url, Entries=entries)

    # THEN the three are deleted and the unknown entry fails alone
    assert sorted(e["Id"] for e in answer["Successful"]) == ["0", "1", "2"]
    assert [(e["Id"], e["Code"]) for e in answer["Failed"]] == [("unknown", "ReceiptHandleIsInvalid")]
    assert queue.counts() == (0, 0, 0)


# -- counts and MaxNumberOfMessages ------------------------------------------------------------


def test_the_counts_tell_visible_in_flight_and_delayed_apart(new_queue: Callable[..., Queue]) -> None:
    # GIVEN a standard queue where 2 of 5 messages were received and 1 more is delayed
    queue = new_queue()
    queue.send_many(5)
    assert len(queue.receive(count=2)) == 2
    queue.send("delayed", DelaySeconds=60)

    # WHEN its counts are read, and all of its attributes
    counts = queue.counts()
    every = queue.attributes("All")

    # THEN 3 are visible, 2 not visible, 1 delayed, in both answers
    assert counts == (3, 2, 1)
    assert (
        every["ApproximateNumberOfMessages"],
        every["ApproximateNumberOfMessagesNotVisible"],
        every["ApproximateNumberOfMessagesDelayed"],
    ) == ("3", "2", "1")


@pytest.mark.parametrize("kind", KINDS)
def test_max_number_of_messages_bounds_each_receive_and_each_message_comes_once(
    new_queue: Callable[..., Queue], kind: str
) -> None:
    # GIVEN a queue of 25 messages
    queue = new_queue(kind)
    queue.send_many(25)

    # WHEN it is received with MaxNumberOfMessages 1 (the default), 3, and 10 until empty,
    # each batch deleted before the next receive (a FIFO group waits while it is in flight)
    def received_and_deleted(count: int | None) -> list[dict[str, Any]]:
        params = {"QueueUrl": queue.url} | ({"MaxNumberOfMessages": count} if count else {})
        messages: list[dict[str, Any]] = queue.sqs.receive_message(**params).get("Messages", [])
        for message in messages:
            queue.delete(message["ReceiptHandle"])
        return messages

    one = received_and_deleted(None)
    three = received_and_deleted(3)
    rest: list[dict[str, Any]] = []
    while batch := received_and_deleted(10):
        assert len(batch) <= 10
        rest += batch

    # THEN each receive took at most what it asked for, and every message came exactly once
    assert len(one) == 1
    assert len(three) == 3
    everything = bodies(one + three + rest)
    assert sorted(everything) == sorted(f"n{i}" for i in range(25))
    if queue.fifo:  # one group: in the order sent
        assert everything == [f"n{i}" for i in range(25)]


def test_an_out_of_range_max_number_of_messages_is_refused(new_queue: Callable[..., Queue]) -> None:
    # GIVEN a queue
    queue = new_queue()
    # WHEN a receive asks for 11 messages
    # THEN it is refused
    with pytest.raises(ClientError) as refused:
        queue.receive(count=11)
    assert refused.value.response["Error"]["Code"] == "InvalidParameterValue"


def test_concurrent_receives_never_hand_out_a_message_twice(new_queue: Callable[..., Queue]) -> None:
    # GIVEN a standard queue of 300 messages and 6 consumers receiving at once
    queue = new_queue()
    queue.send_many(300)
    seen: list[str] = []
    lock = threading.Lock()

    def consume() -> None:
        sqs = queue.emulator.client("sqs")
        while messages := sqs.receive_message(QueueUrl=queue.url, MaxNumberOfMessages=10, VisibilityTimeout=60).get(
            "Messages", []
        ):
            with lock:
                seen.extend(m["MessageId"] for m in messages)

    # WHEN they drain it
    consumers = [threading.Thread(target=consume) for _ in range(6)]
    for consumer in consumers:
        consumer.start()
    for consumer in consumers:
        consumer.join(timeout=60)

    # THEN each message went to exactly one of them
    assert len(seen) == 300
    assert len(set(seen)) == 300
    assert queue.counts() == (0, 300, 0)


# -- FIFO: groups, order, deduplication --------------------------------------------------------


def test_fifo_messages_of_a_group_come_in_order_and_a_group_in_flight_waits(new_queue: Callable[..., Queue]) -> None:
    # GIVEN a FIFO queue with groups a and b sent interleaved
    queue = new_queue("fifo")
    for i in range(3):
        queue.send(f"a{i}", group="a")
        queue.send(f"b{i}", group="b")

    # WHEN one message is received (a0), then everything receivable
    (a0,) = queue.receive(count=1)
    rest = queue.receive(count=10)

    # THEN a's group waits while a0 is in flight: only b's messages come, in order
    assert a0["Body"] == "a0"
    assert bodies(rest) == ["b0", "b1", "b2"]
    assert queue.receive() == []  # both groups in flight
    # AND once a0 is deleted, a's next messages come in order
    queue.delete(a0["ReceiptHandle"])
    assert bodies(queue.receive(count=10)) == ["a1", "a2"]


def test_fifo_group_is_receivable_again_from_its_oldest_message_after_a_timeout(
    new_queue: Callable[..., Queue],
) -> None:
    # GIVEN a FIFO group of three whose first message is in flight for 1 s
    queue = new_queue("fifo")
    for body in ("x0", "x1", "x2"):
        queue.send(body, group="x")
    (x0,) = queue.receive(count=1, visibility=1)

    # WHEN the group is received while x0 is in flight, and after its timeout
    during = queue.receive()
    time.sleep(1.3)
    after = queue.receive(count=10)

    # THEN nothing of the group comes while x0 is in flight, then x0 first, then the rest, in order
    assert x0["Body"] == "x0"
    assert during == []
    assert bodies(after) == ["x0", "x1", "x2"]
    assert after[0]["Attributes"]["ApproximateReceiveCount"] == "2"


def test_fifo_receive_returns_as_many_of_one_group_as_it_can(new_queue: Callable[..., Queue]) -> None:
    # GIVEN a FIFO queue with groups p and q interleaved
    queue = new_queue("fifo")
    for i in range(4):
        queue.send(f"p{i}", group="p")
        queue.send(f"q{i}", group="q")

    # WHEN one receive asks for 6
    received = queue.receive(count=6)

    # THEN it has p's four first (the oldest group), then q's oldest two, each group in order
    assert bodies(received) == ["p0", "p1", "p2", "p3", "q0", "q1"]


def test_fifo_sequence_numbers_increase_with_each_send(new_queue: Callable[..., Queue]) -> None:
    # GIVEN a FIFO queue
    queue = new_queue("fifo")
    # WHEN three messages are sent
    numbers = [int(queue.send(f"s{i}")["SequenceNumber"]) for i in range(3)]
    # THEN each answer's sequence number is larger than the one before, and the receive shows them
    assert numbers == sorted(numbers) and len(set(numbers)) == 3
    received = queue.receive()
    assert [int(m["Attributes"]["SequenceNumber"]) for m in received] == numbers


def test_fifo_deduplication_id_holds_for_five_minutes_even_after_a_delete(new_queue: Callable[..., Queue]) -> None:
    # GIVEN a FIFO queue and a message sent with a deduplication id
    queue = new_queue("fifo")
    first = queue.send("order-1", MessageDeduplicationId="dedup-1")

    # WHEN the same id is sent again, then after the first message was received and deleted
    again = queue.send("order-1 (retry)", MessageDeduplicationId="dedup-1")
    (received,) = queue.receive()
    queue.delete(received["ReceiptHandle"])
    after_delete = queue.send("order-1 (late retry)", MessageDeduplicationId="dedup-1")
    other = queue.send("order-2", MessageDeduplicationId="dedup-2")

    # THEN the retries are accepted with the first message's id and sequence number but not
    # queued; another id is a new message
    assert again["MessageId"] == after_delete["MessageId"] == first["MessageId"]
    assert again["SequenceNumber"] == first["SequenceNumber"]
    assert received["Body"] == "order-1"
    assert other["MessageId"] != first["MessageId"]
    assert bodies(queue.receive()) == ["order-2"]
    assert queue.stats()["deduplicated"] == 2


def test_fifo_content_based_deduplication_compares_bodies(new_queue: Callable[..., Queue]) -> None:
    # GIVEN a FIFO queue with content-based deduplication
    queue = new_queue("fifo", ContentBasedDeduplication="true")
    sqs = queue.sqs

    # WHEN the same body is sent twice and another body once, without deduplication ids
    first = sqs.send_message(QueueUrl=queue.url, MessageBody="same", MessageGroupId="g")
    second = sqs.send_message(QueueUrl=queue.url, MessageBody="same", MessageGroupId="g")
    sqs.send_message(QueueUrl=queue.url, MessageBody="different", MessageGroupId="g")

    # THEN the second send is the first message, and the queue holds two
    assert second["MessageId"] == first["MessageId"]
    assert queue.counts() == (2, 0, 0)
    assert bodies(queue.receive()) == ["same", "different"]


def test_fifo_high_throughput_attributes_are_accepted_and_scope_deduplication_to_the_group(
    new_queue: Callable[..., Queue],
) -> None:
    # GIVEN a FIFO queue created for high throughput (deduplication scoped to the message group)
    queue = new_queue("fifo", DeduplicationScope="messageGroup", FifoThroughputLimit="perMessageGroupId")

    # WHEN the same deduplication id is sent in two groups, and twice in one of them
    one = queue.send("in g1", group="g1", MessageDeduplicationId="same")
    two = queue.send("in g2", group="g2", MessageDeduplicationId="same")
    again = queue.send("in g1 again", group="g1", MessageDeduplicationId="same")

    # THEN the queue shows both attributes, and holds one message per group
    attributes = queue.attributes("All")
    assert attributes["DeduplicationScope"] == "messageGroup"
    assert attributes["FifoThroughputLimit"] == "perMessageGroupId"
    assert one["MessageId"] != two["MessageId"]
    assert again["MessageId"] == one["MessageId"]
    assert sorted(bodies(queue.receive())) == ["in g1", "in g2"]


def test_fifo_deduplication_is_queue_wide_by_default(new_queue: Callable[..., Queue]) -> None:
    # GIVEN a FIFO queue with the default DeduplicationScope (queue)
    queue = new_queue("fifo")
    # WHEN the same deduplication id is sent in two groups
    one = queue.send("in g1", group="g1", MessageDeduplicationId="same")
    two = queue.send("in g2", group="g2", MessageDeduplicationId="same")
    # THEN the second is the first message
    assert queue.attributes("DeduplicationScope") == {"DeduplicationScope": "queue"}
    assert two["MessageId"] == one["MessageId"]
    assert queue.counts() == (1, 0, 0)


# -- depth: what a receive looks at ------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_a_receive_at_5000_messages_looks_at_no_more_than_one_at_10(new_queue: Callable[..., Queue], kind: str) -> None:
    # GIVEN a queue of 10 messages and one of 5,000, all visible
    shallow, deep = new_queue(kind), new_queue(kind)
    shallow.send_many(10)
    deep.send_many(5000)
    assert deep.counts() == (5000, 0, 0)

    # WHEN each answers one ReceiveMessage of 10
    assert len(shallow.receive(count=10)) == 10
    assert len(deep.receive(count=10)) == 10

    # THEN the deep queue's receive looked at as many index entries as the shallow one's:
    # the ten it returned (and, FIFO, their group), not the queue
    looked_at_shallow = shallow.stats()["last_receive"]["inspected"]
    looked_at_deep = deep.stats()["last_receive"]["inspected"]
    assert looked_at_deep <= looked_at_shallow <= 12
    assert deep.counts() == (4990, 10, 0)


def test_a_receive_skips_messages_in_flight_without_looking_at_them(new_queue: Callable[..., Queue]) -> None:
    # GIVEN a standard queue of 2,000 messages, 1,990 of them in flight, and 10 sent last
    queue = new_queue()
    queue.send_many(1990)
    while queue.counts()[0]:
        queue.receive(count=10, visibility=60)
    queue.send_many(10)

    # WHEN it is received
    received = queue.receive(count=10)

    # THEN the receive returns the 10 visible ones and looked at no message in flight
    assert len(received) == 10
    assert queue.stats()["last_receive"]["inspected"] <= 10
    assert queue.counts() == (0, 2000, 0)
