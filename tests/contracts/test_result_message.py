"""ResultMessage: every rule of the original result schema, accepted and refused."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from automation_shared.contracts import FollowUpAction, ResultMessage, ResultStatus
from tests.contracts.documents import DELETE, changed
from tests.contracts.schema_files import schema_errors

pytestmark = pytest.mark.fast

VALID_RESULT: dict[str, Any] = {
    "orderId": "3f1c2a4e-8b7d-4c1e-9a2b-1d2e3f4a5b6c",
    "taskType": "url-monitoring",
    "status": "success",
    "result": {"summary": "200 OK in 120 ms"},
    "processingTime": 120.5,
    "timestamp": "2026-11-25T10:00:01Z",
    "userId": "user-42",
}


def _with(**changes: Any) -> dict[str, Any]:
    return changed(VALID_RESULT, **changes)


ACCEPTED = {
    "minimal": VALID_RESULT,
    "all optional fields": _with(
        correlationId="batch-7",
        followUpAction="archive",
        priority="high",
        cost=0.0004,
        queueMetrics={"queueTime": 1500, "processingDelay": 20},
        result={
            "data": {"status": 200},
            "summary": "s" * 1000,
            "size": 256000,
            "metadata": {"processingNode": "arm64", "resourcesUsed": {}, "errorDetails": {}, "performanceMetrics": {}},
        },
    ),
    "orderId any UUID version (format uuid)": _with(orderId="3f1c2a4e-8b7d-1c1e-9a2b-1d2e3f4a5b6c"),
    "taskType free text (schema: string)": _with(taskType="custom-task"),
    "empty result object": _with(result={}),
    "zero cost": _with(cost=0),
    **{f"status {s.value}": _with(status=s.value) for s in ResultStatus},
    **{f"followUpAction {a.value}": _with(followUpAction=a.value) for a in FollowUpAction},
}

REFUSED = {
    "missing orderId": (_with(orderId=DELETE), ("orderId",)),
    "missing taskType": (_with(taskType=DELETE), ("taskType",)),
    "missing status": (_with(status=DELETE), ("status",)),
    "missing result": (_with(result=DELETE), ("result",)),
    "missing processingTime": (_with(processingTime=DELETE), ("processingTime",)),
    "missing timestamp": (_with(timestamp=DELETE), ("timestamp",)),
    "missing userId": (_with(userId=DELETE), ("userId",)),
    "orderId not a UUID": (_with(orderId="order-1"), ("orderId",)),
    "unknown status": (_with(status="done"), ("status",)),
    "unknown followUpAction": (_with(followUpAction="delete"), ("followUpAction",)),
    "unknown priority": (_with(priority="urgent"), ("priority",)),
    "summary over 1000": (_with(result__summary="s" * 1001), ("result", "summary")),
    "size over 256000": (_with(result__size=256001), ("result", "size")),
    "negative cost": (_with(cost=-0.01), ("cost",)),
    "processingTime a string": (_with(processingTime="120"), ("processingTime",)),
    "processingTime a boolean": (_with(processingTime=False), ("processingTime",)),
    "data not an object": (_with(result__data=[1]), ("result", "data")),
    "unknown top-level field": (_with(worker="w1"), ("worker",)),
    "explicit null": (_with(followUpAction=None), ()),
    "timestamp not a date": (_with(timestamp="soon"), ("timestamp",)),
}

FORMAT_ONLY = {"orderId not a UUID", "timestamp not a date"}


@pytest.mark.parametrize("result", ACCEPTED.values(), ids=ACCEPTED.keys())
def test_valid_results_are_accepted(result: dict[str, Any]) -> None:
    # GIVEN a valid result (each rule's accepted case)
    # WHEN the model parses it
    parsed = ResultMessage.model_validate_json(json.dumps(result))
    # THEN it is accepted as it is, and the JSON Schema file finds nothing wrong with it
    assert parsed.orderId == result["orderId"]
    assert schema_errors("result-message", result) == []


@pytest.mark.parametrize("result, location", REFUSED.values(), ids=REFUSED.keys())
def test_invalid_results_are_refused_at_the_field(result: dict[str, Any], location: tuple[str, ...]) -> None:
    # GIVEN a result breaking one rule of the schema
    # WHEN the model parses it
    with pytest.raises(ValidationError) as refused:
        ResultMessage.model_validate_json(json.dumps(result))
    # THEN it is refused, with an error at the field that breaks the rule
    locations = [tuple(str(part) for part in error["loc"]) for error in refused.value.errors()]
    assert any(loc[: len(location)] == location for loc in locations), locations


@pytest.mark.parametrize(
    "result",
    [result for name, (result, _) in REFUSED.items() if name not in FORMAT_ONLY],
    ids=[name for name in REFUSED if name not in FORMAT_ONLY],
)
def test_the_json_schema_file_refuses_the_same_results(result: dict[str, Any]) -> None:
    # GIVEN a result the model refuses (date formats aside, which the file only annotates)
    # WHEN the JSON Schema file checks it
    # THEN it is refused there too
    assert schema_errors("result-message", result) != []


def test_optional_fields_stay_off_the_wire() -> None:
    # GIVEN a result without follow-up action or cost
    result = ResultMessage.model_validate(VALID_RESULT)
    # WHEN it is written to JSON
    wire = json.loads(result.to_json())
    # THEN the optional fields left unset are not written, and the JSON parses back to the same result
    assert "followUpAction" not in wire and "cost" not in wire
    assert ResultMessage.model_validate_json(result.to_json()) == result
