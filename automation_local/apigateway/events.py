"""API Gateway HTTP API (payload format 2.0) events, as API Gateway hands them to Lambda."""

from __future__ import annotations

import base64
import time
import uuid
from typing import Any

from automation_local.aws.identity import ACCOUNT_ID
from automation_shared.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, signed_headers


def http_api_event(
    method: str,
    path: str,
    *,
    route_key: str,
    path_parameters: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    query: str = "",
    source_ip: str = "127.0.0.1",
    request_id: str | None = None,
    now: float | None = None,
) -> dict[str, Any]:
    """`request_id` and `now` default to a fresh id and the current time (fixed for sample files)."""
    now = time.time() if now is None else now
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": query,
        # HTTP API lower-cases header names.
        "headers": {k.lower(): v for k, v in (headers or {}).items()},
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": "local",
            "domainName": "localhost",
            "domainPrefix": "localhost",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": source_ip, "userAgent": ""},
            "requestId": request_id or uuid.uuid4().hex,
            "routeKey": route_key,
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": round(now * 1000),
        },
        "isBase64Encoded": False,
    }
    if path_parameters:
        event["pathParameters"] = path_parameters
    if body:
        try:
            event["body"] = body.decode()
        except UnicodeDecodeError:
            event["body"] = base64.b64encode(body).decode()
            event["isBase64Encoded"] = True
    return event


def raw_body(event: dict[str, Any]) -> bytes:
    """The body as the client sent it (what the webhook verifies): base64 decoded if marked so."""
    body = (event.get("body") or "").encode()
    return base64.b64decode(body) if event.get("isBase64Encoded") else body


def signed_event(secret: str, event: dict[str, Any]) -> dict[str, Any]:
    """The event with the signature headers a client would send: over its method, path and
    raw body, at the current time (any signature it carried is replaced)."""
    headers = {k: v for k, v in event.get("headers", {}).items() if k not in (TIMESTAMP_HEADER, SIGNATURE_HEADER)}
    method, path = event["requestContext"]["http"]["method"], event["rawPath"]
    return {**event, "headers": headers | signed_headers(secret, method, path, raw_body(event))}
