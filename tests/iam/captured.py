"""Real boto3 requests, captured before they leave: botocore serialises and signs each call as it
would for the emulator, and a `before-send` handler takes the prepared request and ends the call
there, so no network is used (and no emulator is needed)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from botocore.exceptions import ClientError

from automation_local.aws.identity import REGION
from automation_local.iam.errors import ErrorResponse
from automation_local.iam.requests import EmulatorRequest

ENDPOINT = "http://127.0.0.1:1"  # never reached


class _Captured(Exception):  # noqa: N818  (a signal, not an error)
    def __init__(self, request: Any) -> None:
        super().__init__("captured")
        self.request = request


def _stop(request: Any, **_: Any) -> None:
    raise _Captured(request)


def _client(service: str, access_key: str) -> Any:
    return boto3.client(
        service,  # type: ignore[call-overload]
        endpoint_url=ENDPOINT,
        region_name=REGION,
        aws_access_key_id=access_key,
        aws_secret_access_key="secret",
        aws_session_token="token",
        config=Config(retries={"max_attempts": 1, "mode": "standard"}),
    )


def captured(service: str, operation: str, *, access_key: str = "AKIATESTKEY", **params: Any) -> EmulatorRequest:
    """The HTTP request `boto3.client(service).<operation>(**params)` sends, signed with `access_key`."""
    client = _client(service, access_key)
    client.meta.events.register_first("before-send", _stop)
    with pytest.raises(_Captured) as stop:
        getattr(client, operation)(**params)
    return _emulator_request(stop.value.request)


def _emulator_request(prepared: Any) -> EmulatorRequest:
    body = prepared.body or b""
    if isinstance(body, str):
        body = body.encode()
    elif not isinstance(body, bytes):
        body = body.read()
    path = prepared.url.removeprefix(ENDPOINT) or "/"
    headers = {
        name: value.decode() if isinstance(value, bytes) else str(value) for name, value in prepared.headers.items()
    }
    return EmulatorRequest(prepared.method, path, headers, body)


class _Raw:
    """What botocore reads a response's body from."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Any:
        yield self._body


def sdk_error(
    service: str,
    operation: str,
    answer: Callable[[EmulatorRequest], ErrorResponse],
    *,
    access_key: str = "AKIATESTKEY",
    **params: Any,
) -> ClientError:
    """The error boto3 raises when the request `operation` sends is answered with `answer(request)`:
    the error response parsed by botocore exactly as it parses AWS's."""
    client = _client(service, access_key)

    def respond(request: Any, **_: Any) -> AWSResponse:
        error = answer(_emulator_request(request))
        return AWSResponse(request.url, error.status, dict(error.headers), _Raw(error.body))

    client.meta.events.register_first("before-send", respond)
    with pytest.raises(ClientError) as raised:
        getattr(client, operation)(**params)
    return raised.value
