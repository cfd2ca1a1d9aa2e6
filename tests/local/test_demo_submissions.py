"""The demo load's submissions: what the webhook answered, and where each accepted order
stands in the order the queue took them (the per-user order check's ranks), including
after a partly refused batch and after an answer that says nothing."""

from __future__ import annotations

import json

from automation_local.demo.plan import plan
from automation_local.demo_load import _submit_batch
from automation_local.net.loopback_server import HttpReply, HttpRequest, LoopbackHttpServer

ORDERS = plan(3, 0.0, seed=1, site_url="http://127.0.0.1:9")
IDS = [order.order_id for order in ORDERS]


class ScriptedWebhook(LoopbackHttpServer):
    """Answers POST /orders with the statuses scripted for each request in turn (an
    order-id-to-status map, or None for a 500 that says nothing)."""

    def __init__(self, script: list[dict[str, str] | None]) -> None:
        super().__init__(name="scripted-webhook")
        self.script = script

    def answer(self, request: HttpRequest) -> HttpReply:
        statuses = self.script.pop(0)
        if statuses is None:
            return HttpReply(500, (("content-type", "application/json"),), b'{"message": "Internal Server Error"}')
        sent = [document["orderId"] for document in json.loads(request.body)]
        orders = [{"orderId": order_id, "status": statuses[order_id]} for order_id in sent]
        code = 202 if all(status == "queued" for status in statuses.values()) else 207
        return HttpReply(code, (("content-type", "application/json"),), json.dumps({"orders": orders}).encode())


def test_a_partly_refused_batch_places_the_retried_order_after_those_accepted_first() -> None:
    # GIVEN a webhook that refuses the batch's first order once (SQS refused its entry) and queues the others
    script: list[dict[str, str] | None] = [
        {IDS[0]: "retry", IDS[1]: "queued", IDS[2]: "queued"},
        {IDS[0]: "queued"},
    ]
    with ScriptedWebhook(script) as webhook:
        # WHEN the batch is submitted
        answered = _submit_batch(webhook.url, "secret", ORDERS)
    # THEN every order is accepted, and the retried one went in last (its own place)
    assert answered.outcomes == dict.fromkeys(IDS, "accepted")
    assert sorted(IDS, key=answered.places.__getitem__) == [IDS[1], IDS[2], IDS[0]]
    assert len(set(answered.places.values())) == 3


def test_orders_accepted_after_an_answer_that_said_nothing_are_tied() -> None:
    # GIVEN a webhook whose first answer is a 500 (it may have sent any of the orders) and
    # whose second finds them all sent or sends them
    script: list[dict[str, str] | None] = [None, {IDS[0]: "queued", IDS[1]: "duplicate", IDS[2]: "queued"}]
    with ScriptedWebhook(script) as webhook:
        # WHEN the batch is submitted
        answered = _submit_batch(webhook.url, "secret", ORDERS)
    # THEN every order is accepted, all at one place: the order they went in is unknown
    assert answered.outcomes == dict.fromkeys(IDS, "accepted")
    assert len(set(answered.places.values())) == 1
