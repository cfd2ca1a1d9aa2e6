"""The local runtime as the end-to-end tests drive it: from outside, over HTTP and the SQS API."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from automation_local.demo.tracker import TrackedOrder
from automation_local.demo_load import queue_depths, tracker_of
from automation_local.runtime import LocalRuntime
from automation_shared.order_records import FINAL_STATES
from automation_shared.signing import signed_headers


@pytest.fixture(scope="package")
def runtime() -> Iterator[LocalRuntime]:
    with LocalRuntime() as running:
        yield running


def http(runtime: LocalRuntime, method: str, path: str, document: Any = None) -> tuple[int, Any]:
    """A signed request to the local HTTP API."""
    assert runtime.http_api is not None
    body = json.dumps(document).encode() if document is not None else b""
    headers = {"content-type": "application/json", **signed_headers(runtime.webhook_secret, method, path, body)}
    request = urllib.request.Request(f"{runtime.http_api.url}{path}", data=body or None, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as refused:
        return refused.code, json.loads(refused.read() or b"null")


def wait_until_final(runtime: LocalRuntime, order_ids: list[str], timeout: float = 90) -> dict[str, TrackedOrder]:
    orders = tracker_of(runtime)
    deadline = time.monotonic() + timeout
    while True:
        states = orders.states(order_ids)
        if all(i in states and states[i].status in FINAL_STATES for i in order_ids):
            return states
        assert time.monotonic() < deadline, f"not final in {timeout} s: {states}"
        time.sleep(0.5)


def wait_for(condition: Callable[[], bool], timeout: float = 90, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what} not met within {timeout} s"
        time.sleep(0.5)


def queue_depth(runtime: LocalRuntime, queue: str) -> int:
    """Messages in one queue (`order`, `order-dlq`, ...), as the demo load counts them."""
    return queue_depths(runtime)[queue]
