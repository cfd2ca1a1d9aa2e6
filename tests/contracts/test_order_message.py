"""OrderMessage: every rule of the original order schema, accepted and refused.

Each case is checked twice: by the pydantic model and by the checked-in JSON Schema
file, so the file other repositories use says the same as the code.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from automation_shared.contracts import OrderMessage, Priority, TaskType
from tests.contracts.documents import DELETE, changed
from tests.contracts.schema_files import schema_errors

pytestmark = pytest.mark.fast

VALID_ORDER: dict[str, Any] = {
    "orderId": "3f1c2a4e-8b7d-4c1e-9a2b-1d2e3f4a5b6c",
    "taskType": "url-monitoring",
    "payload": {"url": "https://example.com/health", "timeout": 60},
    "userId": "user-42",
    "timestamp": "2026-11-25T10:00:00Z",
}


def _with(**changes: Any) -> dict[str, Any]:
    return changed(VALID_ORDER, **changes)


ACCEPTED = {
    "minimal": VALID_ORDER,
    "all optional fields": _with(
        priority="critical",
        retryCount=3,
        deduplicationId="d" * 128,
        correlationId="batch-7",
        payload__parameters={"selector": "h1"},
        payload__configuration={"followRedirects": True},
        payload__retryPolicy={"maxRetries": 3, "backoffMultiplier": 5.0},
    ),
    "timeout at lower bound": _with(payload__timeout=30),
    "timeout at upper bound": _with(payload__timeout=900),
    "retryCount zero": _with(retryCount=0),
    "backoff at lower bound": _with(payload__retryPolicy={"backoffMultiplier": 1.0}),
    "empty payload": _with(payload={}),
    "payload keeps extra fields (schema leaves it open)": _with(payload__text="hello"),
    "timestamp with offset": _with(timestamp="2026-11-25T12:00:00+02:00"),
}

REFUSED = {
    # (order, error location)
    "missing orderId": (_with(orderId=DELETE), ("orderId",)),
    "missing taskType": (_with(taskType=DELETE), ("taskType",)),
    "missing payload": (_with(payload=DELETE), ("payload",)),
    "missing userId": (_with(userId=DELETE), ("userId",)),
    "missing timestamp": (_with(timestamp=DELETE), ("timestamp",)),
    "orderId not a UUID": (_with(orderId="order-1"), ("orderId",)),
    "orderId UUIDv1": (_with(orderId="3f1c2a4e-8b7d-1c1e-9a2b-1d2e3f4a5b6c"), ("orderId",)),
    "orderId upper case": (_with(orderId="3F1C2A4E-8B7D-4C1E-9A2B-1D2E3F4A5B6C"), ("orderId",)),
    "orderId bad variant": (_with(orderId="3f1c2a4e-8b7d-4c1e-7a2b-1d2e3f4a5b6c"), ("orderId",)),
    "unknown task type": (_with(taskType="crypto-mining"), ("taskType",)),
    "unknown priority": (_with(priority="urgent"), ("priority",)),
    "empty userId": (_with(userId=""), ("userId",)),
    "userId a number": (_with(userId=42), ("userId",)),
    "timestamp not a date": (_with(timestamp="yesterday"), ("timestamp",)),
    "timestamp a number": (_with(timestamp=1764064800), ("timestamp",)),
    "timestamp without offset": (_with(timestamp="2026-11-25T10:00:00"), ("timestamp",)),
    "timeout below 30": (_with(payload__timeout=29), ("payload", "timeout")),
    "timeout above 900": (_with(payload__timeout=901), ("payload", "timeout")),
    "timeout a string": (_with(payload__timeout="60"), ("payload", "timeout")),
    "timeout a boolean": (_with(payload__timeout=True), ("payload", "timeout")),
    "retryCount above 3": (_with(retryCount=4), ("retryCount",)),
    "retryCount negative": (_with(retryCount=-1), ("retryCount",)),
    "retryCount fractional": (_with(retryCount=1.5), ("retryCount",)),
    "maxRetries above 3": (_with(payload__retryPolicy={"maxRetries": 4}), ("payload", "retryPolicy", "maxRetries")),
    "backoff below 1": (
        _with(payload__retryPolicy={"backoffMultiplier": 0.5}),
        ("payload", "retryPolicy", "backoffMultiplier"),
    ),
    "backoff above 5": (
        _with(payload__retryPolicy={"backoffMultiplier": 5.5}),
        ("payload", "retryPolicy", "backoffMultiplier"),
    ),
    "deduplicationId over 128": (_with(deduplicationId="d" * 129), ("deduplicationId",)),
    "unknown top-level field": (_with(owner="me"), ("owner",)),
    "explicit null": (_with(priority=None), ("priority",)),
    "explicit null nested": (_with(payload__timeout=None), ("payload", "timeout")),
    "payload not an object": (_with(payload="do it"), ("payload",)),
    "parameters not an object": (_with(payload__parameters=[1, 2]), ("payload", "parameters")),
    "url a number": (_with(payload__url=5), ("payload", "url")),
}

# Format rules (date-time) are checked by the model only: JSON Schema validators treat
# "format" as an annotation unless a format checker is installed.
FORMAT_ONLY = {"timestamp not a date", "timestamp without offset"}


def _expanded_accepted() -> dict[str, dict[str, Any]]:
    cases = dict(ACCEPTED)
    cases |= {f"task type {t.value}": _with(taskType=t.value) for t in TaskType}
    cases |= {f"priority {p.value}": _with(priority=p.value) for p in Priority}
    return cases


@pytest.mark.parametrize("order", _expanded_accepted().values(), ids=_expanded_accepted().keys())
def test_valid_orders_are_accepted(order: dict[str, Any]) -> None:
    # GIVEN a valid order (each rule's accepted case, every task type and every priority)
    # WHEN the model parses it
    parsed = OrderMessage.model_validate_json(json.dumps(order))
    # THEN it is accepted as it is, and the JSON Schema file finds nothing wrong with it
    assert parsed.orderId == order["orderId"]
    assert schema_errors("order-message", order) == []


@pytest.mark.parametrize("order, location", REFUSED.values(), ids=REFUSED.keys())
def test_invalid_orders_are_refused_at_the_field(order: dict[str, Any], location: tuple[str, ...]) -> None:
    # GIVEN an order breaking one rule of the schema
    # WHEN the model parses it
    with pytest.raises(ValidationError) as refused:
        OrderMessage.model_validate_json(json.dumps(order))
    # THEN it is refused, with an error at the field that breaks the rule
    locations = [tuple(str(part) for part in error["loc"]) for error in refused.value.errors()]
    assert any(loc[: len(location)] == location for loc in locations), locations


@pytest.mark.parametrize(
    "order",
    [order for name, (order, _) in REFUSED.items() if name not in FORMAT_ONLY],
    ids=[name for name in REFUSED if name not in FORMAT_ONLY],
)
def test_the_json_schema_file_refuses_the_same_orders(order: dict[str, Any]) -> None:
    # GIVEN an order the model refuses (date formats aside, which the file only annotates)
    # WHEN the JSON Schema file checks it
    # THEN it is refused there too
    assert schema_errors("order-message", order) != []


def test_priority_defaults_to_normal_and_optional_fields_stay_off_the_wire() -> None:
    # GIVEN a minimal order, without priority, retry count or deduplication id
    # WHEN the model parses it
    order = OrderMessage.model_validate(VALID_ORDER)
    # THEN its priority is normal
    assert order.priority is Priority.NORMAL
    # WHEN it is written back to JSON
    wire = json.loads(order.to_json())
    # THEN the priority is written, the optional fields left unset are not,
    # and the JSON parses back to the same order
    assert wire["priority"] == "normal"
    assert "retryCount" not in wire and "deduplicationId" not in wire
    assert OrderMessage.model_validate_json(order.to_json()) == order


def test_a_null_is_reported_at_its_own_path_beside_the_objects_other_errors() -> None:
    # GIVEN an order whose payload has a null timeout and, beside it, a url that is a number
    order = _with(payload__timeout=None, payload__url=5)
    # WHEN the model parses it
    with pytest.raises(ValidationError) as refused:
        OrderMessage.model_validate_json(json.dumps(order))
    # THEN both errors are reported, each at its own field (the null does not hide the other,
    # nor is it reported at its parent's path)
    locations = {tuple(str(part) for part in error["loc"]) for error in refused.value.errors()}
    assert ("payload", "timeout") in locations
    assert ("payload", "url") in locations
    assert ("payload",) not in locations
