"""SQS events for the consumers, shaped as the sample events in events/ (what Lambda delivers)."""

from __future__ import annotations

import copy
import hashlib
import json
import uuid
from functools import cache
from typing import Any

from tools.sample_events import EVENTS_DIR


@cache
def _sample_record(sample: str) -> dict[str, Any]:
    return json.loads((EVENTS_DIR / sample).read_text())["Records"][0]


def sqs_event(sample: str, bodies: list[str]) -> dict[str, Any]:
    """One record per body, each a copy of the sample event's record with its own message id."""
    records = []
    for body in bodies:
        record = copy.deepcopy(_sample_record(sample))
        record["messageId"] = str(uuid.uuid4())
        record["body"] = body
        record["md5OfBody"] = hashlib.md5(body.encode(errors="surrogatepass")).hexdigest()
        records.append(record)
    return {"Records": records}
