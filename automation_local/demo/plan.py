"""What a demo load sends: orders over every task type and priority, a share made to fail.

Each planned order has a fate, so the run can check that it ended where it should:

- `succeeds`: a valid order; web tasks read an `/ok/` page of the local site. Follow-up
  actions are spread over notify, enhance, archive and none (archived).
- `retried`: a web task on a `/fail-once/` page: the first attempt fails, feedback
  requeues it, the second succeeds.
- `escalated`: a web task on a `/down/` page: every attempt fails until its retries
  (2 here, to keep the demo short) are spent, then feedback escalates it.
- `dead-lettered`: a message the contract refuses (its payload is not an object), written
  straight into the order queue as a faulty producer would (the webhook refuses it): the
  worker reports it on every receive, and the queue moves it to its DLQ after
  `maxReceiveCount` receives.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from automation_local.demo.orders import WEB_TASK_TYPES, task_parameters
from automation_shared.contracts import Priority, TaskType


class Fate(StrEnum):
    SUCCEEDS = "succeeds"
    RETRIED = "retried"
    ESCALATED = "escalated"
    DEAD_LETTERED = "dead-lettered"


FAILING_FATES = (Fate.RETRIED, Fate.ESCALATED, Fate.DEAD_LETTERED)
FOLLOW_UPS = ("notify", "enhance", "archive", None)
FAILING_ORDER_RETRY_POLICY = {"maxRetries": 2, "backoffMultiplier": 2}
DEMO_TIMESTAMP = "2026-11-25T10:00:00Z"


@dataclass(frozen=True)
class PlannedOrder:
    order_id: str
    document: dict[str, Any]
    fate: Fate

    @property
    def through_webhook(self) -> bool:
        return self.fate is not Fate.DEAD_LETTERED

    @property
    def user_id(self) -> str:
        return str(self.document["userId"])


def _order_id(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _page(site_url: str, fate: Fate, order_id: str) -> str:
    folder = {Fate.RETRIED: "fail-once", Fate.ESCALATED: "down"}.get(fate, "ok")
    return f"{site_url}/{folder}/{order_id}"


DEFAULT_USERS = 7


def plan(count: int, fail_rate: float, seed: int, site_url: str, users: int = DEFAULT_USERS) -> list[PlannedOrder]:
    """`count` orders of `users` users in turn; round(count x fail_rate) of them fail, in
    turn retried, escalated and dead-lettered. The same seed gives the same orders."""
    rng = random.Random(seed)  # noqa: S311 - a repeatable demo, not a secret
    failing = set(rng.sample(range(count), round(count * fail_rate)))
    task_types, priorities = list(TaskType), list(Priority)
    orders = []
    failures_so_far = 0
    for index in range(count):
        fate = Fate.SUCCEEDS
        if index in failing:
            fate = FAILING_FATES[failures_so_far % len(FAILING_FATES)]
            failures_so_far += 1
        task_type = task_types[index % len(task_types)]
        if fate in (Fate.RETRIED, Fate.ESCALATED):  # only a page can fail on cue
            task_type = WEB_TASK_TYPES[index % len(WEB_TASK_TYPES)]
        order_id = _order_id(rng)
        # No payload.timeout: the local worker's 10 s timeout gives a task at most 7 s, and the
        # webhook refuses an order asking for more than that (the contract's minimum is 30 s).
        payload: dict[str, Any] = {"parameters": task_parameters(task_type)}
        if task_type in WEB_TASK_TYPES:
            payload["url"] = _page(site_url, fate, order_id)
        follow_up = FOLLOW_UPS[index % len(FOLLOW_UPS)]
        if follow_up:
            payload["configuration"] = {"followUpAction": follow_up}
        if fate is not Fate.SUCCEEDS:
            payload["retryPolicy"] = FAILING_ORDER_RETRY_POLICY
        document = {
            "orderId": order_id,
            "taskType": task_type.value,
            # Priorities change every len(task_types) orders, so each type meets each priority.
            "priority": priorities[(index // len(task_types)) % len(priorities)].value,
            "userId": f"user-{index % users}",
            "timestamp": DEMO_TIMESTAMP,
            "payload": payload if fate is not Fate.DEAD_LETTERED else "not an object",
        }
        orders.append(PlannedOrder(order_id, document, fate))
    return orders
