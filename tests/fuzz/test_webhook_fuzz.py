"""Webhook fuzzing: the real handler against the emulator stack, with generated bodies and headers.

Properties, whatever arrives: no 5xx and no exception; a 4xx is a problem document that
names what is wrong (the field path of a broken order); the order queue receives only
valid orders, and nothing at all for a refused request.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from automation_local.apigateway.events import http_api_event
from automation_local.aws.emulator import Emulator
from automation_local.cloudformation.stack import DeployedStack
from automation_shared.contracts import OrderMessage
from automation_shared.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, signature, signed_headers
from tests.functions.queues import Queue
from tests.functions.webhook_client import Reply, WebhookClient, fresh_signed_headers
from tests.fuzz.strategies import (
    Mutation,
    bad_utf8,
    hostile_texts,
    is_valid,
    json_values,
    not_json_texts,
    order_mutations,
    posted_orders,
)
from tests.hypothesis_runs import count_example

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def order_queue(emulator: Emulator, deployed_stack: DeployedStack) -> Iterator[Queue]:
    queue = Queue(emulator, deployed_stack.outputs["OrderQueueUrl"])
    queue.drain()
    yield queue
    queue.drain()


def with_defaults(document: dict[str, Any]) -> dict[str, Any]:
    """The order as the webhook completes it (a client may leave out orderId and timestamp)."""
    return {"orderId": str(uuid.uuid4()), "timestamp": "2026-11-25T10:00:00Z", **document}


broken_orders = st.tuples(posted_orders, order_mutations).filter(
    lambda pair: not is_valid(OrderMessage, with_defaults(pair[1].apply(pair[0])))
)
documents = st.one_of(
    json_values,
    posted_orders,
    broken_orders.map(lambda pair: pair[1].apply(pair[0])),
    st.lists(posted_orders | broken_orders.map(lambda pair: pair[1].apply(pair[0])), min_size=1, max_size=3),
    st.lists(posted_orders, min_size=11, max_size=12),
)
raw_bodies = st.one_of(
    documents.map(lambda document: json.dumps(document).encode()),
    not_json_texts.map(str.encode),
    hostile_texts.map(lambda text: text.encode("utf-8", "surrogatepass")),
    bad_utf8,
    st.binary(max_size=60),
)


def signed_event(secret: str, body: bytes, *, base64_encoded: bool) -> dict[str, Any]:
    """A POST /orders event of an HTTP API (payload 2.0), signed as a client signs it; the
    body base64-encoded when asked (API Gateway does it for bodies that are not text)."""
    headers = {"content-type": "application/json", **fresh_signed_headers(secret, "POST", "/orders", body)}
    event = http_api_event("POST", "/orders", route_key="POST /orders", headers=headers, body=body)
    if base64_encoded and body:
        event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode(), True
    return event


def assert_refused_as_a_problem(reply: Reply, order_queue: Queue) -> None:
    assert 400 <= reply.status < 500, reply.json
    assert reply.headers["Content-Type"] == "application/problem+json"
    assert reply.json["status"] == reply.status and reply.json["title"]
    for error in reply.json.get("errors", []):
        assert error["path"] and error["message"], error
    assert order_queue.drain() == []


def assert_queued_orders_are_valid(reply: Reply, order_queue: Queue) -> None:
    queued = [OrderMessage.model_validate_json(m["Body"]) for m in order_queue.drain()]
    answered = reply.json.get("orders", [reply.json])
    assert sorted(o.orderId for o in queued) == sorted({a["orderId"] for a in answered if a["status"] == "queued"})


# ------------------------------------------------------------------ signed bodies
@given(body=raw_bodies, base64_encoded=st.booleans())
@example(body=b"1" * 5_000, base64_encoded=False)
@example(body=b"[" * 100_000 + b"]" * 100_000, base64_encoded=False)
def test_any_signed_body_is_answered_without_a_server_error(
    webhook_client: WebhookClient, order_queue: Queue, body: bytes, base64_encoded: bool
) -> None:
    count_example("webhook: any signed body")
    # WHEN a correctly signed request carries the body
    reply = webhook_client.send(signed_event(webhook_client.secret, body, base64_encoded=base64_encoded))
    # THEN it is accepted with only valid orders queued, or refused as a problem with nothing queued
    if reply.status < 300:
        assert_queued_orders_are_valid(reply, order_queue)
    else:
        assert_refused_as_a_problem(reply, order_queue)


@given(broken=broken_orders, as_batch_item=st.booleans())
def test_an_order_with_one_field_broken_is_a_422_naming_that_field(
    webhook_client: WebhookClient, order_queue: Queue, broken: tuple[dict[str, Any], Mutation], as_batch_item: bool
) -> None:
    count_example("webhook: one field broken")
    valid, mutation = broken
    # GIVEN a valid order with one field broken, alone or second in a batch
    document: Any = [valid, mutation.apply(valid)] if as_batch_item else mutation.apply(valid)
    # WHEN it is posted
    reply = webhook_client.post(document)
    # THEN the whole request is refused, naming the broken field by its path (a null too)
    assert_refused_as_a_problem(reply, order_queue)
    assert reply.status == 422
    prefix = "[1]." if as_batch_item else ""
    path = prefix + mutation.field
    paths = [e["path"] for e in reply.json["errors"]]
    assert any(p == path or p.startswith((path + ".", path + "[")) for p in paths), (path, paths)


@given(order=posted_orders, base64_encoded=st.booleans())
def test_a_valid_signed_order_is_queued_once_as_a_valid_order(
    webhook_client: WebhookClient, order_queue: Queue, order: dict[str, Any], base64_encoded: bool
) -> None:
    count_example("webhook: valid order")
    # GIVEN a generated valid order, its body sent as text or base64-encoded
    body = json.dumps(order).encode()
    # WHEN it is posted, correctly signed
    reply = webhook_client.send(signed_event(webhook_client.secret, body, base64_encoded=base64_encoded))
    # THEN it is accepted, and the queue holds it once, as a valid order of the same user
    assert reply.status == 202, reply.json
    [queued] = [OrderMessage.model_validate_json(m["Body"]) for m in order_queue.drain()]
    assert queued.orderId == reply.json["orderId"] and queued.userId == order["userId"]


# ------------------------------------------------------------------ headers
SKEWS = st.integers(301, 10**9).flatmap(lambda seconds: st.sampled_from([seconds, -seconds]))


@st.composite
def unauthenticating_headers(draw: st.DrawFn, secret: str, body: bytes) -> dict[str, str]:
    """Headers that must not authenticate `body`: missing ones, a replayed (stale) or
    pre-dated timestamp, a signature made with another secret, for another method or path,
    or over another body."""
    kind = draw(st.sampled_from(["missing", "stale or future", "other secret", "other request", "other body"]))
    if kind == "missing":
        headers = fresh_signed_headers(secret, "POST", "/orders", body)
        for name in draw(st.sets(st.sampled_from([TIMESTAMP_HEADER, SIGNATURE_HEADER]), min_size=1)):
            del headers[name]
        return headers
    if kind == "stale or future":
        return signed_headers(secret, "POST", "/orders", body, now=time.time() + draw(SKEWS))
    if kind == "other secret":
        return fresh_signed_headers(
            draw(st.text(min_size=1).filter(lambda other: other != secret)), "POST", "/orders", body
        )
    if kind == "other request":
        method, path = draw(st.sampled_from([("GET", "/orders"), ("POST", "/orders/x"), ("PUT", "/orders")]))
        return fresh_signed_headers(secret, method, path, body)
    return fresh_signed_headers(secret, "POST", "/orders", body + draw(st.binary(min_size=1, max_size=8)))


def post_with_headers(webhook_client: WebhookClient, body: bytes, headers: dict[str, str]) -> Reply:
    return webhook_client.send(http_api_event("POST", "/orders", route_key="POST /orders", headers=headers, body=body))


@given(order=posted_orders, data=st.data())
def test_a_request_not_signed_now_by_the_secret_is_a_401_and_enqueues_nothing(
    webhook_client: WebhookClient, order_queue: Queue, order: dict[str, Any], data: st.DataObject
) -> None:
    count_example("webhook: missing, stale or wrong signature")
    body = json.dumps(order).encode()
    # GIVEN headers that are missing, stale, from the future, or sign something else
    headers = data.draw(unauthenticating_headers(webhook_client.secret, body))
    # WHEN the request arrives
    reply = post_with_headers(webhook_client, body, headers)
    # THEN it is refused as unauthenticated and nothing is queued
    assert_refused_as_a_problem(reply, order_queue)
    assert reply.status == 401


ORDER_BODY = json.dumps({"taskType": "system-health", "payload": {}, "userId": "user-42"}).encode()


@given(forged=st.text(max_size=80) | st.text("0123456789abcdef", min_size=64, max_size=64).map("sha256=".__add__))
@example(forged="sha256=é")  # not ASCII
def test_a_forged_signature_is_a_401(webhook_client: WebhookClient, order_queue: Queue, forged: str) -> None:
    count_example("webhook: forged signature")
    # GIVEN an order sent with a current timestamp and a generated signature not made with the secret
    # WHEN it arrives
    reply = post_with_headers(
        webhook_client, ORDER_BODY, {TIMESTAMP_HEADER: str(int(time.time())), SIGNATURE_HEADER: forged}
    )
    # THEN it is refused as unauthenticated and nothing is queued
    assert_refused_as_a_problem(reply, order_queue)
    assert reply.status == 401


@given(stamp=st.text(min_size=1, max_size=30).filter(lambda t: not (t.isascii() and t.isdigit())))
@example(stamp="١٧٩٥٦٠٠٨٠٠")  # digits, but Arabic-Indic ones
@example(stamp="²")
def test_a_timestamp_that_is_not_unix_seconds_is_a_401(
    webhook_client: WebhookClient, order_queue: Queue, stamp: str
) -> None:
    count_example("webhook: timestamp not unix seconds")
    # GIVEN a request signed correctly over the odd timestamp: only the timestamp is wrong
    headers = {
        TIMESTAMP_HEADER: stamp,
        SIGNATURE_HEADER: signature(webhook_client.secret, stamp, "POST", "/orders", ORDER_BODY),
    }
    reply = post_with_headers(webhook_client, ORDER_BODY, headers)
    assert_refused_as_a_problem(reply, order_queue)
    assert reply.status == 401


@given(text=st.text(min_size=1, max_size=40).filter(lambda t: _not_base64(t)))
@example(text="abc")  # valid alphabet, wrong padding
@example(text="\x80")  # not ASCII
def test_a_body_flagged_base64_that_is_not_base64_is_refused(
    webhook_client: WebhookClient, order_queue: Queue, text: str
) -> None:
    count_example("webhook: body flagged base64 but not base64")
    # GIVEN a signed request whose body is flagged base64-encoded but does not decode as base64
    event = signed_event(webhook_client.secret, text.encode(), base64_encoded=False)
    event["isBase64Encoded"] = True
    # WHEN it arrives
    reply = webhook_client.send(event)
    # THEN it is refused as a bad request and nothing is queued
    assert_refused_as_a_problem(reply, order_queue)
    assert reply.status == 400


def _not_base64(text: str) -> bool:
    """Whether the text fails to decode as the webhook decodes it (skipping non-alphabet characters)."""
    try:
        base64.b64decode(text)
    except ValueError:
        return True
    return False
