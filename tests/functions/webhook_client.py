"""A client of the webhook handler: signed HTTP API events in, status and JSON out."""

from __future__ import annotations

import itertools
import json
import time
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from automation_local.http_events import http_api_event
from automation_shared.signing import signed_headers
from tests.functions.handlers import context_for

# The webhook accepts each signature once, and a signature changes with its timestamp (unix
# seconds): tests that send the same body several times a second sign each request at a
# timestamp of its own, stepping back a second a request within the allowed skew (300 s).
_SIGNING_STEPS = itertools.cycle(range(250))


def fresh_signed_headers(
    secret: str, method: str, path: str, body: bytes = b"", skew_seconds: float = 0
) -> dict[str, str]:
    """Signature headers no other request of this test session carries; with `skew_seconds`,
    signed exactly that far from now (a client clock off by that much)."""
    step = 0 if skew_seconds else next(_SIGNING_STEPS)
    return signed_headers(secret, method, path, body, now=time.time() + skew_seconds - step)


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    json: Any


@dataclass
class WebhookClient:
    module: ModuleType
    secret: str

    def send(self, event: dict[str, Any]) -> Reply:
        """Any HTTP API event, as API Gateway would pass it."""
        response = self.module.lambda_handler(event, context_for("webhook"))
        return Reply(response["statusCode"], response.get("headers", {}), json.loads(response["body"] or "null"))

    def post(
        self,
        document: Any = None,
        *,
        raw: bytes | None = None,
        headers: dict[str, str] | None = None,
        sign: bool = True,
        skew_seconds: float = 0,
    ) -> Reply:
        body = raw if raw is not None else json.dumps(document).encode()
        all_headers = {"content-type": "application/json"}
        if sign:
            all_headers |= fresh_signed_headers(self.secret, "POST", "/orders", body, skew_seconds)
        all_headers |= headers or {}
        return self.send(http_api_event("POST", "/orders", route_key="POST /orders", headers=all_headers, body=body))

    def get(self, order_id: str, *, sign: bool = True) -> Reply:
        headers = fresh_signed_headers(self.secret, "GET", f"/orders/{order_id}") if sign else {}
        return self.send(
            http_api_event(
                "GET",
                f"/orders/{order_id}",
                route_key="GET /orders/{orderId}",
                path_parameters={"orderId": order_id},
                headers=headers,
            )
        )
