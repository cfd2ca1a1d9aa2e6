"""The emulator counts the API calls it answers by service and action, whatever the protocol."""

from __future__ import annotations

import uuid

import pytest

from automation_local.aws.emulator import Emulator

pytestmark = pytest.mark.slow


def test_the_emulator_counts_each_call_by_service_and_action_until_reset(emulator: Emulator) -> None:
    # GIVEN an emulator whose count starts from zero, and a queue made before that
    sqs = emulator.client("sqs")
    queue_url = sqs.create_queue(QueueName=f"counted-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    emulator.reset_api_calls()

    # WHEN clients make calls over JSON (SQS), query (SNS) and REST (S3) protocols
    sqs.send_message_batch(QueueUrl=queue_url, Entries=[{"Id": str(i), "MessageBody": "x"} for i in range(3)])
    sqs.send_message_batch(QueueUrl=queue_url, Entries=[{"Id": "0", "MessageBody": "y"}])
    sqs.send_message(QueueUrl=queue_url, MessageBody="z")
    emulator.client("sns").create_topic(Name=f"counted-{uuid.uuid4().hex[:8]}")
    emulator.client("s3").create_bucket(Bucket=f"counted-{uuid.uuid4().hex[:8]}")
    counted = emulator.api_calls()

    # THEN each call is counted once under its service and action (REST APIs under the method)
    assert counted == {
        "sqs:SendMessageBatch": 2,
        "sqs:SendMessage": 1,
        "sns:CreateTopic": 1,
        "s3:PUT": 1,
    }
    # AND a reset starts the count again
    emulator.reset_api_calls()
    assert emulator.api_calls() == {}
