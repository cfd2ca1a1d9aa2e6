"""A signed request to the HTTP API, as a client of the webhook makes it: HMAC-signed for this
one send (the webhook accepts a signature once, so each attempt is signed anew), its answer
read whatever its status."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from automation_shared.signing import signed_headers

TIMEOUT_SECONDS = 60


def signed_request(
    api_url: str, secret: str, method: str, path: str, body: bytes = b"", *, timeout: float = TIMEOUT_SECONDS
) -> tuple[int, Any]:
    """The status and the answer's JSON (None for an empty answer; the text if it is not JSON)."""
    headers = {"content-type": "application/json", **signed_headers(secret, method, path, body)}
    request = urllib.request.Request(f"{api_url}{path}", data=body or None, headers=headers, method=method)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310 - the local API's http URL
            return answer.status, _document(answer.read())
    except urllib.error.HTTPError as refused:
        return refused.code, _document(refused.read())


def _document(text: bytes) -> Any:
    try:
        return json.loads(text or b"null")
    except ValueError:
        return text.decode(errors="replace")
