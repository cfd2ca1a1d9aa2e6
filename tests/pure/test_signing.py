"""Webhook request signatures: HMAC-SHA256 over `<timestamp>.<METHOD>.<path>.<raw body>`,
within 300 s of the webhook's clock. The sample events carry a placeholder signature, so
they are signed here as a client signs them."""

from __future__ import annotations

import pytest

from automation_shared.signing import (
    MAX_CLOCK_SKEW_SECONDS,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    SignatureError,
    signature,
    signed_headers,
    signed_string,
    verify,
)
from tests.pure.events import event, http_body

pytestmark = pytest.mark.fast

SECRET = "test-webhook-secret"
NOW = 1_795_600_800.0  # the sample events' request time (2026-11-25T10:00:00Z)


def test_the_signed_string_is_timestamp_method_path_and_raw_body() -> None:
    # GIVEN a request as a client sends it (method in lower case)
    # WHEN its signed string is made
    signed = signed_string("1795600800", "post", "/orders", b'{"a": 1}')

    # THEN it joins them with dots, the method upper-cased and the body byte for byte
    assert signed == b'1795600800.POST./orders.{"a": 1}'


def test_the_post_order_event_signed_by_a_client_verifies() -> None:
    # GIVEN the sample POST /orders signed with the secret at the event's time
    request = event("webhook-post-order")
    body = http_body("webhook-post-order")
    headers = signed_headers(SECRET, "POST", request["rawPath"], body, now=NOW)

    # WHEN the webhook verifies it, a minute later
    given, timestamp = verify(SECRET, headers, request["requestContext"]["http"]["method"], "/orders", body, NOW + 60)

    # THEN it is accepted, and the signature and its timestamp are returned (for the replay ledger)
    assert (given, timestamp) == (headers[SIGNATURE_HEADER], int(NOW))
    assert given.startswith("sha256=") and len(given) == len("sha256=") + 64


@pytest.mark.parametrize(
    "secret, method, path, body",
    [
        ("not-the-secret", "POST", "/orders", None),
        (SECRET, "PUT", "/orders", None),
        (SECRET, "POST", "/orders/fa858948-7052-4498-b10b-7608538701a9", None),
        (SECRET, "POST", "/orders", b'{"taskType": "url-monitoring", "userId": "user-43"}'),
    ],
    ids=["other secret", "other method", "other path", "other body"],
)
def test_a_signature_covers_the_secret_the_method_the_path_and_the_body(
    secret: str, method: str, path: str, body: bytes | None
) -> None:
    # GIVEN the sample POST /orders signed by a client with `secret`
    signed_body = http_body("webhook-post-order")
    headers = signed_headers(secret, "POST", "/orders", signed_body, now=NOW)

    # WHEN the webhook verifies its headers for that request, or for another method, path or body
    # THEN it refuses any change
    with pytest.raises(SignatureError, match="does not match"):
        verify(SECRET, headers, method, path, signed_body if body is None else body, NOW)


@pytest.mark.parametrize(
    "skew, accepted",
    [(MAX_CLOCK_SKEW_SECONDS, True), (MAX_CLOCK_SKEW_SECONDS + 1, False), (-(MAX_CLOCK_SKEW_SECONDS + 1), False)],
    ids=["300 s old", "301 s old", "301 s ahead"],
)
def test_a_signature_is_accepted_within_300_s_of_the_webhooks_clock(skew: int, accepted: bool) -> None:
    # GIVEN the sample POST /orders signed at the event's time
    body = http_body("webhook-post-order")
    headers = signed_headers(SECRET, "POST", "/orders", body, now=NOW)

    # WHEN the webhook's clock is `skew` seconds past the signature's timestamp
    # THEN it is accepted up to 300 s either way, and refused as stale (or ahead) beyond
    if accepted:
        assert verify(SECRET, headers, "POST", "/orders", body, NOW + skew)[1] == int(NOW)
    else:
        with pytest.raises(SignatureError, match="more than 300 s from now"):
            verify(SECRET, headers, "POST", "/orders", body, NOW + skew)


def test_the_get_order_event_is_signed_over_its_path_and_an_empty_body() -> None:
    # GIVEN the sample GET /orders/{orderId}, signed anew at its timestamp (it holds a placeholder)
    request = event("webhook-get-order")
    path, timestamp = request["rawPath"], request["headers"][TIMESTAMP_HEADER]
    headers = {**request["headers"], SIGNATURE_HEADER: signature(SECRET, timestamp, "GET", path, b"")}
    assert request.get("body") is None  # a GET has no body: the empty body is signed

    # WHEN the webhook verifies it, and the same headers for another order's path
    verified = verify(SECRET, headers, "GET", path, b"", NOW)
    other_order = path.replace("fa858948", "0a858948")

    # THEN the signed request is accepted and the signature is no use for another order
    assert verified == (headers[SIGNATURE_HEADER], int(timestamp))
    with pytest.raises(SignatureError, match="does not match"):
        verify(SECRET, headers, "GET", other_order, b"", NOW)


def test_the_placeholder_signature_of_the_sample_events_is_refused() -> None:
    # GIVEN the sample GET as stored: a placeholder where the signature goes
    request = event("webhook-get-order")

    # WHEN the webhook verifies it as it is
    # THEN it is refused (the placeholder is not an HMAC of anything)
    with pytest.raises(SignatureError, match="does not match"):
        verify(SECRET, request["headers"], "GET", request["rawPath"], b"", NOW)


def test_the_unsigned_event_is_refused_for_its_missing_headers() -> None:
    # GIVEN the sample POST /orders sent without signature headers
    request = event("webhook-bad-unsigned")

    # WHEN the webhook verifies it
    # THEN it is refused, naming the headers it needs
    with pytest.raises(SignatureError, match="missing X-Signature-Timestamp or X-Signature"):
        verify(SECRET, request["headers"], "POST", request["rawPath"], http_body("webhook-bad-unsigned"), NOW)


def test_header_names_are_matched_case_insensitively_but_the_timestamp_must_be_ascii_digits() -> None:
    # GIVEN the sample POST signed by a client, its headers in canonical capitalisation
    body = http_body("webhook-post-order")
    headers = signed_headers(SECRET, "POST", "/orders", body, now=NOW)
    capitalised = {"X-Signature-Timestamp": headers[TIMESTAMP_HEADER], "X-Signature": headers[SIGNATURE_HEADER]}
    # and the same with the timestamp in Arabic-Indic digits (str.isdigit() would take them)
    arabic_indic = {**capitalised, "X-Signature-Timestamp": "١٧٩٥٦٠٠٨٠٠"}

    # WHEN the webhook verifies each
    # THEN the first is accepted, the second refused before any HMAC is computed
    assert verify(SECRET, capitalised, "POST", "/orders", body, NOW)[1] == int(NOW)
    with pytest.raises(SignatureError, match="unix seconds"):
        verify(SECRET, arabic_indic, "POST", "/orders", body, NOW)
