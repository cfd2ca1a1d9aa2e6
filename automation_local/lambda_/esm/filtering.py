"""Lambda event filtering for SQS event source mappings, with AWS's semantics.

`matches_filter_criteria(filter_criteria, record)` decides whether Lambda would hand an
SQS record to the function (True) or delete it unprocessed (False). The pattern language
(equals, prefix, suffix, anything-but, numeric, exists, null, arrays...) is EventBridge's;
moto's maintained matcher evaluates it. What is Lambda's own is done here:

- SQS mappings filter on the `body` key only;
- a JSON body is parsed and matched field by field; a plain-string body only matches a
  pattern that treats `body` as a string, and a JSON body never matches such a pattern;
- several filters are ORed: one match is enough.
"""

from __future__ import annotations

import json
from typing import Any

from moto.events.models import EventPattern


def _body(record: dict[str, Any]) -> tuple[Any, bool]:
    """The body to match and whether it is a JSON object (else it is matched as a string)."""
    try:
        parsed = json.loads(record["body"])
    except (TypeError, ValueError):
        return record["body"], False
    return (parsed, True) if isinstance(parsed, dict) else (record["body"], False)


def _matches(pattern: dict[str, Any], record: dict[str, Any]) -> bool:
    if set(pattern) - {"body"}:
        raise ValueError(f"SQS event source mappings filter on `body` only, not {sorted(set(pattern) - {'body'})}")
    if "body" not in pattern:
        return True
    body, is_json = _body(record)
    if isinstance(pattern["body"], dict) != is_json:
        return False  # a field pattern never matches a plain string, nor a string pattern a JSON body
    # moto types the event as an EventBridge event; the matcher itself reads any mapping.
    return EventPattern(None, pattern).matches_event({"body": body})  # type: ignore[typeddict-item,typeddict-unknown-key]


def matches_filter_criteria(filter_criteria: dict[str, Any] | None, record: dict[str, Any]) -> bool:
    """True if Lambda would invoke the function with this SQS record."""
    filters = (filter_criteria or {}).get("Filters") or []
    if not filters:
        return True
    return any(_matches(json.loads(f["Pattern"]), record) for f in filters)
