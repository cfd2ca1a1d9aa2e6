"""What keeps a redelivered message from doing its work twice (an attempt's stored result, the
acts on its order's record) is kept as long as a message can come back: order_records' figures
are the template's queue retentions."""

from __future__ import annotations

from typing import Any

import pytest

from automation_shared.order_records import (
    DEAD_LETTER_RETENTION_SECONDS,
    MESSAGE_LIFETIME_SECONDS,
    RESULT_RETENTION_SECONDS,
    RETENTION_SECONDS,
    SQS_LONGEST_RETENTION_SECONDS,
)

pytestmark = pytest.mark.fast


def test_what_makes_a_redelivery_safe_outlives_every_message_of_the_stack(cfn_template: dict[str, Any]) -> None:
    # GIVEN the template's queues and their retention parameters
    resources, parameters = cfn_template["Resources"], cfn_template["Parameters"]
    # THEN each DLQ keeps a message as long as order_records counts on
    for name in ("OrderDeadLetterQueue", "ResultDeadLetterQueue"):
        assert int(resources[name]["Properties"]["MessageRetentionPeriod"]) == DEAD_LETTER_RETENTION_SECONDS, name
    # AND no source queue can keep one longer than it counts on
    for name in ("OrderQueueRetentionSeconds", "ResultQueueRetentionSeconds"):
        assert int(parameters[name]["MaxValue"]) <= SQS_LONGEST_RETENTION_SECONDS, name
    # AND a stored result and an order's record outlive a message sent before they were written
    # (a FIFO DLQ counts its retention again from the move: both retentions in a row)
    assert MESSAGE_LIFETIME_SECONDS == SQS_LONGEST_RETENTION_SECONDS + DEAD_LETTER_RETENTION_SECONDS
    assert RESULT_RETENTION_SECONDS >= MESSAGE_LIFETIME_SECONDS
    assert RETENTION_SECONDS >= MESSAGE_LIFETIME_SECONDS
