"""The demo load: planned orders sent into a running local runtime and followed to their end.

Orders with a webhook-valid document are POSTed to the local HTTP API in signed batches of
10 (several clients at once, each user's orders all from one client, one batch after the
other, so they reach the queue in plan order; retrying what the webhook asks to retry); the planned
dead-letter ones are written straight into the order queue. With `preload`, every order
is in the order queue before the pollers start instead: the backlog that builds up while
the consumers are paused (`ConsumersEnabled=false`) and then meets them all at once. The
run then reads each order's state from outside (status records and DLQs) until every
order is final or the timeout passes, showing progress, and returns a summary.

Given a run state (see run_state), every submission's outcome is journaled, so a run
started again after its runtime was killed sends only what had not been answered, then
follows every order of the plan.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from itertools import batched
from typing import Any

from automation_local.apigateway.client import signed_request
from automation_local.cost import run as cost_run
from automation_local.demo import side_effects
from automation_local.demo.plan import DEFAULT_USERS, Fate, PlannedOrder, plan
from automation_local.demo.tracker import OrderTracker, TrackedOrder
from automation_local.demo.user_order import Rank, ended_out_of_user_order
from automation_local.ops.queue_counts import queue_counts
from automation_local.run_state import RunState
from automation_local.runtime import LocalRuntime
from automation_shared.contracts import OrderMessage
from automation_shared.messages import fifo_id, order_message
from automation_shared.order_records import FINAL_STATES, OrderRecords, OrderState
from automation_shared.sqs_batches import MAX_ENTRIES as SQS_MAX_ENTRIES
from automation_shared.sqs_batches import send_batches

SUBMIT_BATCH_SIZE = 10
SUBMIT_CLIENTS = 4
SUBMIT_ATTEMPTS = 8
# 8 attempts span ~25 s: longer than a killed webhook's claim. At least 1 s apart, so each
# retry is signed with another timestamp (a second request with the same signature is refused).
MIN_BACKOFF_SECONDS = 1.0
MAX_BACKOFF_SECONDS = 5.0
POLL_SECONDS = 1.0
# Order statuses in a webhook answer that mean the order is in the queue.
ACCEPTED = {"queued", "duplicate"}

log = logging.getLogger(__name__)


@dataclass
class Summary:
    submitted: int = 0
    accepted: int = 0  # by the webhook
    rejected: int = 0  # by the webhook
    injected: int = 0  # the dead-letter ones, written straight into the order queue
    completed: int = 0  # notified or archived
    notified: int = 0
    archived: int = 0
    requeued: int = 0  # orders requeued at least once
    escalated: int = 0
    dead_lettered: int = 0
    filtered_out: int = 0
    lost: int = 0  # submitted orders in no final state
    unexpected: int = 0  # final, but not where their plan said they would end
    users: int = 0
    out_of_user_order: int = 0  # ended before an earlier order of their user (FIFO mode: never)
    seconds: float = 0.0
    invocations: dict[str, int] = field(default_factory=dict)
    invocation_errors: dict[str, int] = field(default_factory=dict)
    faults: dict[str, int] = field(default_factory=dict)  # dealt by the fault injection
    duplicates: dict[str, int] = field(default_factory=dict)  # see side_effects.duplicates
    cost: dict[str, Any] = field(default_factory=dict)  # what the run's usage costs on AWS (see cost/)

    def as_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=False)


def _post(url: str, secret: str, documents: list[dict[str, Any]]) -> tuple[int, dict[str, Any]]:
    status, answer = signed_request(url, secret, "POST", "/orders", json.dumps(documents).encode())
    return status, answer if isinstance(answer, dict) else {}


@dataclass(frozen=True)
class Answered:
    """A batch's outcome per order, and where each accepted order stands among the batch's
    in the order the queue took them: (attempt, index in the batch). An attempt that got no
    clear answer (5xx, no answer) may have sent any of the batch's orders, so every order
    accepted from then on stands at that attempt with index 0: tied, order unknown."""

    outcomes: dict[str, str]
    places: dict[str, tuple[int, int]]

    @classmethod
    def all_accepted(cls, orders: list[PlannedOrder]) -> Answered:
        """Orders written to the queue in this order, all taken (no webhook in between)."""
        return cls({o.order_id: "accepted" for o in orders}, {o.order_id: (0, i) for i, o in enumerate(orders)})


def _submit_batch(
    url: str, secret: str, batch: list[PlannedOrder], stopping: threading.Event | None = None
) -> Answered:
    """Each order `accepted` or `rejected`, with its place; orders the webhook asks to retry
    are sent again."""
    outcome: dict[str, str] = {}
    places: dict[str, tuple[int, int]] = {}
    unclear_since: int | None = None
    pending = list(batch)
    for attempt in range(SUBMIT_ATTEMPTS):
        status, answer = _post(url, secret, [o.document for o in pending])
        if 400 <= status < 500 and status not in (409, 429):
            return Answered(outcome | {o.order_id: "rejected" for o in pending}, places)
        statuses = {o["orderId"]: o["status"] for o in answer.get("orders", [])}
        for index, order in enumerate(batch):
            if order in pending and statuses.get(order.order_id) in ACCEPTED:
                outcome[order.order_id] = "accepted"
                places[order.order_id] = (attempt, index) if unclear_since is None else (unclear_since, 0)
        if status >= 500 and unclear_since is None:
            unclear_since = attempt
        pending = [o for o in pending if o.order_id not in outcome]
        if not pending:
            return Answered(outcome, places)
        if (stopping or threading.Event()).wait(min(MAX_BACKOFF_SECONDS, MIN_BACKOFF_SECONDS * 2**attempt)):
            return Answered(outcome, places)  # the run is stopping: the rest stays unanswered (a resumed run sends it)
    return Answered(outcome | {o.order_id: "rejected" for o in pending}, places)


def _inject(runtime: LocalRuntime, orders: list[PlannedOrder]) -> Answered:
    """Bodies another producer sends straight to the order queue (on FIFO queues in their
    user's group, named by the planned order: the bodies need not be valid orders)."""
    sqs = runtime.emulator.client("sqs")
    assert runtime.stack is not None
    fifo = runtime.stack.fifo
    for chunk in batched(orders, SQS_MAX_ENTRIES, strict=False):
        entries: list[dict[str, Any]] = [
            {"Id": str(i), "MessageBody": json.dumps(o.document)} for i, o in enumerate(chunk)
        ]
        if fifo:
            for entry, order in zip(entries, chunk, strict=True):
                user = order.document.get("userId") if isinstance(order.document, dict) else None
                entry["MessageGroupId"] = fifo_id(str(user or order.order_id))
                entry["MessageDeduplicationId"] = order.order_id
        sqs.send_message_batch(QueueUrl=runtime.outputs.order_queue_url, Entries=entries)
    return Answered.all_accepted(orders)


def _preload(runtime: LocalRuntime, orders: list[PlannedOrder]) -> None:
    """What the webhook does for each accepted order (its status record, then the message
    with its attributes), in SendMessageBatch calls of 10, with the shared layer's code."""
    assert runtime.stack is not None
    records = OrderRecords(runtime.emulator.client("dynamodb"), runtime.outputs.orders_table_name)
    accepted = [OrderMessage.model_validate(o.document) for o in orders]
    for order in accepted:
        records.record_accepted(order)
    refused = send_batches(
        runtime.emulator.client("sqs"),
        runtime.outputs.order_queue_url,
        [order_message(o, fifo=runtime.stack.fifo) for o in accepted],
    )
    if refused:
        raise RuntimeError(f"the order queue refused {len(refused)} preloaded orders")


COMPLETED_STATES = (OrderState.NOTIFIED, OrderState.ARCHIVED)


def _as_planned(order: PlannedOrder, state: TrackedOrder) -> bool:
    match order.fate:
        case Fate.SUCCEEDS:
            return state.status in COMPLETED_STATES and state.retry_count == 0
        case Fate.RETRIED:
            return state.status in COMPLETED_STATES and state.retry_count >= 1
        case Fate.ESCALATED:
            return state.status is OrderState.ESCALATED
        case Fate.DEAD_LETTERED:
            return state.status is OrderState.DEAD_LETTERED


def tracker_of(runtime: LocalRuntime) -> OrderTracker:
    """Where each order of the runtime's stack is, read as an operator reads it."""
    return OrderTracker(
        runtime.emulator.client("dynamodb"),
        runtime.emulator.client("sqs"),
        runtime.outputs.orders_table_name,
        runtime.outputs.dead_letter_queue_urls,
    )


def queue_depths(runtime: LocalRuntime) -> dict[str, int]:
    """Messages in each queue and DLQ (visible, in flight and delayed), by short name (`order-dlq`)."""
    sqs = runtime.emulator.client("sqs")
    return {name: queue_counts(sqs, queue_url).total for name, queue_url in runtime.outputs.queues.items()}


def _summarise(
    orders: list[PlannedOrder],
    submitted: dict[str, str],
    states: dict[str, TrackedOrder],
    runtime: LocalRuntime,
    ranks: dict[str, Rank],
) -> Summary:
    finals = {i: s for i, s in states.items() if s.status in FINAL_STATES}
    counts = Counter(s.status for s in finals.values())
    stats = runtime.mapping_stats()
    summary = Summary(
        submitted=len(orders),
        accepted=sum(submitted.get(o.order_id) == "accepted" for o in orders if o.through_webhook),
        rejected=sum(submitted.get(o.order_id) == "rejected" for o in orders if o.through_webhook),
        injected=sum(not o.through_webhook for o in orders),
        notified=counts[OrderState.NOTIFIED],
        archived=counts[OrderState.ARCHIVED],
        completed=counts[OrderState.NOTIFIED] + counts[OrderState.ARCHIVED],
        requeued=sum(s.retry_count > 0 for s in states.values()),
        escalated=counts[OrderState.ESCALATED],
        dead_lettered=counts[OrderState.DEAD_LETTERED],
        filtered_out=sum(s["filtered_out"] for s in stats.values()),
        unexpected=sum(1 for o in orders if o.order_id in finals and not _as_planned(o, finals[o.order_id])),
        users=len({o.user_id for o in orders}),
        out_of_user_order=ended_out_of_user_order(orders, ranks, finals),
        invocations={k: s["invocations"] for k, s in stats.items()},
        invocation_errors={k: s["invocation_errors"] for k, s in stats.items()},
    )
    summary.lost = summary.submitted - summary.rejected - len(finals)
    return summary


@dataclass(frozen=True)
class Progress:
    """Where a run is, for a display: its summary so far and the queues' depths (by short
    name, `order-dlq`), with each mapping's function (short name) to label its invocations."""

    elapsed: float
    summary: Summary
    depths: dict[str, int]
    functions: dict[str, str]

    @property
    def final(self) -> int:
        return self.summary.completed + self.summary.escalated + self.summary.dead_lettered

    @property
    def expected(self) -> int:
        """Orders that will end: every one submitted but those the webhook refused."""
        return self.summary.submitted - self.summary.rejected

    def stages(self) -> str:
        """Per stage: accepted, each function's invocations, ends by kind, queue depths."""
        summary, depths = self.summary, self.depths
        invocations = "".join(f"  {self.functions[m]} {n} inv" for m, n in summary.invocations.items())
        return (
            f"accepted {summary.accepted}/{summary.submitted - summary.injected}{invocations}"
            f"  done {summary.completed}, requeued {summary.requeued}, escalated {summary.escalated},"
            f" DLQ {summary.dead_lettered}"
            f"  queues order {depths['order']} result {depths['result']}"
            f" DLQs {depths['order-dlq']}/{depths['result-dlq']}"
        )

    def line(self) -> str:
        return f"{self.elapsed:6.1f}s  final {self.final}/{self.expected}  {self.stages()}"


def _duplicates(runtime: LocalRuntime, planned: list[PlannedOrder]) -> dict[str, int]:
    return side_effects.duplicates(
        planned,
        runtime.integrations.telegram.requests,
        runtime.site.requests,
        side_effects.archived(runtime.emulator.client("s3"), runtime.outputs.archive_bucket_name),
    )


@dataclass
class Submissions:
    """What the run knows of its submissions, as the clients learn it: each order's outcome
    (`accepted` or `rejected`), and each accepted order's rank in the order the queue took
    them (see demo/user_order.py): (answer, attempt, index), equal for orders whose order is
    unknown. Written by the clients, read by the run's loop."""

    outcomes: dict[str, str] = field(default_factory=dict)
    ranks: dict[str, Rank] = field(default_factory=dict)
    _answers: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, answered: Answered, state: RunState | None) -> None:
        with self._lock:
            if state:
                state.record_submissions(answered.outcomes)
            self.outcomes.update(answered.outcomes)
            self._answers += 1
            for order_id, (attempt, index) in answered.places.items():
                self.ranks.setdefault(order_id, (self._answers, attempt, index))

    def now(self) -> tuple[dict[str, str], dict[str, Rank]]:
        """The outcomes and the ranks known now."""
        with self._lock:
            return dict(self.outcomes), dict(self.ranks)


def _streams(orders: list[PlannedOrder], clients: int) -> list[list[PlannedOrder]]:
    """The orders split among the clients, each user's all in one client's share, in plan order."""
    streams: list[list[PlannedOrder]] = [[] for _ in range(clients)]
    client_of: dict[str, int] = {}
    for order in orders:
        streams[client_of.setdefault(order.user_id, len(client_of) % clients)].append(order)
    return [stream for stream in streams if stream]


def _submit(
    runtime: LocalRuntime,
    planned: list[PlannedOrder],
    clients: ThreadPoolExecutor,
    stopping: threading.Event,
    *,
    preload: bool,
    note: Callable[[str], None] | None,
) -> tuple[Submissions, list[Future[None]]]:
    """Sends what the run state does not show as answered (preloaded ones before the
    pollers start), then starts the pollers: the submissions, filled in as the clients'
    answers come (each journaled), and a future per client."""
    assert runtime.http_api is not None
    state = runtime.state
    submissions = Submissions(outcomes=state.submissions() if state else {})
    known = set(submissions.outcomes)
    to_inject = [o for o in planned if not o.through_webhook and o.order_id not in known]
    if to_inject:
        submissions.add(_inject(runtime, to_inject), state)
    through_webhook = [o for o in planned if o.through_webhook and o.order_id not in known]
    if preload and through_webhook:
        _preload(runtime, through_webhook)
        submissions.add(Answered.all_accepted(through_webhook), state)
        through_webhook = []
        if note:
            note(f"preloaded {len(planned)} orders; pollers start")
    runtime.start_polling()
    url, secret = runtime.http_api.url, runtime.webhook_secret

    def submit_stream(stream: list[PlannedOrder]) -> None:
        for batch in batched(stream, SUBMIT_BATCH_SIZE, strict=False):
            if stopping.is_set():
                return
            submissions.add(_submit_batch(url, secret, list(batch), stopping), state)

    return submissions, [clients.submit(submit_stream, stream) for stream in _streams(through_webhook, SUBMIT_CLIENTS)]


def run_demo_load(
    runtime: LocalRuntime,
    *,
    orders: int,
    fail_rate: float,
    seed: int,
    timeout: float,
    preload: bool = False,
    progress: Callable[[Progress], None] | None = None,
    note: Callable[[str], None] | None = None,
    users: int = DEFAULT_USERS,
) -> Summary:
    """`progress`: called with where the run is, about once a second; `note`: with a line
    worth showing once (the preload's end)."""
    assert runtime.stack is not None
    started = time.monotonic()
    cost_mark = cost_run.mark_or_reason(runtime)
    planned = plan(orders, fail_rate, seed, runtime.site.base_url, users=users)
    tracker = tracker_of(runtime)
    # Not `with`: a run stopped (Ctrl-C) tells its clients to stop and does not wait for them.
    clients, stopping = ThreadPoolExecutor(SUBMIT_CLIENTS, thread_name_prefix="client"), threading.Event()
    try:
        submissions, futures = _submit(runtime, planned, clients, stopping, preload=preload, note=note)
        summary = Summary()
        finals: dict[str, TrackedOrder] = {}
        while True:
            done = [f.result() for f in futures if f.done()]
            current, ranks = submissions.now()
            open_ids = [i for i, v in current.items() if v == "accepted" and i not in finals]
            states = {**finals, **tracker.states(open_ids)}
            finals = {i: s for i, s in states.items() if s.status in FINAL_STATES}
            summary = _summarise(planned, current, states, runtime, ranks)
            summary.seconds = round(time.monotonic() - started, 1)
            if progress:
                progress(Progress(summary.seconds, summary, queue_depths(runtime), runtime.mapping_functions()))
            if len(done) == len(futures) and summary.lost == 0:
                break
            if time.monotonic() - started > timeout:
                break
            time.sleep(POLL_SECONDS)
    finally:
        stopping.set()
        clients.shutdown(wait=False, cancel_futures=True)
    summary.faults = runtime.faults.counts() if runtime.faults else {}
    summary.duplicates = _duplicates(runtime, planned)
    summary.cost = _cost(runtime, cost_mark, len(planned), fail_rate)
    return summary


def _cost(runtime: LocalRuntime, since: cost_run.RunMark | str, orders: int, fail_rate: float) -> dict[str, Any]:
    """The run's cost on AWS; a run whose cost cannot be measured still has its summary."""
    if isinstance(since, str):
        return {"error": since}
    try:
        return cost_run.run_cost(runtime, since, orders=orders, fail_rate=fail_rate)
    except Exception as error:
        log.warning("the run's cost could not be measured: %s: %s", type(error).__name__, error)
        return {"error": f"{type(error).__name__}: {error}"}
