"""Follow-up rules: which results reach the feedback function (the result queue's filter,
as Lambda applies it), what each says to do, and how the worker chooses the action."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError
from worker_tasks.results import follow_up_action

from automation_local.lambda_.esm.filtering import matches_filter_criteria
from automation_shared.contracts import FollowUpAction, OrderMessage, ResultMessage, ResultStatus
from automation_shared.routing import RESULT_QUEUE_FILTER_CRITERIA
from tests.pure.events import names, record, record_body

pytestmark = pytest.mark.fast

INVALID = "refused by the contract"
# events/feedback-<case>.json: (reaches the feedback function, its follow-up action)
FEEDBACK_EVENTS: dict[str, tuple[bool, FollowUpAction | str | None]] = {
    "feedback-archive": (True, FollowUpAction.ARCHIVE),
    "feedback-enhance": (True, FollowUpAction.ENHANCE),
    "feedback-escalate": (True, FollowUpAction.ESCALATE),
    "feedback-notify": (True, FollowUpAction.NOTIFY),
    "feedback-requeue": (True, FollowUpAction.REQUEUE),
    "feedback-no-action": (True, None),  # the contract makes it optional: archived
    # a body without followUpAction passes the filter (as a valid one without it would)...
    "feedback-bad-contract-violation": (True, INVALID),
    # ...but a body that is not a JSON object, or names an action no producer sends, does not:
    # Lambda deletes such a record unseen (it is not even dead-lettered)
    "feedback-bad-malformed-json": (False, INVALID),
    "feedback-bad-unknown-follow-up-action": (False, INVALID),
}


def test_every_feedback_sample_event_is_covered_and_each_action_has_one() -> None:
    # GIVEN the feedback sample events on disk
    # WHEN they are compared with the cases below
    on_disk = set(names("feedback"))

    # THEN each has its expected outcome, and every follow-up action has a sample
    assert on_disk == set(FEEDBACK_EVENTS)
    assert {a for _, a in FEEDBACK_EVENTS.values() if isinstance(a, FollowUpAction)} == set(FollowUpAction)


@pytest.mark.parametrize("event_name", sorted(FEEDBACK_EVENTS))
def test_a_feedback_event_reaches_the_function_and_says_what_to_do(event_name: str) -> None:
    # GIVEN a sample record of the result queue
    sqs_record = record(event_name)
    reaches, action = FEEDBACK_EVENTS[event_name]

    # WHEN Lambda's filter of the result queue's mapping reads it, and the function validates it
    admitted = matches_filter_criteria(RESULT_QUEUE_FILTER_CRITERIA, sqs_record)
    try:
        result: ResultMessage | None = ResultMessage.model_validate_json(sqs_record["body"])
    except ValidationError:
        result = None

    # THEN it reaches the function or not as expected, and carries the action its name says
    assert admitted is reaches
    if action == INVALID:
        assert result is None
    else:
        assert result is not None
        assert result.followUpAction is action
        # the worker's message attribute says the same as the body
        attribute = sqs_record["messageAttributes"].get("FollowUpAction", {}).get("stringValue")
        assert attribute == (action.value if action else None)


def order_with(**fields: Any) -> OrderMessage:
    """The sample url-monitoring order with some fields (or payload fields) replaced."""
    document = json.loads(record_body("worker-url-monitoring"))
    document["payload"] |= fields.pop("payload", {})
    return OrderMessage.model_validate(document | fields)


@pytest.mark.parametrize(
    "status, order_fields, retryable, expected",
    [
        (ResultStatus.SUCCESS, {}, True, FollowUpAction.ARCHIVE),
        (
            ResultStatus.SUCCESS,
            {"payload": {"configuration": {"followUpAction": "notify"}}},
            True,
            FollowUpAction.NOTIFY,
        ),
        # on success only notify, enhance or archive may be asked for
        (
            ResultStatus.PARTIAL,
            {"payload": {"configuration": {"followUpAction": "escalate"}}},
            True,
            FollowUpAction.ARCHIVE,
        ),
        (ResultStatus.FAILURE, {"retryCount": 2}, True, FollowUpAction.REQUEUE),
        (ResultStatus.TIMEOUT, {"retryCount": 3}, True, FollowUpAction.ESCALATE),
        (
            ResultStatus.RATE_LIMITED,
            {"retryCount": 1, "payload": {"retryPolicy": {"maxRetries": 1}}},
            True,
            FollowUpAction.ESCALATE,
        ),
        (ResultStatus.FAILURE, {}, False, FollowUpAction.ESCALATE),
        (ResultStatus.CANCELLED, {"retryCount": 3}, True, FollowUpAction.REQUEUE),
    ],
    ids=[
        "success: archive",
        "success: the order's choice",
        "partial: escalate not choosable",
        "failure with retries left",
        "timeout, retries spent (default 3)",
        "rate-limited, the order's 1 retry spent",
        "failure not retryable",
        "cancelled: never counted",
    ],
)
def test_the_worker_chooses_the_follow_up_action_by_the_readmes_rules(
    status: ResultStatus, order_fields: dict[str, Any], retryable: bool, expected: FollowUpAction
) -> None:
    # GIVEN the sample order at some attempt, with its configuration and retry policy
    order = order_with(**order_fields)

    # WHEN its attempt ends with `status`
    action = follow_up_action(order, status, retryable=retryable)

    # THEN the action is the one the rules give
    assert action is expected
