"""Feedback's requeue: the order again one attempt later, delayed by its backoff
(`min(900, base * backoffMultiplier ** retryCount)`), until its retries are spent."""

from __future__ import annotations

import json
from typing import Any

import pytest
from feedback_actions.requeue import requeue_message

from automation_shared.contracts import OrderMessage, ResultMessage, ResultStatus
from automation_shared.retry_policy import backoff_seconds, next_attempt
from tests.pure.events import record, record_body

pytestmark = pytest.mark.fast

BASE_DELAY_SECONDS = 30.0  # the template's default RequeueBaseDelaySeconds


def failed_order(**payload: Any) -> OrderMessage:
    """The sample url-monitoring order (its first attempt), with payload fields replaced."""
    document = json.loads(record_body("worker-url-monitoring"))
    document["payload"] |= payload
    return OrderMessage.model_validate(document)


def requeue_result(status: ResultStatus = ResultStatus.FAILURE) -> ResultMessage:
    """The result of events/feedback-requeue.json, with `status`."""
    return ResultMessage.model_validate_json(record_body("feedback-requeue")).model_copy(update={"status": status})


@pytest.mark.parametrize("retry_policy, retries", [(None, 3), ({"maxRetries": 1}, 1), ({"maxRetries": 0}, 0)])
def test_each_requeue_counts_an_attempt_until_the_retries_are_spent(
    retry_policy: dict[str, int] | None, retries: int
) -> None:
    # GIVEN the sample order's first attempt, with or without a retry policy, and the sample requeue result
    first = attempt = failed_order(**({"retryPolicy": retry_policy} if retry_policy else {}))
    result = requeue_result()

    # WHEN each attempt fails and is requeued, until feedback has nothing more to send
    counts = []
    while (retry := next_attempt(attempt, result)) is not None:
        counts.append(retry.retryCount)
        attempt = retry

    # THEN the retries count 1, 2, ... up to maxRetries (3 by default), the order otherwise unchanged
    assert counts == list(range(1, retries + 1))
    assert attempt.model_dump(exclude={"retryCount"}) == first.model_dump(exclude={"retryCount"})


def test_a_cancelled_attempt_is_requeued_without_counting_it() -> None:
    # GIVEN the sample order on its last allowed attempt, whose task never started (cancelled)
    last_attempt = failed_order().model_copy(update={"retryCount": 3})

    # WHEN feedback requeues it
    retry = next_attempt(last_attempt, requeue_result(ResultStatus.CANCELLED))

    # THEN the same attempt is sent again (a failure at this count would be escalated instead)
    assert retry == last_attempt
    assert next_attempt(last_attempt, requeue_result(ResultStatus.FAILURE)) is None


@pytest.mark.parametrize(
    "multiplier, base, delays",
    [
        (None, BASE_DELAY_SECONDS, [30, 60, 120, 240]),  # the default multiplier is 2
        (5.0, BASE_DELAY_SECONDS, [30, 150, 750, 900]),  # 3750 s capped at SQS's 900 s
        (1.5, 45.0, [45, 67, 101, 151]),  # 67.5, 101.25, 151.875: cut to whole seconds, not rounded
    ],
    ids=["default", "capped", "truncated"],
)
def test_the_delay_grows_with_the_attempt_and_stops_at_sqs_limit(
    multiplier: float | None, base: float, delays: list[int]
) -> None:
    # GIVEN the sample order's attempts 0 to 3, with the order's backoff multiplier if it has one
    policy = {"retryPolicy": {"backoffMultiplier": multiplier}} if multiplier else {}
    attempts = [failed_order(**policy).model_copy(update={"retryCount": n}) for n in range(4)]

    # WHEN feedback computes the delay after each failed attempt
    computed = [backoff_seconds(a, base) for a in attempts]

    # THEN it is base * multiplier ** retryCount, in whole seconds, never above 900
    assert computed == delays
    assert all(isinstance(d, int) and d <= 900 for d in computed)


def test_the_requeue_message_is_the_next_attempt_delayed_by_the_failed_attempts_backoff() -> None:
    # GIVEN the sample order's second attempt (retryCount 1), failed, and its feedback record
    failed_attempt = failed_order().model_copy(update={"retryCount": 1})
    retry = next_attempt(failed_attempt, requeue_result())
    assert retry is not None
    message_id = record("feedback-requeue")["messageId"]

    # WHEN feedback makes its SendMessageBatch entry (and the same with no base delay)
    entry = requeue_message(failed_attempt, retry, BASE_DELAY_SECONDS, message_id).batch_entry("0")
    undelayed = requeue_message(failed_attempt, retry, 0, message_id).batch_entry("0")

    # THEN it carries the third attempt, delayed 30 * 2 s, with the attributes consumers read
    assert json.loads(entry["MessageBody"])["retryCount"] == 2  # type: ignore[arg-type]
    assert entry["DelaySeconds"] == 60
    assert entry["MessageAttributes"]["TaskType"] == {"DataType": "String", "StringValue": "url-monitoring"}  # type: ignore[index]
    # and no DelaySeconds at all when there is no delay (SQS's default applies)
    assert "DelaySeconds" not in undelayed
