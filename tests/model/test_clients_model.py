"""A model of clients: what integrating repositories do with the webhook and the order queue,
in any order hypothesis finds, against the functions on the emulator, checked after every
step for what must never happen, and at the end of each example for what must happen.

Rules (what clients and operators do): post one order or a batch (users drawn from a few;
`deduplicationId` and `orderId` absent, fresh or reused across users; fields near their
limits, `null`, unicode, numbers as strings); send a signed request again, or twice at once
from two threads; write straight to the order queue (webhook-shaped and hand-written
bodies); GET an order's status; let time pass; redrive a DLQ. And the consumers, run as their
event source mappings run them, so messages flow.

Safety, after every step: no 5xx for what a client sent (503 is AWS refusing: safe to retry,
nothing enqueued); nothing enqueued for a 4xx, nor by a request sent again; every field the
contract refuses is named in the 422; every `duplicate` answer names an order of the same
user and key, and every `queued` one an order of its own; no task runs twice for one order
and attempt (the target site's requests against the worker's stored results); every item of
the orders table has an expiry.

Liveness, at the end of each example, once the consumers have emptied the queues (the clock
moved past every visibility timeout and delay): every order answered `queued`, and every
valid order written straight to the queue, has reached one final state (FINAL_STATES), a GET
shows it, and its task ran.

Time passes through one clock offset of the emulator and this process (automation_local/aws/
clock.py), never by sleeping. The examples and steps run are printed at the end of the
session; HYPOTHESIS_PROFILE=deep runs ten times the examples.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from automation_local.apigateway.events import http_api_event
from automation_shared.contracts import OrderMessage
from automation_shared.messages import fifo_id, order_message
from automation_shared.order_records import FINAL_STATES, TERMINAL_STATES
from tests.functions.webhook_client import Reply, fresh_signed_headers
from tests.hypothesis_runs import count_example
from tests.model.client_orders import ClientOrder, Pools, hand_written_bodies, order_bodies
from tests.model.world import World, dumps, model_world, problem_paths

pytestmark = pytest.mark.slow

# The example count is the profile's divided by this (ci: 60 -> 30, deep: 600 -> 300), each
# of at most STEPS rules: within the 3 minutes `make test` gives the model on 2 cores.
EXAMPLES_DIVISOR = 2
STEPS = 15
# Time a client lets pass: a second, past the result and order queues' visibility timeouts
# (180 s, 300 s), SQS's longest delay and backoff (900 s), the signature window, an hour, and
# past the 7 days a stored result is kept. At most MOST_DAYS in one example: an order's
# record is kept 30 days, and the liveness check reads it at the end.
WAITS_SECONDS = [1, 181, 301, 901, 3600, 8 * 24 * 3600]
MOST_DAYS = 20
ANSWERED_QUEUED = "answered queued"
# The final states feedback reaches by acting on a result: the order's task ran.
ACTED_ON = {"notified", "archived", "escalated"}


@pytest.fixture(scope="module")
def world(queue_type: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with model_world(queue_type, tmp_path_factory.mktemp(f"model-{queue_type}")) as running:
        yield running


@dataclass
class Accepted:
    """An order the backbone took on: answered `queued`, or written straight to the queue."""

    order_id: str
    user: str
    page: str | None  # the site path its task fetches, if it fetches one
    how: str


@dataclass
class SentRequest:
    event: dict[str, Any]
    orders: list[ClientOrder]
    is_batch: bool


@dataclass
class Ledger:
    """What the model knows of the example so far."""

    accepted: dict[str, Accepted] = field(default_factory=dict)  # by order id
    keys: dict[str, set[tuple[str, str]]] = field(default_factory=lambda: defaultdict(set))  # order id -> (user, key)
    sent: list[SentRequest] = field(default_factory=list)
    results_seen: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # page -> result keys
    results_read: set[str] = field(default_factory=set)


class ClientsModel(RuleBasedStateMachine):
    """The clients; `world` is set by the test before hypothesis runs it."""

    world: ClassVar[World]

    def __init__(self) -> None:
        super().__init__()
        self.world.start_afresh()
        self.pools = Pools()
        self.ledger = Ledger()
        self.days_passed = 0.0
        self.site_url = self.world.site.base_url
        self._step_open = False
        count_example(f"model of clients, {self.world.queue_type}: examples")

    def _step(self) -> None:
        count_example(f"model of clients, {self.world.queue_type}: steps")
        self._step_open = True  # until the invariants after it have passed

    # ------------------------------------------------------------------ the webhook's clients
    @rule(data=st.data(), as_batch=st.booleans(), ascii_only=st.booleans())
    def post_orders(self, data: st.DataObject, as_batch: bool, ascii_only: bool) -> None:
        self._step()
        orders = data.draw(order_bodies(self.site_url, self.pools), label="orders")
        is_batch = as_batch or len(orders) > 1
        body = dumps([o.document for o in orders] if is_batch else orders[0].document, ascii_only=ascii_only)
        event = self._signed_post(body)
        self.ledger.sent.append(SentRequest(event, orders, is_batch))
        [reply] = self._send_counted([event], orders, is_batch)
        self._check_refusal_names_each_broken_field(reply, orders, is_batch)

    @precondition(lambda self: bool(self.ledger.sent))
    @rule(data=st.data())
    def send_a_request_again(self, data: st.DataObject) -> None:
        """A signed request sent again as it was (a retry, a proxy's replay): it queues nothing."""
        self._step()
        sent = data.draw(st.sampled_from(self.ledger.sent), label="request")
        before = self.world.messages_in("order")
        reply = self.world.webhooks[0].send(sent.event)
        self._no_server_error(reply)
        answers = _answers(reply, sent.is_batch)
        assert not any(a.get("status") == "queued" for a in answers), f"a request sent again queued: {reply.json}"
        assert self.world.messages_in("order") == before, f"a request sent again enqueued: {reply.status}"

    @rule(data=st.data())
    def send_one_request_twice_at_once(self, data: st.DataObject) -> None:
        """Two copies of one signed request at the same moment (a client's retry racing its
        first try), each in an execution environment of its own: 202 or 401, never a 5xx."""
        self._step()
        orders = data.draw(order_bodies(self.site_url, self.pools), label="orders")
        is_batch = len(orders) > 1
        event = self._signed_post(
            dumps([o.document for o in orders] if is_batch else orders[0].document, ascii_only=True)
        )
        self._send_counted([event, json.loads(json.dumps(event))], orders, is_batch)

    @rule(data=st.data())
    def get_status(self, data: st.DataObject) -> None:
        self._step()
        known = sorted(self.ledger.accepted)
        order_id = data.draw(
            (st.sampled_from(known) if known else st.nothing()) | st.just(str(uuid.uuid4())) | st.just("not-a-uuid"),
            label="orderId",
        )
        before = self.world.messages_in("order")
        reply = self.world.webhooks[0].get(order_id)
        self._no_server_error(reply)
        assert self.world.messages_in("order") == before
        if reply.status == 200 and order_id in self.ledger.accepted:
            assert reply.json["userId"] == self.ledger.accepted[order_id].user, (
                f"GET {order_id} shows another user's order: {reply.json.get('userId')!r}"
            )

    # ------------------------------------------------------------------ producers writing to the queue
    @rule(data=st.data())
    def send_an_order_to_the_queue(self, data: st.DataObject) -> None:
        """Another repository's producer: a valid order written straight to the order queue
        (with the attributes, group and deduplication id the webhook's messages have)."""
        self._step()
        orders = data.draw(order_bodies(self.site_url, self.pools).filter(lambda os: not os[0].breaks), label="order")
        client = orders[0]
        # A producer names its order; its deduplicationId is left out, since a FIFO queue would
        # drop the message as another's with that id within 5 minutes (as it should).
        document = {**client.document, "orderId": str(uuid.uuid4())}
        document.pop("deduplicationId", None)
        document.setdefault("timestamp", datetime.now(UTC).isoformat())
        order = OrderMessage.model_validate(document)
        message = order_message(order, fifo=self.world.fifo)
        entry = message.batch_entry("0")
        sqs = self.world.emulator.client("sqs")
        try:
            sqs.send_message(
                QueueUrl=self.world.outputs.order_queue_url,
                MessageBody=entry["MessageBody"],
                MessageAttributes=entry["MessageAttributes"],
                **{k: v for k, v in entry.items() if k in ("MessageGroupId", "MessageDeduplicationId")},
            )
        except sqs.exceptions.ClientError:
            return  # SQS refused it (too large for the queue): the producer knows, nothing was sent
        self._accept(order.orderId, order.userId, client.page, "sent to the queue")
        self.ledger.keys[order.orderId].add((order.userId, order.orderId))

    @rule(body=hand_written_bodies(), user=st.sampled_from(["user-7", "Zoë 用户 🚀"]))
    def write_a_body_to_the_queue_by_hand(self, body: str, user: str) -> None:
        """A producer's hand-written body the contract may refuse (the consumers must not
        leave anything behind for it but a DLQ message)."""
        self._step()
        fifo = {"MessageGroupId": fifo_id(user), "MessageDeduplicationId": uuid.uuid4().hex} if self.world.fifo else {}
        self.world.queues["order"].send_raw(body, **fifo)

    # ------------------------------------------------------------------ the backbone and its operator
    @rule(queue=st.sampled_from(["order", "result"]), most=st.integers(1, 10))
    def consumers_take_a_batch(self, queue: str, most: int) -> None:
        self._step()
        self.world.consume(queue, most)

    @precondition(lambda self: self.days_passed + max(WAITS_SECONDS) / 86400 <= MOST_DAYS)
    @rule(seconds=st.sampled_from(WAITS_SECONDS))
    def let_time_pass(self, seconds: int) -> None:
        self._step()
        self.world.clock.advance(seconds)
        self.days_passed += seconds / 86400
        self.world.expire_items()

    @rule(queue=st.sampled_from(["order", "result"]))
    def redrive_a_dead_letter_queue(self, queue: str) -> None:
        self._step()
        self.world.redrive(queue)

    # ------------------------------------------------------------------ safety
    @invariant()
    def records_expire_and_tasks_run_once(self) -> None:
        items = self.world.items("id", "expiration")
        without = [item["id"]["S"] for item in items if "expiration" not in item]
        assert not without, f"items without an expiry (kept forever): {without}"
        self._note_results(items)
        for page, runs in self.world.fetches().items():
            attempts = self.ledger.results_seen.get(page, set())
            assert runs <= len(attempts), (
                f"the task fetching {page} ran {runs} times for {len(attempts)} attempts with a result: "
                f"{sorted(attempts)}"
            )
        self._step_open = False  # the step and its checks passed

    # ------------------------------------------------------------------ liveness
    def teardown(self) -> None:
        if self._step_open:  # a step failed: its failure is the example's; the next starts afresh
            return
        self.world.drain()
        self.records_expire_and_tasks_run_once()
        fetches = self.world.fetches()
        final = {s.value for s in FINAL_STATES}
        terminal = {s.value for s in TERMINAL_STATES}
        for order in self.ledger.accepted.values():
            reply = self.world.webhooks[0].get(order.order_id)
            assert reply.status == 200, f"{order.how} {order.order_id}: GET answers {reply.status} {reply.json}"
            status = reply.json["status"]
            assert status in final, f"{order.how} {order.order_id} ended {status!r}"
            ends = [entry["status"] for entry in reply.json["history"] if entry["status"] in terminal]
            assert len(ends) <= 1, f"{order.how} {order.order_id} ended more than once: {ends}"
            # An order the webhook queued must run; one written straight to the queue may have been
            # refused or dead-lettered unrun (past the stack's bounds), but not acted on unrun.
            must_have_run = order.how == ANSWERED_QUEUED or status in ACTED_ON
            if order.page is not None and must_have_run:
                assert fetches[order.page] >= 1, f"{order.how} {order.order_id} ended {status!r}, its task never ran"

    # ------------------------------------------------------------------ helpers
    def _signed_post(self, body: bytes) -> dict[str, Any]:
        headers = {
            "content-type": "application/json",
            **fresh_signed_headers(self.world.webhooks[0].secret, "POST", "/orders", body),
        }
        return http_api_event("POST", "/orders", route_key="POST /orders", headers=headers, body=body)

    def _no_server_error(self, reply: Reply) -> None:
        assert reply.status < 500 or reply.status == 503, f"{reply.status} for what a client sent: {reply.json}"

    def _send_counted(self, events: list[dict[str, Any]], orders: list[ClientOrder], is_batch: bool) -> list[Reply]:
        """The events sent at once (one per webhook environment); checks what every answer
        may say and that no more was enqueued than answered `queued`."""
        before = self.world.messages_in("order")
        replies: list[Reply | None] = [None] * len(events)
        failures: list[BaseException] = []
        start = threading.Barrier(len(events))

        def send(index: int) -> None:
            try:
                start.wait()
                replies[index] = self.world.webhooks[index].send(events[index])
            except BaseException as failure:  # reported below, in the test's thread
                failures.append(failure)

        threads = [threading.Thread(target=send, args=(i,)) for i in range(len(events))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if failures:  # raised as it is, so that each cause is a failure of its own
            failures[0].add_note("500: the webhook raised this (API Gateway answers 500 for it)")
            raise failures[0]
        answered = [reply for reply in replies if reply is not None]
        enqueued = self.world.messages_in("order") - before
        queued_by_position: dict[int, set[str]] = defaultdict(set)
        for reply in answered:
            self._no_server_error(reply)
            if reply.status >= 300:
                continue
            answers = _answers(reply, is_batch)
            assert len(answers) == len(orders), f"{len(answers)} answers for {len(orders)} orders: {reply.json}"
            for position, (order, answer) in enumerate(zip(orders, answers, strict=True)):
                self._check_answer(order, answer, queued_by_position[position])
        # Two copies of one request may both send its order (the worker runs one of them): so
        # answers are counted, not orders.
        queued = sum(answer.get("status") == "queued" for reply in answered for answer in _answers(reply, is_batch))
        statuses = [reply.status for reply in answered]
        assert enqueued <= queued, f"{enqueued} messages enqueued for {queued} answers `queued` ({statuses})"
        return answered

    def _check_answer(self, order: ClientOrder, answer: dict[str, Any], queued_here: set[str]) -> None:
        order_id, status = answer.get("orderId"), answer.get("status")
        assert order.user is not None and not order.breaks, f"accepted an order the contract refuses: {order}"
        key = order.deduplication_id or order.order_id
        if order.order_id is not None:
            assert order_id == order.order_id or status == "duplicate", f"answered {order_id} for {order}"
        self.pools.order_ids.append(str(order_id))
        if status == "queued":
            twin = order_id in queued_here  # the copy sent at the same moment, answered for the same order
            queued_here.add(str(order_id))
            assert len(queued_here) == 1, f"one order queued as two: {sorted(queued_here)}"
            if twin:
                return
            earlier = self.ledger.accepted.get(str(order_id))
            assert earlier is None, (
                f"answered queued as {order_id}, the id of an order accepted before "
                f"({earlier and earlier.user!r}, keys {sorted(self.ledger.keys[str(order_id)])}): {order}"
            )
            self._accept(str(order_id), order.user, order.page, ANSWERED_QUEUED)
            self.ledger.keys[str(order_id)] |= {(order.user, str(order_id))} | ({(order.user, key)} if key else set())
        elif status == "duplicate":
            named = self.ledger.keys.get(str(order_id), set())
            wanted = (order.user, key)
            assert key is not None and wanted in named, (
                f"duplicate of {order_id}, which is not an order of user {order.user!r} with key {key!r} "
                f"(it is {sorted(named) or 'no order accepted'}): {order}"
            )

    def _check_refusal_names_each_broken_field(self, reply: Reply, orders: list[ClientOrder], is_batch: bool) -> None:
        broken = [
            (f"[{index}]." if is_batch else "") + path for index, order in enumerate(orders) for path in order.breaks
        ]
        if not broken:
            return
        assert 400 <= reply.status < 500, f"{reply.status} for orders with broken fields {broken}: {reply.json}"
        if reply.status == 422:
            named = problem_paths(reply.json)
            missing = [path for path in broken if path not in named]
            assert not missing, f"the 422 does not name {missing}; it names {named}"

    def _accept(self, order_id: str, user: str, page: str | None, how: str) -> None:
        self.ledger.accepted[order_id] = Accepted(order_id, user, page, how)

    def _note_results(self, items: list[dict[str, Any]]) -> None:
        """The worker's stored results (`result#<orderId>#<attempt>`), by the page each fetched:
        kept in the ledger, since the table's TTL deletes them after 7 days."""
        for item in items:
            key = item["id"]["S"]
            if not key.startswith("result#") or key in self.ledger.results_read:
                continue
            self.ledger.results_read.add(key)
            result = self.world.stored_result(key)
            final_url = ((result.get("result") or {}).get("data") or {}).get("finalUrl")
            accepted = self.ledger.accepted.get(str(result.get("orderId")))
            if isinstance(final_url, str) and final_url.startswith(self.site_url):
                self.ledger.results_seen[final_url.removeprefix(self.site_url)].add(key)
            elif accepted is not None and accepted.page is not None:  # a result without data (a timeout)
                self.ledger.results_seen[accepted.page].add(key)


def _answers(reply: Reply, is_batch: bool) -> list[dict[str, Any]]:
    if not isinstance(reply.json, dict) or reply.status >= 300:
        return []
    return list(reply.json.get("orders", [])) if is_batch else [reply.json]


def test_clients_of_the_backbone(world: World) -> None:
    """GIVEN the stack on the emulator, its webhook, worker and feedback handlers
    WHEN clients post, repeat, race, write to the queue, wait and redrive, in any order
    THEN no step breaks a safety rule, and every accepted order ends once, shown by GET"""
    ClientsModel.world = world
    run_state_machine_as_test(
        ClientsModel,
        settings=settings(
            max_examples=max(1, settings.default.max_examples // EXAMPLES_DIVISOR), stateful_step_count=STEPS
        ),
    )
