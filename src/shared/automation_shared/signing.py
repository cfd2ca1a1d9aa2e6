"""Webhook request signatures: HMAC-SHA256 over `<timestamp>.<METHOD>.<path>.<raw body>`.

Clients send `X-Signature-Timestamp: <unix seconds>` and `X-Signature: sha256=<hex>`.
The method and the path as sent (`/orders`, `/orders/<orderId>`, no query string) are
signed with the body (empty for GET), so a signature made for one request cannot be
used on another route or for another order. The same functions sign (clients, the local
runtime, tests) and verify (the webhook). Each signature is accepted once (the webhook
keeps a record of it until it would be stale anyway: `webhook_api/replay.py`), so a
client signs every request anew, retries included.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time

TIMESTAMP_HEADER = "x-signature-timestamp"
SIGNATURE_HEADER = "x-signature"
MAX_CLOCK_SKEW_SECONDS = 300
_PREFIX = "sha256="
UNIX_SECONDS = re.compile(r"[0-9]{1,12}")


class SignatureError(Exception):
    """The request is not signed, wrongly signed, or signed too long ago (or ahead)."""


def signed_string(timestamp: str, method: str, path: str, body: bytes) -> bytes:
    """What is signed: `<timestamp>.<METHOD>.<path>.<raw body>`."""
    return f"{timestamp}.{method.upper()}.{path}.".encode() + body


def signature(secret: str, timestamp: str, method: str, path: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), signed_string(timestamp, method, path, body), hashlib.sha256).hexdigest()
    return _PREFIX + digest


def signed_headers(secret: str, method: str, path: str, body: bytes = b"", now: float | None = None) -> dict[str, str]:
    """Headers a client adds to a request (`path` as it sends it, without the query string)."""
    timestamp = str(int(time.time() if now is None else now))
    return {TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: signature(secret, timestamp, method, path, body)}


def verify(
    secret: str, headers: dict[str, str], method: str, path: str, body: bytes, now: float | None = None
) -> tuple[str, int]:
    """The signature and its timestamp, if the headers sign this request within the allowed
    clock skew; raises SignatureError otherwise."""
    lowered = {k.lower(): v for k, v in headers.items()}
    timestamp = lowered.get(TIMESTAMP_HEADER, "")
    given = lowered.get(SIGNATURE_HEADER, "")
    if not timestamp or not given:
        raise SignatureError("missing X-Signature-Timestamp or X-Signature header")
    # ASCII digits only, and few enough for int(): str.isdigit() also takes "²" and Arabic-Indic digits.
    if not UNIX_SECONDS.fullmatch(timestamp):
        raise SignatureError("X-Signature-Timestamp must be unix seconds")
    skew = abs((time.time() if now is None else now) - int(timestamp))
    if skew > MAX_CLOCK_SKEW_SECONDS:
        raise SignatureError(f"X-Signature-Timestamp is more than {MAX_CLOCK_SKEW_SECONDS} s from now")
    expected = signature(secret, timestamp, method, path, body)
    # Constant-time comparison: no timing hint about how much of a forged signature matched.
    # As bytes: compare_digest refuses str with non-ASCII characters, which a forger may send.
    if not hmac.compare_digest(expected.encode(), given.encode(errors="surrogatepass")):
        raise SignatureError("X-Signature does not match the request")
    return expected, int(timestamp)
