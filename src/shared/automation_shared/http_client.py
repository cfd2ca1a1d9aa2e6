"""A small HTTP client on the standard library, bounded by a deadline (time.monotonic()).

urllib is enough for GET/POST with a timeout and keeps the layer free of another HTTP
package; every call gets the time left before the deadline as its socket timeout. Used
by the worker's tasks and by feedback's Telegram and Perplexity calls.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from .contracts import ResultStatus

MAX_BODY_BYTES = 2 * 1024 * 1024
SECRET_CACHE_SECONDS = 300  # a rotated API key is picked up within 5 minutes
USER_AGENT = "automation-backbone-worker/1.0"


class ExternalCallError(Exception):
    """A call to the outside failed in a way worth reporting; `status` is the result status it means."""

    def __init__(self, summary: str, status: ResultStatus = ResultStatus.FAILURE, **details: Any) -> None:
        super().__init__(summary)
        self.status = status
        self.details = details


def api_access(secret_variable: str, base_url_variable: str, default_base_url: str) -> tuple[str, str]:
    """An API's key (from the secret named by `secret_variable`, cached) and its base URL
    (`base_url_variable` if set, so tests and the local run can point at a stand-in)."""
    # Imported here, not at the top: most importers only need request() (url-monitoring,
    # the web tasks) or ExternalCallError (every worker cold start), not secrets.
    from aws_lambda_powertools.utilities import parameters

    key = parameters.get_secret(os.environ[secret_variable], max_age=SECRET_CACHE_SECONDS)
    return str(key), os.environ.get(base_url_variable, default_base_url).rstrip("/")


@dataclass
class HttpResponse:
    status: int
    headers: dict[str, str]
    body: bytes
    elapsed_ms: float
    url: str

    def json(self) -> Any:
        return json.loads(self.body)


def request(
    url: str,
    deadline: float,
    *,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    json_body: Any = None,
) -> HttpResponse:
    """One HTTP exchange; HTTP error statuses are returned, transport failures raise ExternalCallError."""
    if not url.startswith(("http://", "https://")):
        raise ExternalCallError(f"unsupported URL scheme: {url[:40]}")
    timeout = deadline - time.monotonic()
    if timeout <= 0:
        raise ExternalCallError("no time left for the request", status=ResultStatus.TIMEOUT)
    data = json.dumps(json_body).encode() if json_body is not None else None
    all_headers = {"User-Agent": USER_AGENT, **(headers or {})}
    if data is not None:
        all_headers.setdefault("Content-Type", "application/json")
    prepared = urllib.request.Request(url, data=data, headers=all_headers, method=method)  # noqa: S310 - scheme checked
    started = time.monotonic()
    try:
        with urllib.request.urlopen(prepared, timeout=timeout) as response:  # noqa: S310 - scheme checked
            body = response.read(MAX_BODY_BYTES)
            status, response_headers, final_url = response.status, dict(response.headers), response.url
    except urllib.error.HTTPError as error:
        body, status, response_headers, final_url = error.read(MAX_BODY_BYTES), error.code, dict(error.headers), url
    except TimeoutError as error:
        raise ExternalCallError(f"timed out after {timeout:.1f} s", status=ResultStatus.TIMEOUT) from error
    except (urllib.error.URLError, OSError) as error:
        raise ExternalCallError(f"request failed: {error}") from error
    return HttpResponse(status, response_headers, body, (time.monotonic() - started) * 1000, final_url)


def raise_for_status(response: HttpResponse, what: str) -> None:
    if response.status == 429:
        raise ExternalCallError(f"{what}: rate limited", status=ResultStatus.RATE_LIMITED)
    if response.status >= 400:
        raise ExternalCallError(f"{what}: HTTP {response.status}", httpStatus=response.status)
