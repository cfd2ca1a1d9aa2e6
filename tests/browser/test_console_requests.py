"""The console's JSON API refuses what a page of another site could send it: an action without
the console's header (a cross-site form or simple fetch cannot add one; a look at a DLQ is one,
as it receives), any request for another Host (a DNS-rebound name pointing at 127.0.0.1) or
from another Origin. And what its refreshes cost the emulator: the orders list scans the
table once for many refreshes."""

from __future__ import annotations

import http.client
import json
import uuid
from typing import Any
from urllib.parse import urlsplit

import pytest
from selenium.webdriver.remote.webdriver import WebDriver

from automation_local.console.actions import sample_order
from automation_local.console.server import ConsoleServer
from automation_local.runtime import LocalRuntime
from automation_shared.contracts import TaskType

pytestmark = pytest.mark.slow


def _request(
    console: ConsoleServer, method: str, path: str, headers: dict[str, str], body: bytes = b""
) -> tuple[int, dict]:
    address = urlsplit(console.url)
    connection = http.client.HTTPConnection(address.hostname or "", address.port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers)
        answer = connection.getresponse()
        return answer.status, json.loads(answer.read())
    finally:
        connection.close()


def test_an_action_without_the_console_header_is_refused_and_reaches_no_webhook(
    console: ConsoleServer, runtime: LocalRuntime
) -> None:
    # GIVEN a valid order, posted the way a form of another site would post it (no x-console header)
    assert runtime.http_api is not None
    before = len(runtime.http_api.answered)
    body = json.dumps(sample_order(TaskType.TEXT_PROCESSING, "")).encode()
    # WHEN it reaches the console, and a redrive is asked for the same way
    submitted = _request(console, "POST", "/api/orders", {"content-type": "text/plain"}, body)
    redriven = _request(console, "POST", "/api/dead-letters/order/redrive", {})
    # THEN both are refused, and the webhook saw nothing
    assert submitted[0] == redriven[0] == 403
    assert "x-console" in submitted[1]["error"]
    assert len(runtime.http_api.answered) == before


def test_a_request_for_another_host_is_refused(console: ConsoleServer) -> None:
    # GIVEN a request whose Host names another site (its DNS answering 127.0.0.1)
    # WHEN it reaches the console
    status, answer = _request(console, "GET", "/api/flow", {"Host": "attacker.example:80"})
    # THEN it is refused, naming the console's own address
    assert status == 403
    assert console.url in answer["error"]


def test_a_request_from_a_page_of_another_origin_is_refused(console: ConsoleServer) -> None:
    # GIVEN a request a page of another site sends (its browser names the page's origin)
    # WHEN it reaches the console, and one from the console's own page
    foreign = _request(console, "GET", "/api/flow", {"Origin": "http://evil.example"})
    own = _request(console, "GET", "/api/flow", {"Origin": console.url})
    # THEN the foreign one is refused, the own one answered
    assert foreign[0] == 403
    assert own[0] == 200


def _receive_count_taking(sqs: Any, queue_url: str, body: str) -> int:
    """The ApproximateReceiveCount of the queue's message with `body` as this receive sees it
    (1: nothing received it before); the message is deleted, the others left visible."""
    held: list[str] = []
    try:
        while messages := sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=30, AttributeNames=["All"]
        ).get("Messages", []):
            for message in messages:
                if message["Body"] == body:
                    sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
                    return int(message["Attributes"]["ApproximateReceiveCount"])
                held.append(message["ReceiptHandle"])
        raise AssertionError(f"no message {body!r} in {queue_url}")
    finally:
        for handle in held:
            sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=handle, VisibilityTimeout=0)


def test_a_look_at_a_dlq_without_the_console_header_is_refused_and_receives_nothing(
    console: ConsoleServer, runtime: LocalRuntime
) -> None:
    # GIVEN a message in the order DLQ, never received
    sqs = runtime.emulator.client("sqs")
    order_dlq_url = runtime.outputs.queue_pair("order")[0]
    body = json.dumps({"orderId": f"dlq-look-{uuid.uuid4()}"})
    sqs.send_message(QueueUrl=order_dlq_url, MessageBody=body)
    # WHEN a page of another site loads the DLQ view as it can load any URL (a GET: an image,
    # a simple fetch), and posts the look without the console's header
    loaded = _request(console, "GET", "/api/dead-letters/order", {})
    posted = _request(console, "POST", "/api/dead-letters/order/peek?again=1", {"content-type": "text/plain"})
    # THEN neither looked: the message's receive count is unchanged (this receive is its
    # first), no DLQ view answers a GET, and the look needs the header
    assert _receive_count_taking(sqs, order_dlq_url, body) == 1
    assert loaded[0] == 404
    assert posted[0] == 403
    assert "x-console" in posted[1]["error"]


def test_the_orders_list_scans_the_table_once_for_many_refreshes(browser: WebDriver, runtime: LocalRuntime) -> None:
    # GIVEN a console of its own, no page polling the other one, and the emulator's count from zero
    browser.get("about:blank")
    with ConsoleServer(runtime, site_url=runtime.site.base_url) as fresh:
        runtime.emulator.reset_api_calls()
        # WHEN its orders list and its cost (which counts the orders too) are asked for as ten
        # refreshes of several pages would ask
        answers = [_request(fresh, "GET", "/api/orders?limit=5", {}) for _ in range(10)]
        answers += [_request(fresh, "GET", "/api/cost", {}) for _ in range(2)]
        # THEN every one is answered from one scan of the table (one page: the table is small)
        assert {status for status, _ in answers} == {200}
        assert runtime.emulator.api_calls()["dynamodb:Scan"] == 1
