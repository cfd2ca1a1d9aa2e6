"""The console's test orders: a valid one to start the form from, and the form's body sent to
the webhook signed here, so the secret never reaches the page."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from automation_local.apigateway.client import signed_request
from automation_local.console.running import RunningBackbone
from automation_local.demo.orders import WEB_TASK_TYPES, task_parameters
from automation_shared.contracts import TaskType

ORDERS_PATH = "/orders"


def sample_order(task_type: TaskType, site_url: str) -> dict[str, Any]:
    """A valid order of this task type, new each time (its own id and time); web tasks read a
    page of the local target site."""
    payload: dict[str, Any] = {"parameters": task_parameters(task_type)}
    if task_type in WEB_TASK_TYPES:
        payload["url"] = f"{site_url}/console"
    return {
        "orderId": str(uuid.uuid4()),
        "taskType": task_type.value,
        "userId": "console-user",
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "payload": payload,
    }


def submit_order(backbone: RunningBackbone, body: bytes) -> tuple[int, Any]:
    """POSTs the body as it is to the webhook, signed with the stack's secret: the webhook's
    status and answer (its 4xx names the refused field's path)."""
    assert backbone.http_api is not None
    return signed_request(backbone.http_api.url, backbone.webhook_secret, "POST", ORDERS_PATH, body)
