"""matches_filter_criteria against the cases of AWS's Lambda event filtering documentation."""

from __future__ import annotations

import json
from typing import Any

import pytest

from automation_local.lambda_.esm.filtering import matches_filter_criteria
from automation_shared.routing import ORDER_QUEUE_FILTER_CRITERIA, RESULT_QUEUE_FILTER_CRITERIA

pytestmark = pytest.mark.fast


def criteria(*patterns: dict[str, Any]) -> dict[str, Any]:
    return {"Filters": [{"Pattern": json.dumps(p)} for p in patterns]}


def record(body: Any) -> dict[str, Any]:
    return {"messageId": "m-1", "body": body if isinstance(body, str) else json.dumps(body)}


BODY = {
    "RecordNumber": 1234,
    "RequestCode": "AAAA",
    "Location": "Eastern Canada",
    "Weather": {"Temperature": 18.5, "Condition": None},
    "Tags": ["red", "blue"],
    "Empty": "",
}

CASES = {
    # (pattern of body, matches BODY?)
    "equals": ({"RequestCode": ["AAAA"]}, True),
    "equals, other value": ({"RequestCode": ["BBBB"]}, False),
    "several values (OR)": ({"RequestCode": ["BBBB", "AAAA"]}, True),
    "prefix": ({"Location": [{"prefix": "Eastern"}]}, True),
    "prefix, no match": ({"Location": [{"prefix": "Western"}]}, False),
    "suffix": ({"Location": [{"suffix": "Canada"}]}, True),
    "equals-ignore-case": ({"RequestCode": [{"equals-ignore-case": "aaaa"}]}, True),
    "anything-but": ({"RequestCode": [{"anything-but": ["BBBB"]}]}, True),
    "anything-but, excluded": ({"RequestCode": [{"anything-but": ["AAAA"]}]}, False),
    "numeric range": ({"RecordNumber": [{"numeric": [">", 1000, "<=", 2000]}]}, True),
    "numeric range, outside": ({"RecordNumber": [{"numeric": [">", 2000]}]}, False),
    "numeric equals": ({"Weather": {"Temperature": [{"numeric": ["=", 18.5]}]}}, True),
    "exists true": ({"Location": [{"exists": True}]}, True),
    "exists true, missing": ({"Missing": [{"exists": True}]}, False),
    "exists false, missing": ({"Missing": [{"exists": False}]}, True),
    "exists false, present": ({"Location": [{"exists": False}]}, False),
    "null": ({"Weather": {"Condition": [None]}}, True),
    "null, not null": ({"Location": [None]}, False),
    "empty string": ({"Empty": [""]}, True),
    "empty string, not empty": ({"Location": [""]}, False),
    "array in the event: any element": ({"Tags": ["blue"]}, True),
    "array in the event: no element": ({"Tags": ["green"]}, False),
    "nested field": ({"Weather": {"Temperature": [18.5]}}, True),
    "two fields (AND)": ({"RequestCode": ["AAAA"], "Location": [{"prefix": "Western"}]}, False),
}


@pytest.mark.parametrize("body_pattern, expected", CASES.values(), ids=CASES.keys())
def test_documented_pattern_cases(body_pattern: dict[str, Any], expected: bool) -> None:
    # GIVEN a record with the documentation's sample body, and a documented pattern on its body
    # WHEN the filter is applied to the record
    # THEN it matches exactly when the documentation says it does
    assert matches_filter_criteria(criteria({"body": body_pattern}), record(BODY)) is expected


def test_several_filters_are_ored() -> None:
    # GIVEN two filters of which one matches the record, and two of which neither does
    both = criteria({"body": {"RequestCode": ["BBBB"]}}, {"body": {"Location": [{"prefix": "Eastern"}]}})
    neither = criteria({"body": {"RequestCode": ["BBBB"]}}, {"body": {"Location": [{"prefix": "West"}]}})
    # WHEN each pair is applied to the record
    # THEN the record passes when any filter matches it, and not otherwise
    assert matches_filter_criteria(both, record(BODY)) is True
    assert matches_filter_criteria(neither, record(BODY)) is False


def test_no_filter_criteria_lets_everything_through() -> None:
    # GIVEN no filter criteria, or criteria with no filter
    # WHEN they are applied to a record
    # THEN the record passes
    assert matches_filter_criteria(None, record("anything")) is True
    assert matches_filter_criteria({"Filters": []}, record(BODY)) is True


def test_plain_string_bodies_match_string_patterns_only() -> None:
    # GIVEN a record whose body is a plain string, not JSON
    plain = record("I am a plain string")
    # WHEN patterns on the body as a string are applied to it
    # THEN an equal string and a matching prefix pass it
    assert matches_filter_criteria(criteria({"body": ["I am a plain string"]}), plain) is True
    assert matches_filter_criteria(criteria({"body": [{"prefix": "I am"}]}), plain) is True
    # AND a field pattern never matches a plain-string body, even `exists: false`
    assert matches_filter_criteria(criteria({"body": {"RequestCode": [{"exists": False}]}}), plain) is False
    # AND a string pattern never matches a JSON body
    assert matches_filter_criteria(criteria({"body": [{"prefix": "{"}]}), record(BODY)) is False


def test_sqs_mappings_filter_on_the_body_only() -> None:
    # GIVEN a filter on a record's attributes rather than its body
    # WHEN it is applied to a record
    # THEN it is refused, saying SQS mappings filter on the body
    with pytest.raises(ValueError, match="body"):
        matches_filter_criteria(criteria({"attributes": {"ApproximateReceiveCount": ["1"]}}), record(BODY))


def test_the_templates_filters_admit_every_contract_value_and_nothing_else() -> None:
    # GIVEN the filters of the order and result queues' mappings (the shared code's, which the template holds)
    # WHEN they are applied to orders and results
    order = {"orderId": "x", "taskType": "url-monitoring"}
    # THEN an order passes with a known task type, and not with an unknown one or a body that is not JSON
    assert matches_filter_criteria(ORDER_QUEUE_FILTER_CRITERIA, record(order)) is True
    assert matches_filter_criteria(ORDER_QUEUE_FILTER_CRITERIA, record({**order, "taskType": "mining"})) is False
    assert matches_filter_criteria(ORDER_QUEUE_FILTER_CRITERIA, record("not json")) is False
    # AND a result passes without a follow-up action or with a known one, and not with an unknown one
    result = {"orderId": "x", "status": "success"}
    assert matches_filter_criteria(RESULT_QUEUE_FILTER_CRITERIA, record(result)) is True  # no action: archived
    assert matches_filter_criteria(RESULT_QUEUE_FILTER_CRITERIA, record({**result, "followUpAction": "notify"})) is True
    assert matches_filter_criteria(RESULT_QUEUE_FILTER_CRITERIA, record({**result, "followUpAction": "drop"})) is False
