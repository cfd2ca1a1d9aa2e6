"""Event source mapping filter criteria, derived from the contracts' enums.

Lambda deletes a message that matches no filter of its queue's mapping, so these are
allow-lists of every value a valid producer can send (mission.md, correction 5): the
template's `FilterCriteria` must equal them, which a test checks. A result may leave
`followUpAction` out (the contract makes it optional), so the result queue admits that
too; the feedback function archives such a result.
"""

from __future__ import annotations

import json
from typing import Any

from .contracts import FollowUpAction, TaskType


def _criteria(*patterns: dict[str, Any]) -> dict[str, list[dict[str, str]]]:
    return {"Filters": [{"Pattern": json.dumps(p, separators=(",", ":"))} for p in patterns]}


ORDER_QUEUE_FILTER_CRITERIA = _criteria({"body": {"taskType": [t.value for t in TaskType]}})

RESULT_QUEUE_FILTER_CRITERIA = _criteria(
    {"body": {"followUpAction": [a.value for a in FollowUpAction]}},
    {"body": {"followUpAction": [{"exists": False}]}},
)
