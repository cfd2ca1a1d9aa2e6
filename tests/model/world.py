"""What the model of clients drives and observes: a stack of its own in an emulator of its
own, the functions' handlers loaded against it, the target site its orders' tasks fetch,
and one clock moved forward for both (automation_local/aws/clock.py).

An emulator of its own, since the model moves the emulator's clock by days, which no other
test's queues should see. The consumers are driven as the event source mappings drive them:
a receive, one invocation with the messages as a Lambda SQS event, the messages the
response does not name deleted, the others left to come back after their visibility timeout.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from aws_lambda_powertools.utilities import parameters

from automation_local.aws.clock import SharedClock
from automation_local.aws.emulator import Emulator
from automation_local.cloudformation.outputs import BackboneOutputs
from automation_local.cloudformation.stack import DeployedStack, deploy
from automation_local.ops.queue_counts import queue_counts
from automation_local.ops.redrive import RedriveReport, redrive_backbone
from automation_local.outside.account import LocalIntegrations, webhook_secret
from automation_local.outside.standins import STAND_IN_NETWORKS, ScriptedSite
from automation_shared.order_records import OrderRecords
from tests.functions.handlers import context_for, loaded_handler, seed_integrations
from tests.functions.queues import Queue
from tests.functions.webhook_client import WebhookClient

QUEUES = ("order", "result", "order-dlq", "result-dlq")
# What the event source mappings of template.yaml take in one invocation (FIFO queues' mappings:
# one message, so each receive of a message is a try of it).
BATCH_SIZES = {("standard", "order"): 10, ("standard", "result"): 10, ("fifo", "order"): 1, ("fifo", "result"): 1}
# When nothing is visible but messages wait (in flight, delayed, held for a backoff), the
# drain moves the clock past the longest of these: the queues' visibility timeouts (300 s,
# 180 s), SQS's longest delay and the longest backoff (900 s).
LONGEST_WAIT_SECONDS = 901
# A day past the 5 minutes FIFO queues remember a deduplication id and a signature is valid:
# each example starts where nothing of the one before is remembered but its records.
BETWEEN_EXAMPLES_SECONDS = 24 * 3600


class ConsumerCrashedError(AssertionError):
    """A handler raised instead of reporting batch item failures."""


@dataclass
class Invocation:
    messages: list[dict[str, Any]]
    failed: set[str]


@dataclass
class World:
    queue_type: str
    emulator: Emulator
    stack: DeployedStack
    clock: SharedClock
    # Two execution environments of the webhook: concurrent requests never share one.
    webhooks: tuple[WebhookClient, WebhookClient]
    worker: ModuleType
    feedback: ModuleType
    site: ScriptedSite
    journal_dir: Path
    outputs: BackboneOutputs = field(init=False)
    queues: dict[str, Queue] = field(init=False)
    records: OrderRecords = field(init=False)

    def __post_init__(self) -> None:
        self.outputs = BackboneOutputs.of(self.stack.outputs)
        self.queues = {name: Queue(self.emulator, url) for name, url in self.outputs.queues.items()}
        self.records = OrderRecords(self.emulator.client("dynamodb"), self.outputs.orders_table_name)
        self._sqs = self.emulator.client("sqs")
        self._dynamodb = self.emulator.client("dynamodb")
        self._first_request = 0  # of the site's requests (a list it appends to), the example's first

    @property
    def fifo(self) -> bool:
        return self.stack.fifo

    # ------------------------------------------------------------------ observing
    def messages_in(self, queue: str) -> int:
        """Every message the queue holds: visible, in flight and delayed."""
        return queue_counts(self._sqs, self.outputs.queues[queue]).total

    def items(self, *attributes: str) -> list[dict[str, Any]]:
        """Every item of the orders table: these attributes of it (all when none are named:
        an order's record holds the order, up to hundreds of KB)."""
        items: list[dict[str, Any]] = []
        request: dict[str, Any] = {"TableName": self.outputs.orders_table_name, "ConsistentRead": True}
        if attributes:
            names = {f"#a{index}": name for index, name in enumerate(attributes)}
            request |= {"ProjectionExpression": ", ".join(names), "ExpressionAttributeNames": names}
        while True:
            answer = self._dynamodb.scan(**request)
            items += answer.get("Items", [])
            if "LastEvaluatedKey" not in answer:
                return items
            request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]

    def stored_result(self, key: str) -> dict[str, Any]:
        """The result a `result#<orderId>#<attempt>` item holds (the worker's stored result)."""
        item = self._dynamodb.get_item(
            TableName=self.outputs.orders_table_name, Key={"id": {"S": key}}, ConsistentRead=True
        ).get("Item", {})
        return dict(json.loads(item["result"]["S"])) if "result" in item else {}

    def fetches(self) -> Counter[str]:
        """Requests the target site answered since the example started, by path: one per run
        of a task that fetches it."""
        return Counter(request.path for request in self.site.requests[self._first_request :])

    # ------------------------------------------------------------------ acting
    def consume(self, queue: str, most: int | None = None) -> Invocation | None:
        """One invocation of the queue's consumer on what one receive returns now (None if
        nothing), as its event source mapping runs it."""
        most = most or BATCH_SIZES[(self.queue_type, queue)]
        source = self.queues[queue]
        messages = source.receive_now(min(most, BATCH_SIZES[(self.queue_type, queue)]))
        if not messages:
            return None
        handler, function = (self.worker, "worker") if queue == "order" else (self.feedback, "feedback")
        try:
            response = handler.lambda_handler(source.event(messages), context_for(function))
        except Exception as crash:
            raise ConsumerCrashedError(f"{function} raised on a batch of {len(messages)}: {crash!r}") from crash
        failed = {failure["itemIdentifier"] for failure in response["batchItemFailures"]}
        source.delete([m for m in messages if m["MessageId"] not in failed])
        return Invocation(messages, failed)

    def drain(self, most_rounds: int = 200) -> None:
        """The consumers run until the order and result queues are empty, the clock moved past
        every wait when nothing is visible; what fails for good ends in a DLQ."""
        for _ in range(most_rounds):
            worked = bool(self.consume("order")) | bool(self.consume("result"))
            if worked:
                continue
            if self.messages_in("order") + self.messages_in("result") == 0:
                return
            self.clock.advance(LONGEST_WAIT_SECONDS)
        raise AssertionError(f"the queues still hold messages after {most_rounds} rounds of the consumers")

    def redrive(self, queue: str) -> RedriveReport:
        """`automation-local redrive <queue>`: its DLQ back to the queue, each order's status set back."""
        return redrive_backbone(self._sqs, self._dynamodb, self.outputs, queue, self.journal_dir, wait_seconds=0)

    def expire_items(self) -> None:
        """What the table's TTL does once time has passed: items whose `expiration` is past are
        deleted (DynamoDB does it within days; the emulator never does)."""
        now = time.time()
        for item in self.items("id", "expiration"):
            if "expiration" in item and int(item["expiration"]["N"]) < now:
                self._dynamodb.delete_item(TableName=self.outputs.orders_table_name, Key={"id": item["id"]})

    def start_afresh(self) -> None:
        """Between examples: the clock a day on (what an example left in flight is visible
        again), every queue and the table emptied."""
        self.clock.advance(BETWEEN_EXAMPLES_SECONDS)
        for queue in QUEUES:
            self.queues[queue].drain()
        for item in self.items("id"):
            self._dynamodb.delete_item(TableName=self.outputs.orders_table_name, Key={"id": item["id"]})
        self._first_request = len(self.site.requests)


def model_stack_parameters(queue_type: str) -> dict[str, str]:
    """The template's defaults, but FIFO's required settings (a FIFO order queue needs 5
    receives or more, a FIFO mapping takes 10 at most) and outbound calls allowed to the
    target site on 127.0.0.1."""
    fifo = {"OrderQueueMaxReceiveCount": "5", "ResultBatchSize": "10"} if queue_type == "fifo" else {}
    return {
        "ProjectName": f"model-{queue_type}",
        "QueueType": queue_type,
        "OutboundAllowedNetworks": STAND_IN_NETWORKS,
        **fifo,
    }


@contextmanager
def model_world(queue_type: str, journal_dir: Path) -> Iterator[World]:
    # Powertools keeps one client per parameter store for the process, made for the emulator
    # of the first handler that read one: this world's handlers need one for its own emulator,
    # and the handlers of the tests after it one for theirs.
    parameters.clear_caches()
    with ExitStack() as running:
        running.callback(parameters.clear_caches)
        emulator = running.enter_context(Emulator())
        clock = running.enter_context(SharedClock(emulator.endpoint_url))
        stack = deploy(emulator, stack_name=f"model-{queue_type}", parameters=model_stack_parameters(queue_type))
        seed_integrations(emulator, stack)
        integrations = running.enter_context(LocalIntegrations())
        site = running.enter_context(ScriptedSite())
        secret = webhook_secret(emulator, stack)
        webhooks = tuple(
            WebhookClient(running.enter_context(loaded_handler(emulator, stack, "webhook")), secret) for _ in range(2)
        )
        worker = running.enter_context(loaded_handler(emulator, stack, "worker", **integrations.environment))
        feedback = running.enter_context(loaded_handler(emulator, stack, "feedback", **integrations.environment))
        yield World(queue_type, emulator, stack, clock, webhooks, worker, feedback, site, journal_dir)  # type: ignore[arg-type]


def problem_paths(reply_json: Any) -> list[str]:
    """The field paths a problem document names."""
    if not isinstance(reply_json, dict):
        return []
    return [str(error.get("path")) for error in reply_json.get("errors", []) if isinstance(error, dict)]


def dumps(document: Any, *, ascii_only: bool) -> bytes:
    return json.dumps(document, ensure_ascii=ascii_only).encode()
