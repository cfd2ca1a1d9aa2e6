"""The console's JSON API refuses what a page of another site could send it: an action without
the console's header (a cross-site form or simple fetch cannot add one), and any request for
another Host (a DNS-rebound name pointing at 127.0.0.1)."""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlsplit

import pytest

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
