"""RFC 9457 problem responses: what went wrong, and where, for the client to fix."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import Response

PROBLEM_JSON = "application/problem+json"


def problem(
    status: int, title: str, detail: str = "", errors: list[dict[str, str]] | None = None, **extensions: Any
) -> Response:
    """`errors` lists each problem with its field path; `extensions` are extra members (RFC 9457 3.2)."""
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = errors
    body.update(extensions)
    return Response(status_code=status, content_type=PROBLEM_JSON, body=json.dumps(body))
