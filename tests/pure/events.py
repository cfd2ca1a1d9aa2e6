"""The sample events of events/*.json, as the functions receive them."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from automation_local.cloudformation.project import REPO_ROOT

EVENTS_DIR = REPO_ROOT / "events"


@cache
def _text(name: str) -> str:
    return (EVENTS_DIR / f"{name}.json").read_text()


def event(name: str) -> dict[str, Any]:
    """A fresh copy of `events/<name>.json` (callers may change it)."""
    return json.loads(_text(name))


def record(name: str) -> dict[str, Any]:
    """The (only) SQS record of a queue consumer's sample event."""
    records = event(name)["Records"]
    assert len(records) == 1, f"{name}: one record expected"
    return records[0]


def record_body(name: str) -> str:
    return str(record(name)["body"])


def http_body(name: str) -> bytes:
    """The raw body of an API Gateway sample event (empty for a GET)."""
    return (event(name).get("body") or "").encode()


def names(prefix: str) -> list[str]:
    return sorted(p.stem for p in EVENTS_DIR.glob(f"{prefix}-*.json"))
