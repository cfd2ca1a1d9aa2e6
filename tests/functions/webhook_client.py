"""A client of the webhook handler: signed HTTP API events in, status and JSON out."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from automation_local.apigateway.events import http_api_event
from automation_shared.signing import signed_headers
from tests.functions.handlers import context_for


class SigningClock:
    """Timestamps for signing: the webhook accepts each signature once, and a signature
    changes with its timestamp (unix seconds) only, so a client sending the same request
    twice within a second signs the second one a second earlier (within the 300 s skew)."""

    def __init__(self) -> None:
        self._used: dict[bytes, set[int]] = {}  # request -> the timestamps it was signed with

    def headers(
        self, secret: str, method: str, path: str, body: bytes = b"", skew_seconds: float = 0
    ) -> dict[str, str]:
        """Signature headers no earlier request of this clock carries; with `skew_seconds`,
        signed that far from now (a client clock off by that much)."""
        request = f"{method} {path} ".encode() + body
        used = self._used.setdefault(request, set())
        stamp = int(time.time() + skew_seconds)
        while stamp in used and not skew_seconds:
            stamp -= 1
        used.add(stamp)
        return signed_headers(secret, method, path, body, now=stamp)


_CLOCK = SigningClock()


def fresh_signed_headers(
    secret: str, method: str, path: str, body: bytes = b"", skew_seconds: float = 0
) -> dict[str, str]:
    """Signature headers no other request of this test session carries (see SigningClock)."""
    return _CLOCK.headers(secret, method, path, body, skew_seconds)


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

    def get(self, order_id: str, *, sign: bool = True, headers: dict[str, str] | None = None) -> Reply:
        """GET /orders/{orderId}, signed for it (or with `headers` as they are)."""
        if headers is None:
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
