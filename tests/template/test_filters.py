"""The mappings' filters are the contracts' enums, so neither can change alone."""

from __future__ import annotations

import json
from typing import Any

import pytest

from automation_shared.contracts import FollowUpAction, TaskType
from automation_shared.routing import ORDER_QUEUE_FILTER_CRITERIA, RESULT_QUEUE_FILTER_CRITERIA

pytestmark = pytest.mark.fast


def _patterns(criteria: dict[str, Any]) -> list[Any]:
    return [json.loads(f["Pattern"]) for f in criteria["Filters"]]


def test_order_mapping_filter_equals_the_task_type_enum(cfn_template: dict[str, Any]) -> None:
    # GIVEN the filter of the order queue's mapping, in the template as CloudFormation receives it
    criteria = cfn_template["Resources"]["WorkerOrderQueueMapping"]["Properties"]["FilterCriteria"]
    # THEN it is the filter the shared code defines, admitting exactly the contract's task types
    assert _patterns(criteria) == _patterns(ORDER_QUEUE_FILTER_CRITERIA)
    assert set(_patterns(criteria)[0]["body"]["taskType"]) == {t.value for t in TaskType}


def test_result_mapping_filter_equals_the_follow_up_action_enum(cfn_template: dict[str, Any]) -> None:
    # GIVEN the filter of the result queue's mapping, in the template as CloudFormation receives it
    criteria = cfn_template["Resources"]["FeedbackResultQueueMapping"]["Properties"]["FilterCriteria"]
    # THEN it is the filter the shared code defines: exactly the contract's follow-up actions,
    # or none
    assert _patterns(criteria) == _patterns(RESULT_QUEUE_FILTER_CRITERIA)
    allowed, absent = _patterns(criteria)
    assert set(allowed["body"]["followUpAction"]) == {a.value for a in FollowUpAction}
    # followUpAction is optional in the contract: a result without it must not be filtered out.
    assert absent == {"body": {"followUpAction": [{"exists": False}]}}
