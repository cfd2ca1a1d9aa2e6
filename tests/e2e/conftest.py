"""The local runtime as the end-to-end tests drive it: from outside, over HTTP and the SQS API."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from automation_local.apigateway.client import signed_request
from automation_local.demo.tracker import TrackedOrder
from automation_local.demo_load import queue_depths, tracker_of
from automation_local.runtime import LocalRuntime
from automation_shared.order_records import FINAL_STATES


@pytest.fixture(scope="package")
def runtime() -> Iterator[LocalRuntime]:
    with LocalRuntime() as running:
        yield running


def http(runtime: LocalRuntime, method: str, path: str, document: Any = None) -> tuple[int, Any]:
    """A signed request to the local HTTP API."""
    assert runtime.http_api is not None
    body = json.dumps(document).encode() if document is not None else b""
    return signed_request(runtime.http_api.url, runtime.webhook_secret, method, path, body, timeout=30)


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
