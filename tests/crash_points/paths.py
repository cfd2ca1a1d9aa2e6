"""Every path an order takes, with what it must end in: the catalogue the exploration kills.

A path names the function whose invocation dies (`killed`), which of its invocations
(`picks`, on the event), the orders it starts from and how they arrive, and what the
order must end with: its final status and how many times each side effect happens.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# Side effects, each counted from outside (the stand-ins' request logs, the archive bucket,
# an inbox subscribed to the alert topic, the functions' calls to SQS).
ARCHIVES = "archive objects"
TELEGRAM = "Telegram messages"
ALERTS = "alerts"
REQUEUES = "requeued orders"  # standard queues: feedback's sends; FIFO: the worker's recorded holds
PAGE_READS = "task runs (page reads)"
LINKEDIN = "LinkedIn posts"
PERPLEXITY = "Perplexity calls"
EFFECTS = (ARCHIVES, TELEGRAM, ALERTS, REQUEUES, PAGE_READS, LINKEDIN, PERPLEXITY)

SLOW_TASK_SECONDS = 2.0  # the context of the timed-out path's worker: its page answers later


def _body(event: dict[str, Any]) -> dict[str, Any]:
    return json.loads(event["Records"][0]["body"]) if "Records" in event else {}


def _message_ids(event: dict[str, Any]) -> list[str]:
    return [str(record["messageId"]) for record in event["Records"]]


def first(event: dict[str, Any]) -> bool:
    return True


def on_fifo_queue(event: dict[str, Any]) -> bool:
    return "Records" in event and "MessageGroupId" in event["Records"][0]["attributes"]


def attempt(retry_count: int) -> Callable[[dict[str, Any]], bool]:
    def picks(event: dict[str, Any]) -> bool:
        if on_fifo_queue(event):  # one message through the attempts: its n-th receive runs attempt n - 1
            return int(event["Records"][0]["attributes"]["ApproximateReceiveCount"]) == retry_count + 1
        return (_body(event).get("retryCount") or 0) == retry_count

    return picks


def _cancelled_invocation(event: dict[str, Any], earlier: list[dict[str, Any]]) -> bool:
    if on_fifo_queue(event):
        return not earlier
    return _message_ids(event) == _message_ids((earlier or [event])[0])[:1]


def follow_up(action: str) -> Callable[[dict[str, Any]], bool]:
    def picks(event: dict[str, Any]) -> bool:
        return _body(event).get("followUpAction") == action

    return picks


@dataclass(frozen=True)
class Path:
    name: str
    killed: str  # webhook, worker or feedback
    # The documents, given `page(folder, name="")`: a URL of the target site unique to the
    # scenario (`/ok/...`, `/fail-once/...`, `/down/...`, `/slow/...`, `/large/...`).
    orders: Callable[[Callable[..., str]], list[dict[str, Any]]]
    final: str
    effects: dict[str, int] = field(default_factory=dict)  # per order; an effect not named happens 0 times
    picks: Callable[[dict[str, Any]], bool] = first
    batch: bool = False  # posted as one batch (else one request per order)
    straight_to_queue: bool = False  # sent to the order queue by another repository, not the webhook
    posted_before: bool = False  # posted once (answered) before the request that dies: a client's retry
    # The effects when the killed invocation ran its task and died before recording it, and
    # the task's page answers differently the second time (None: as `effects`).
    after_rerun: dict[str, int] | None = None
    # Seconds the context gives an invocation of a function with an event, given the events
    # of its earlier invocations not killed (None: 30 s).
    timeout: Callable[[str, dict[str, Any], list[dict[str, Any]]], float | None] = lambda function, event, earlier: None
    queue_types: tuple[str, ...] = ("standard", "fifo")  # the deployment modes the path exists in
    fifo_effects: dict[str, int] | None = None  # on FIFO queues, where they differ (None: as `effects`)


def order(url_or_task: str, **fields: Any) -> dict[str, Any]:
    """A valid order; `url_or_task` is a page URL (url-monitoring) or a task type."""
    if url_or_task.startswith("http"):
        document: dict[str, Any] = {"taskType": "url-monitoring", "payload": {"url": url_or_task}}
    else:
        document = {"taskType": url_or_task, "payload": {}}
    payload = {**document["payload"], **fields.pop("payload", {})}
    return {**document, "payload": payload, "userId": "user-42", "deduplicationId": f"d-{uuid.uuid4()}", **fields}


def with_action(action: str) -> dict[str, Any]:
    return {"configuration": {"followUpAction": action}}


ARCHIVED_ONCE = {ARCHIVES: 1, PAGE_READS: 1}
# A fail-once page read, the attempt killed before it recorded the failure: the redelivered
# attempt reads it again and succeeds, so nothing is requeued.
FAIL_ONCE_RUN_TWICE = {ARCHIVES: 1, PAGE_READS: 2}

PATHS = [
    # ---------------------------------------------------------------- webhook
    Path("webhook: one order", "webhook", lambda page: [order(page("ok"))], "archived", ARCHIVED_ONCE),
    Path(
        "webhook: a batch",
        "webhook",
        lambda page: [
            order(page("ok", "a")),
            {**order(page("ok", "b")), "orderId": str(uuid.uuid4())},
            {k: v for k, v in order(page("ok", "c")).items() if k != "deduplicationId"}
            | {"orderId": str(uuid.uuid4())},
        ],
        "archived",
        ARCHIVED_ONCE,
        batch=True,
    ),
    Path(
        "webhook: a retried request",
        "webhook",
        lambda page: [order(page("ok"))],
        "archived",
        ARCHIVED_ONCE,
        posted_before=True,
    ),
    # ---------------------------------------------------------------- worker
    Path("worker: success", "worker", lambda page: [order(page("ok"))], "archived", ARCHIVED_ONCE),
    Path(
        "worker: failure, then requeue",
        "worker",
        lambda page: [order(page("fail-once"))],
        "archived",
        {ARCHIVES: 1, PAGE_READS: 2, REQUEUES: 1},
        picks=attempt(0),
        after_rerun=FAIL_ONCE_RUN_TWICE,
    ),
    Path(
        "worker: retries spent, then escalate",
        "worker",
        lambda page: [order(page("down"), payload={"retryPolicy": {"maxRetries": 1}})],
        "escalated",
        {ALERTS: 1, PAGE_READS: 2, REQUEUES: 1},
        picks=attempt(1),
    ),
    Path(
        "worker: cancelled (no time left)",
        "worker",
        lambda page: [order("text-processing", payload={"parameters": {"text": "Queues carry orders."}})],
        "archived",
        {ARCHIVES: 1, REQUEUES: 1},
        fifo_effects={ARCHIVES: 1},  # its message returns at once: no retry is recorded
        # The invocations of the order's first message alone have no time left: they send
        # `cancelled`, feedback requeues the order, and the requeued message runs. On FIFO
        # queues the order keeps its one message: its first invocation that lives has no
        # time left, holds the message for no time, and the next receive runs it.
        timeout=lambda function, event, earlier: (
            0.0 if function == "worker" and _cancelled_invocation(event, earlier) else None
        ),
    ),
    Path(
        "worker: timed out",
        "worker",
        lambda page: [order(page("slow"), payload={"retryPolicy": {"maxRetries": 0}})],
        "escalated",
        {ALERTS: 1, PAGE_READS: 1},
        timeout=lambda function, event, earlier: SLOW_TASK_SECONDS if function == "worker" else None,
    ),
    Path(
        "worker: result stored in S3",
        "worker",
        lambda page: [{**order(page("large")), "taskType": "playwright-scraping"}],
        "archived",
        ARCHIVED_ONCE,
    ),
    Path(
        "worker: an order sent straight to the queue",
        "worker",
        lambda page: [{**order(page("fail-once")), "orderId": str(uuid.uuid4()), "timestamp": "2026-12-01T10:00:00Z"}],
        "archived",
        {ARCHIVES: 1, PAGE_READS: 2, REQUEUES: 1},
        straight_to_queue=True,
        after_rerun=FAIL_ONCE_RUN_TWICE,
    ),
    Path(
        "worker: a URL to a refused address",
        "worker",
        lambda page: [order("http://169.254.169.254/latest/meta-data/")],  # the instance metadata service
        "escalated",
        {ALERTS: 1},
    ),
    Path(
        "worker: a LinkedIn post",
        "worker",
        lambda page: [
            order(
                "scheduled-linkedin",
                payload={"parameters": {"topic": "queues", "publish": True, "author": "urn:li:person:1"}},
            )
        ],
        "archived",
        {ARCHIVES: 1, LINKEDIN: 1, PERPLEXITY: 1},
    ),
    # ---------------------------------------------------------------- feedback
    Path(
        "feedback: notify",
        "feedback",
        lambda page: [order(page("ok"), payload=with_action("notify"))],
        "notified",
        {TELEGRAM: 1, PAGE_READS: 1},
    ),
    Path(
        "feedback: enhance",
        "feedback",
        lambda page: [order(page("ok"), payload=with_action("enhance"))],
        "notified",
        {TELEGRAM: 1, PERPLEXITY: 1, PAGE_READS: 1},
    ),
    Path(
        "feedback: requeue",
        "feedback",
        lambda page: [order(page("fail-once"))],
        "archived",
        {ARCHIVES: 1, PAGE_READS: 2, REQUEUES: 1},
        picks=follow_up("requeue"),
        queue_types=("standard",),  # on FIFO queues the worker holds a failed order: no requeue result
    ),
    Path(
        "feedback: escalate",
        "feedback",
        lambda page: [order(page("down"), payload={"retryPolicy": {"maxRetries": 0}})],
        "escalated",
        {ALERTS: 1, PAGE_READS: 1},
    ),
    Path(
        "feedback: archive",
        "feedback",
        lambda page: [order(page("ok"), payload=with_action("archive"))],
        "archived",
        ARCHIVED_ONCE,
    ),
]


def paths_for(queue_type: str) -> list[Path]:
    """The paths an order takes in a deployment mode (QueueType)."""
    return [path for path in PATHS if queue_type in path.queue_types]
