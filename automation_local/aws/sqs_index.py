"""Indexed SQS queues for the emulator server: a ReceiveMessage costs the same at any depth.

Why a patch, and what upstream does: moto (5.2.5, and getmoto/moto's main as of 2026)
keeps each queue as one list of messages and answers most calls by scanning it.
`Queue.messages` builds the list of visible messages on every access, reading a
datetime-based clock twice per message (its own comment: "This can become very
inefficient if a large number of messages are in-flight"); the three
`ApproximateNumberOfMessages*` counts scan the list again; `receive_message` checks the
retention of every message it returns through `get_queue_attributes`, which computes every
attribute, those three counts included, three times over. A ReceiveMessage of 10 on a
queue of 5,000 messages so reads the clock about 600,000 times (1.1 s; cProfile: 98% in
`is_message_valid_based_on_retention_period` -> `Queue.attributes` -> `unix_time_millis`).
SendMessage scans too (`queue.attributes` for ContentBasedDeduplication, and every message
for a FIFO deduplication id), DeleteMessage and ChangeMessageVisibility search every
message's receipt handles. That is why `make backlog` took 560 s to enqueue and 42 minutes
to drain.

LocalStack's provider (localstack/services/sqs/models.py) keeps a heap of visible messages,
a set of in-flight ones scanned on each receive, a receipt-handle map and, for FIFO queues,
a heap per message group and a queue of groups. This module does the same inside moto's own
classes, so the wire format, validation and errors stay moto's: each queue gets an index
(`QueueIndex`) of its messages,

- a heap of the messages that can be received now, in send order (FIFO: one per message
  group, and a heap of the groups that have none in flight, by their oldest message);
- a heap of the messages in flight or delayed, by the time they become receivable, moved to
  the first heap when that time has come (at the next call on the queue);
- a heap of every message by its enqueue time, for the retention period;
- a map of every receipt handle a message has had, and counts of messages by state;
- FIFO: the deduplication ids of the last five minutes (queue- or group-scoped);

so a receive looks at the messages it returns (and entries left by deleted ones), a send or
a delete costs a heap push or a dict lookup, and the counts are kept, not computed. Heap
entries of messages that changed state since are dropped when they come up (each entry
carries the message's version). One lock per queue makes each call atomic, which moto's
list scans were not under the threaded server.

Semantics kept from moto (what the emulator answered before, and AWS allows): messages in
send order; a message received `maxReceiveCount` times moves to the DLQ when a receive
would return it again (its receipt handles, receive count and send time go with it); any
receipt handle a message has had deletes it or changes its visibility, a handle of a
deleted message deletes nothing without error, an unknown one is `ReceiptHandleIsInvalid`;
ChangeMessageVisibility's 12-hour limit counted from the send. Where moto departed from
AWS, AWS's rule: a message past the queue's retention period is deleted (moto stopped the
receive at it and kept it forever); FIFO deduplication holds for five minutes from the
first send, also once that message is deleted, per message group with
`DeduplicationScope=messageGroup`, and a deduplicated send answers the first message's id
and sequence number (moto compared ids only with messages still queued, ignored the scope,
and answered a new id); a FIFO receive returns as many messages of one group as it can
before the next group ("Amazon SQS tries to return as many messages with the same message
group ID as possible", the developer guide; moto interleaved groups by send time); FIFO
messages get increasing sequence numbers (moto: random, or none with content-based
deduplication); a long poll sleeps until a send, a visibility change or the next message's
visibility timeout, not in steps of a second.

`install(app)` patches moto's classes (`patch_moto`, once) and returns `app` wrapped to answer
`GET /_emulator/sqs`: per queue ARN its counts and what the index did (receives, heap
entries inspected in all and by the last receive, messages delivered, dead-lettered,
expired, deduplicated), so a test can see a receive's work without timing it. The request
is the server's like any other: the API-call count shows it as `unsigned:GET`.
"""

from __future__ import annotations

import heapq
import json
import threading
import time
import urllib.request
import weakref
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from moto.core.utils import unix_time_millis
from moto.sqs import models as sqs_models
from moto.sqs.exceptions import InvalidParameterValue, ReceiptHandleIsInvalid
from moto.sqs.models import DEDUPLICATION_TIME_IN_SECONDS, Message, Queue, SQSBackend, sqs_backends

STATS_PATH = "/_emulator/sqs"
READY, IN_FLIGHT, DELAYED = "visible", "not_visible", "delayed"
STATES = (READY, IN_FLIGHT, DELAYED)
MAX_TOTAL_VISIBILITY_MS = 43_200 * 1000  # moto's (and AWS's) 12 hours
DEDUPLICATION_MS = DEDUPLICATION_TIME_IN_SECONDS * 1000
# FIFO sequence numbers: 20 digits as AWS's are, increasing with each accepted send.
SEQUENCE_NUMBER_BASE = 10**19
# A heap is rebuilt from the live messages when it holds this many times more entries.
COMPACT_FACTOR = 4
COMPACT_MINIMUM = 1024

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WsgiApp = Callable[[Environ, StartResponse], Iterable[bytes]]
ReadyEntry = tuple[int, int]  # (sequence, version)
WaitingEntry = tuple[float, int, int]  # (receivable at in ms, sequence, version)

_INDEXES: weakref.WeakSet[QueueIndex] = weakref.WeakSet()
_indexes_lock = threading.Lock()  # queues are made on the server's threads while stats are read
_installed = False
_install_lock = threading.Lock()


def _now_ms() -> float:
    return unix_time_millis()  # moto's clock: the one its messages' timestamps come from


def _handles(message: Message) -> Iterator[str]:
    return (handle for handle in message.all_receipt_handles if handle)


class QueueIndex:
    """The messages of one moto `Queue`, indexed by when they can be received."""

    def __init__(self, queue: Queue) -> None:
        self.queue = queue
        self.cond = threading.Condition(threading.RLock())
        self.stats: Counter[str] = Counter()
        self.last_receive: dict[str, int] = {"inspected": 0, "delivered": 0}
        self.next_sequence = 0  # never reset: a sequence names one message of this queue
        # FIFO deduplication: key -> (first send in ms, message id, sequence number), and the
        # keys in the order they were first sent, to forget them after five minutes. A purge
        # keeps them, as it keeps moto's deleted receipt handles.
        self.dedup: dict[tuple[str | None, str], tuple[float, str, str | None]] = {}
        self.dedup_order: deque[tuple[float, tuple[str | None, str]]] = deque()
        self.clear()
        with _indexes_lock:
            _INDEXES.add(self)

    def clear(self) -> None:
        self.live: dict[int, Message] = {}  # sequence -> message, every message the queue holds
        self.handles: dict[str, Message] = {}  # every receipt handle a live message has had
        self.ready: list[ReadyEntry] = []  # standard queues: receivable now, by sequence
        self.waiting: list[WaitingEntry] = []  # in flight or delayed, by when receivable
        self.by_age: list[tuple[float, int]] = []  # (enqueued at, sequence): retention
        self.counts: dict[str, int] = dict.fromkeys(STATES, 0)
        self.group_ready: dict[str, list[ReadyEntry]] = {}  # FIFO: receivable now, per group
        self.group_in_flight: Counter[str] = Counter()  # FIFO: messages in flight, per group
        self.groups: list[tuple[int, str]] = []  # FIFO: (oldest receivable, group), groups not in flight

    # -- bookkeeping -----------------------------------------------------------------------

    def _group(self, message: Message) -> str | None:
        return message.group_id if self.queue.fifo_queue and message.group_id else None

    def _valid(self, sequence: int, version: int) -> Message | None:
        message = self.live.get(sequence)
        return message if message is not None and message._sqs_version == version else None  # type: ignore[attr-defined]

    def _leave_state(self, message: Message) -> None:
        state = getattr(message, "_sqs_state", None)
        message._sqs_version = getattr(message, "_sqs_version", 0) + 1  # type: ignore[attr-defined]
        message._sqs_state = None  # type: ignore[attr-defined]
        if state is None:
            return
        self.counts[state] -= 1
        group = self._group(message)
        if state == IN_FLIGHT and group is not None:
            self.group_in_flight[group] -= 1
            if self.group_in_flight[group] <= 0:
                del self.group_in_flight[group]
                self._offer_group(group)

    def _set_state(self, message: Message, state: str, receivable_at: float = 0.0) -> None:
        self._leave_state(message)
        message._sqs_state = state  # type: ignore[attr-defined]
        self.counts[state] += 1
        sequence, version = message._sqs_sequence, message._sqs_version  # type: ignore[attr-defined]
        group = self._group(message)
        if state == READY:
            if group is None:
                heapq.heappush(self.ready, (sequence, version))
                self._compact_ready()
            else:
                heapq.heappush(self.group_ready.setdefault(group, []), (sequence, version))
                if not self.group_in_flight.get(group):
                    heapq.heappush(self.groups, (sequence, group))
            return
        heapq.heappush(self.waiting, (receivable_at, sequence, version))
        self._compact_waiting()
        if state == IN_FLIGHT and group is not None:
            self.group_in_flight[group] += 1

    def _place(self, message: Message, now: float) -> None:
        """Files a live message under its state now, from moto's own visibility and delay times."""
        receivable_at = max(message.visible_at, message.delayed_until)
        if receivable_at <= now:
            self._set_state(message, READY)
        else:
            self._set_state(message, IN_FLIGHT if message.visible_at > now else DELAYED, receivable_at)

    def _offer_group(self, group: str) -> None:
        """A group with no message in flight: receivable again from its oldest visible message."""
        heap = self.group_ready.get(group)
        if heap is not None:
            self.stats["inspected"] += self._drop_stale(heap)
            if heap:
                heapq.heappush(self.groups, (heap[0][0], group))
            else:
                del self.group_ready[group]

    def _drop_stale(self, heap: list[ReadyEntry]) -> int:
        dropped = 0
        while heap and self._valid(*heap[0]) is None:
            heapq.heappop(heap)
            dropped += 1
        return dropped

    def _compact_ready(self) -> None:
        if len(self.ready) > COMPACT_MINIMUM and len(self.ready) > COMPACT_FACTOR * self.counts[READY]:
            self.ready = [entry for entry in self.ready if self._valid(*entry) is not None]
            heapq.heapify(self.ready)

    def _compact_waiting(self) -> None:
        waiting = self.counts[IN_FLIGHT] + self.counts[DELAYED]
        if len(self.waiting) > COMPACT_MINIMUM and len(self.waiting) > COMPACT_FACTOR * waiting:
            self.waiting = [entry for entry in self.waiting if self._valid(entry[1], entry[2]) is not None]
            heapq.heapify(self.waiting)

    def _compact_by_age(self) -> None:
        if len(self.by_age) > COMPACT_MINIMUM and len(self.by_age) > COMPACT_FACTOR * len(self.live):
            self.by_age = [entry for entry in self.by_age if entry[1] in self.live]
            heapq.heapify(self.by_age)

    def insert(self, message: Message, now: float, enqueued_at: float) -> None:
        sequence = self.next_sequence
        self.next_sequence += 1
        message._sqs_sequence = sequence  # type: ignore[attr-defined]
        message._sqs_state = None  # type: ignore[attr-defined]
        message._sqs_version = getattr(message, "_sqs_version", 0) + 1  # type: ignore[attr-defined]
        self.live[sequence] = message
        for handle in _handles(message):
            self.handles[handle] = message
        heapq.heappush(self.by_age, (enqueued_at, sequence))
        self._compact_by_age()
        self._place(message, now)
        self.cond.notify_all()

    def remove(self, message: Message) -> None:
        self._leave_state(message)
        self.live.pop(message._sqs_sequence, None)  # type: ignore[attr-defined]
        for handle in _handles(message):
            if self.handles.get(handle) is message:
                del self.handles[handle]

    def tick(self, now: float) -> int:
        """Deletes what outlived the retention period and makes receivable what is due;
        returns the heap entries it looked at."""
        inspected = 0
        retention_ms = int(self.queue.message_retention_period) * 1000  # type: ignore[attr-defined]
        while self.by_age and self.by_age[0][0] + retention_ms <= now:
            _enqueued, sequence = heapq.heappop(self.by_age)
            inspected += 1
            message = self.live.get(sequence)
            if message is not None:
                self.remove(message)
                self.queue.deleted_messages.update(_handles(message))
                self.stats["expired"] += 1
        while self.waiting and self.waiting[0][0] <= now:
            _at, sequence, version = heapq.heappop(self.waiting)
            inspected += 1
            message = self._valid(sequence, version)
            if message is not None:
                self._place(message, now)
        self.stats["inspected"] += inspected
        return inspected

    def seconds_to_next_change(self, now: float) -> float | None:
        return max(0.001, (self.waiting[0][0] - now) / 1000) if self.waiting else None

    # -- FIFO deduplication ----------------------------------------------------------------

    def _dedup_key(self, message: Message) -> tuple[str | None, str] | None:
        if not message.deduplication_id:
            return None
        scope = getattr(self.queue, "deduplication_scope", "queue")
        return (message.group_id if scope == "messageGroup" else None, message.deduplication_id)

    def deduplicated(self, message: Message, now: float) -> bool:
        """A send whose deduplication id was accepted within five minutes: answered with the
        first message's id and sequence number, not queued."""
        while self.dedup_order and self.dedup_order[0][0] + DEDUPLICATION_MS <= now:
            sent, old_key = self.dedup_order.popleft()
            if old_key in self.dedup and self.dedup[old_key][0] == sent:
                del self.dedup[old_key]
        key = self._dedup_key(message)
        if key is None or (first := self.dedup.get(key)) is None:
            return False
        message.id, message.sequence_number = first[1], first[2]
        self.stats["deduplicated"] += 1
        return True

    def remember_deduplication_id(self, message: Message, now: float) -> None:
        key = self._dedup_key(message)
        if key is not None:
            sent = float(message.sent_timestamp or now)
            self.dedup[key] = (sent, message.id, message.sequence_number)
            self.dedup_order.append((sent, key))

    # -- receiving -------------------------------------------------------------------------

    def _max_receive_count(self) -> int | None:
        queue = self.queue
        if queue.dead_letter_queue is None or not queue.redrive_policy:  # type: ignore[attr-defined]
            return None
        return int(queue.redrive_policy["maxReceiveCount"])  # type: ignore[attr-defined]

    def take(
        self, count: int, visibility_timeout: int, now: float, attribute_names: list[str]
    ) -> tuple[list[Message], list[Message], int]:
        """Up to `count` receivable messages, marked received (copies, their attributes
        filtered, as moto answers them), the messages to move to the DLQ, and the heap
        entries looked at."""
        max_receives = self._max_receive_count()
        taken: list[Message] = []
        to_dlq: list[Message] = []
        visible_again: list[Message] = []  # received with VisibilityTimeout 0: placed after this call
        inspected = 0

        def deliver(message: Message) -> None:
            if max_receives is not None and message.approximate_receive_count >= max_receives:
                self.remove(message)
                to_dlq.append(message)
                return
            self._leave_state(message)
            message.mark_received(visibility_timeout=visibility_timeout)
            self.handles[message.receipt_handle] = message  # type: ignore[index]
            if message.visible_at > now:
                self._set_state(message, IN_FLIGHT, message.visible_at)
            else:
                visible_again.append(message)
            # moto answers a deep copy; its filter only rebinds the attributes, so a shallow one
            # does, made without Message.__new__ (moto's BaseModel keeps every instance made).
            answer = object.__new__(Message)
            answer.__dict__.update(message.__dict__)
            sqs_models._filter_message_attributes(answer, attribute_names)
            taken.append(answer)

        if not self.queue.fifo_queue:
            while len(taken) < count and self.ready:
                entry = heapq.heappop(self.ready)
                inspected += 1
                message = self._valid(*entry)
                if message is not None:
                    deliver(message)
        else:
            while len(taken) < count and self.groups:
                head, group = heapq.heappop(self.groups)
                inspected += 1
                heap = self.group_ready.get(group)
                if self.group_in_flight.get(group) or heap is None:
                    continue  # in flight (offered again when it is not) or nothing receivable
                inspected += self._drop_stale(heap)
                if not heap:
                    del self.group_ready[group]
                    continue
                if heap[0][0] != head:  # an entry from before its oldest message changed
                    heapq.heappush(self.groups, (heap[0][0], group))
                    continue
                # As many of one group as the call takes, in order (AWS's FIFO receive).
                while len(taken) < count and heap:
                    entry = heapq.heappop(heap)
                    inspected += 1
                    message = self._valid(*entry)
                    if message is not None:
                        deliver(message)
                inspected += self._drop_stale(heap)
                if not heap:
                    self.group_ready.pop(group, None)
                elif not self.group_in_flight.get(group):
                    heapq.heappush(self.groups, (heap[0][0], group))

        for message in visible_again:
            self._place(message, now)
        self.stats["inspected"] += inspected
        return taken, to_dlq, inspected


def index_of(queue: Queue) -> QueueIndex:
    index: QueueIndex | None = queue.__dict__.get("_sqs_index")
    if index is None:
        index = queue.__dict__["_sqs_index"] = QueueIndex(queue)
        # A queue made before `install()` brings its list along.
        now = _now_ms()
        for message in queue.__dict__.pop("_messages", []):
            index.insert(message, now, float(message.sent_timestamp or now))
    return index


def _invoke_event_source_mappings(queue: Queue) -> None:
    """What moto's `Queue.add_message` does after queueing a message (copied, as the rest of
    that method is replaced): each enabled Lambda event source mapping of the queue receives
    a batch and invokes its function. The local runtime disables them and polls itself."""
    for arn, esm in queue.lambda_event_source_mappings.items():
        if not esm.enabled:
            continue
        backend = sqs_backends[queue.account_id][queue.region]
        messages = backend.receive_message(
            queue.name,
            esm.batch_size,
            queue.receive_message_wait_time_seconds,  # type: ignore[attr-defined]
            queue.visibility_timeout,  # type: ignore[attr-defined]
        )
        from moto.awslambda.utils import get_backend

        result = get_backend(queue.account_id, queue.region).send_sqs_batch(arn, messages, queue.queue_arn)
        for message in messages:
            if result:
                backend.delete_message(queue.name, message.receipt_handle)  # type: ignore[arg-type]
            else:
                backend.change_message_visibility(queue.name, message.receipt_handle, visibility_timeout=0)  # type: ignore[arg-type]


def _move_to_dead_letter_queue(queue: Queue, messages: list[Message]) -> None:
    dlq = queue.dead_letter_queue
    if dlq is None or not messages:
        return
    index = index_of(dlq)
    with index.cond:
        now = _now_ms()
        for message in messages:
            # AWS keeps a standard message's enqueue time (retention counts from the first
            # send) and resets a FIFO message's.
            enqueued_at = now if dlq.fifo_queue else float(message.sent_timestamp or now)
            index.insert(message, now, enqueued_at)
        index.stats["dead_lettered_in"] += len(messages)
    _invoke_event_source_mappings(dlq)


# -- the patched methods (installed by `install`) -------------------------------------------


def _get_messages_list(self: Queue) -> list[Message]:
    index = index_of(self)
    with index.cond:
        return list(index.live.values())


def _set_messages_list(self: Queue, messages: list[Message]) -> None:
    """`queue._messages = [...]` (moto's __init__ and purge_queue): the index starts again."""
    index = index_of(self)
    with index.cond:
        for message in list(index.live.values()):
            index.remove(message)
        index.clear()
        now = _now_ms()
        for message in messages:
            index.insert(message, now, float(message.sent_timestamp or now))
        index.cond.notify_all()


def _receivable_messages(self: Queue) -> list[Message]:
    index = index_of(self)
    with index.cond:
        index.tick(_now_ms())
        return [m for m in index.live.values() if getattr(m, "_sqs_state", None) == READY]


def _in_flight_messages(self: Queue) -> set[Message]:
    index = index_of(self)
    with index.cond:
        index.tick(_now_ms())
        return {m for m in index.live.values() if getattr(m, "_sqs_state", None) == IN_FLIGHT}


def _groups_in_flight(self: Queue) -> set[str]:
    index = index_of(self)
    with index.cond:
        index.tick(_now_ms())
        return set(index.group_in_flight)


def _count_of(state: str) -> property:
    def count(self: Queue) -> int:
        index = index_of(self)
        with index.cond:
            index.tick(_now_ms())
            return index.counts[state]

    return property(count)


def _add_message(self: Queue, message: Message) -> None:
    index = index_of(self)
    with index.cond:
        now = _now_ms()
        if self.fifo_queue and index.deduplicated(message, now):
            return
        index.insert(message, now, float(message.sent_timestamp or now))
        if self.fifo_queue:
            message.sequence_number = str(SEQUENCE_NUMBER_BASE + message._sqs_sequence)  # type: ignore[attr-defined]
            index.remember_deduplication_id(message, now)
    _invoke_event_source_mappings(self)


def _delete_message(self: Queue, receipt_handle: str) -> None:
    index = index_of(self)
    with index.cond:
        if receipt_handle in self.deleted_messages:
            return  # already deleted: moto answers success again
        message = index.handles.get(receipt_handle)
        if message is None:
            raise ReceiptHandleIsInvalid()
        index.remove(message)
        self.deleted_messages.update(_handles(message))


def _wait_for_messages(self: Queue, timeout: int) -> None:
    index = index_of(self)

    def receivable() -> bool:
        index.tick(_now_ms())
        return index.counts[READY] > 0

    with index.cond:
        index.cond.wait_for(receivable, timeout=timeout)


def _receive_message(
    self: SQSBackend,
    queue_name: str,
    count: int,
    wait_seconds_timeout: int,
    visibility_timeout: int,
    message_attribute_names: list[str] | None = None,
) -> list[Message]:
    queue = self.get_queue(queue_name)
    index = index_of(queue)
    deadline = time.monotonic() + (wait_seconds_timeout or 0)
    inspected = 0
    while True:
        with index.cond:
            now = _now_ms()
            inspected += index.tick(now)
            taken, to_dlq, looked_at = index.take(count, visibility_timeout, now, message_attribute_names or [])
            inspected += looked_at
            index.stats["dead_lettered_out"] += len(to_dlq)
            remaining = deadline - time.monotonic()
            if not taken and not to_dlq and remaining > 0:
                # Long poll: a send or a visibility change wakes it, else the next message due.
                next_change = index.seconds_to_next_change(now)
                index.cond.wait(remaining if next_change is None else min(remaining, next_change))
                continue
            done = bool(taken) or remaining <= 0
            if done:
                index.stats["receives"] += 1
                index.stats["delivered"] += len(taken)
                index.last_receive = {"inspected": inspected, "delivered": len(taken)}
        _move_to_dead_letter_queue(queue, to_dlq)  # outside this queue's lock: the DLQ takes its own
        if done:
            return taken


def _change_message_visibility(self: SQSBackend, queue_name: str, receipt_handle: str, visibility_timeout: int) -> None:
    queue = self.get_queue(queue_name)
    index = index_of(queue)
    with index.cond:
        message = index.handles.get(receipt_handle)
        if message is None:
            raise ReceiptHandleIsInvalid
        now = _now_ms()
        if now + int(visibility_timeout) * 1000 - message.sent_timestamp > MAX_TOTAL_VISIBILITY_MS:  # type: ignore[operator]
            raise InvalidParameterValue(
                f"Value {visibility_timeout} for parameter VisibilityTimeout is invalid. Reason: Total "
                "VisibilityTimeout for the message is beyond the limit [43200 seconds]"
            )
        message.change_visibility(visibility_timeout)
        index._place(message, _now_ms())
        index.cond.notify_all()


def patch_moto() -> None:
    """Replaces the methods of moto's SQS classes that scan a queue (once per process)."""
    global _installed
    with _install_lock:
        if _installed:
            return
        patches: dict[type, dict[str, Any]] = {
            Queue: {
                "_messages": property(_get_messages_list, _set_messages_list),
                "messages": property(_receivable_messages),
                "pending_messages": property(_in_flight_messages),
                "pending_message_groups": property(_groups_in_flight),
                "approximate_number_of_messages": _count_of(READY),
                "approximate_number_of_messages_not_visible": _count_of(IN_FLIGHT),
                "approximate_number_of_messages_delayed": _count_of(DELAYED),
                "add_message": _add_message,
                "delete_message": _delete_message,
                "wait_for_messages": _wait_for_messages,
            },
            SQSBackend: {
                "receive_message": _receive_message,
                "change_message_visibility": _change_message_visibility,
            },
        }
        for cls, members in patches.items():
            for name, member in members.items():
                setattr(cls, name, member)
        _installed = True


def install(app: WsgiApp) -> Any:
    """`patch_moto()`, and `app` wrapped to answer STATS_PATH. (Any: the server assigns the
    result over its moto app, a DomainDispatcherApplication.)"""
    patch_moto()
    return SqsStatsApp(app)


def queue_stats() -> dict[str, dict[str, Any]]:
    """What STATS_PATH answers: per queue ARN, its counts and what its index did."""
    stats: dict[str, dict[str, Any]] = {}
    with _indexes_lock:
        indexes = list(_INDEXES)
    for index in indexes:
        queue = index.queue
        if sqs_backends[queue.account_id][queue.region].queues.get(queue.name) is not queue:
            continue  # deleted, not yet collected
        with index.cond:
            index.tick(_now_ms())
            stats[queue.queue_arn] = {
                "messages": len(index.live),
                **index.counts,
                **{key: index.stats[key] for key in ("receives", "inspected", "delivered", "expired", "deduplicated")},
                "dead_lettered": index.stats["dead_lettered_out"],
                "last_receive": dict(index.last_receive),
                "heap_entries": len(index.ready) + len(index.waiting) + sum(len(h) for h in index.group_ready.values()),
            }
    return stats


class SqsStatsApp:
    """WSGI middleware: answers GET STATS_PATH with `queue_stats()`, passes the rest on."""

    def __init__(self, app: WsgiApp) -> None:
        self._app = app

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != STATS_PATH:
            return self._app(environ, start_response)
        body = json.dumps(queue_stats(), sort_keys=True).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]


def fetch_queue_stats(endpoint_url: str) -> dict[str, dict[str, Any]]:
    """STATS_PATH of a running emulator server (for tests and the benchmark)."""
    with urllib.request.urlopen(f"{endpoint_url}{STATS_PATH}", timeout=10) as answer:  # noqa: S310 - the emulator's URL
        stats: dict[str, dict[str, Any]] = json.loads(answer.read())
    return stats
