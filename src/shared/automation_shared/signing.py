"""Webhook request signatures: HMAC-SHA256 over `<timestamp>.<raw body>`.

Clients send `X-Signature-Timestamp: <unix seconds>` and `X-Signature: sha256=<hex>`.
The same functions sign (clients, the local runtime, tests) and verify (the webhook).
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


def signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return _PREFIX + digest


def signed_headers(secret: str, body: bytes, now: float | None = None) -> dict[str, str]:
    """Headers a client adds to a request with this body."""
    timestamp = str(int(time.time() if now is None else now))
    return {TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: signature(secret, timestamp, body)}


def verify(secret: str, headers: dict[str, str], body: bytes, now: float | None = None) -> None:
    """Raises SignatureError unless the headers sign this body within the allowed clock skew."""
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
    # Constant-time comparison: no timing hint about how much of a forged signature matched.
    # As bytes: compare_digest refuses str with non-ASCII characters, which a forger may send.
    if not hmac.compare_digest(signature(secret, timestamp, body).encode(), given.encode(errors="surrogatepass")):
        raise SignatureError("X-Signature does not match the request")
