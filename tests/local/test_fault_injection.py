"""The fault proxy as the SDK meets it: real boto3 clients through it to the emulator."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from automation_local.aws.emulator import CREDENTIALS, Emulator
from automation_local.aws.fault_proxy import FaultPlan, FaultProxy

pytestmark = pytest.mark.slow


def client_through(proxy: FaultProxy, emulator: Emulator, service: str, attempts: int = 1):
    return boto3.client(
        service,
        endpoint_url=proxy.url,
        region_name=emulator.region,
        config=Config(retries={"mode": "standard", "max_attempts": attempts}),
        **CREDENTIALS,
    )


@pytest.fixture
def queue_url(emulator: Emulator) -> Iterator[str]:
    sqs = emulator.client("sqs")
    url = sqs.create_queue(QueueName=f"faults-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    yield url
    sqs.delete_queue(QueueUrl=url)


def depth(emulator: Emulator, queue_url: str) -> int:
    attributes = emulator.client("sqs").get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"])


def test_unknown_faults_and_rates_outside_0_to_1_are_refused() -> None:
    # GIVEN fault plans naming a fault that does not exist, or a rate above 1
    # WHEN each is parsed
    # THEN it is refused, saying which is wrong
    with pytest.raises(ValueError, match="unknown fault"):
        FaultPlan.parse(["sqs-explodes=0.1"])
    with pytest.raises(ValueError, match="between 0 and 1"):
        FaultPlan.parse(["throttle=2"])


def test_without_faults_due_every_call_reaches_the_emulator(emulator: Emulator, queue_url: str) -> None:
    # GIVEN a fault proxy whose only fault never happens (rate 0)
    with FaultProxy(emulator.endpoint_url, FaultPlan({"throttle": 0.0})) as proxy:
        # WHEN SQS and S3 clients make their calls through it, a 70 KB object among them
        client_through(proxy, emulator, "sqs").send_message(QueueUrl=queue_url, MessageBody="through")
        bucket = f"faults-{uuid.uuid4().hex[:8]}"
        s3 = client_through(proxy, emulator, "s3")
        s3.create_bucket(Bucket=bucket)
        s3.put_object(Bucket=bucket, Key="k", Body=b"x" * 70_000)
        # THEN each call reaches the emulator: the object reads back whole
        assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"x" * 70_000
    # AND the message is in the queue
    assert depth(emulator, queue_url) == 1


def test_a_refused_send_reaches_the_caller_as_kms_throttled_and_sends_nothing(
    emulator: Emulator, queue_url: str
) -> None:
    # GIVEN a fault proxy that refuses every SQS send
    plan = FaultPlan({"sqs-send-error": 1.0})
    # WHEN a client allowed three attempts sends a message through it
    with FaultProxy(emulator.endpoint_url, plan) as proxy, pytest.raises(ClientError) as refused:
        client_through(proxy, emulator, "sqs", attempts=3).send_message(QueueUrl=queue_url, MessageBody="x")
    # Not retried by the SDK: one call, one fault.
    # THEN the caller gets KmsThrottled, the fault happened once, and the queue stays empty
    assert refused.value.response["Error"]["Code"] == "KmsThrottled"
    assert plan.counts() == {"sqs-send-error": 1}
    assert depth(emulator, queue_url) == 0


def test_a_partly_failed_batch_sends_exactly_the_entries_it_does_not_report(emulator: Emulator, queue_url: str) -> None:
    # GIVEN a fault proxy that fails part of every SQS batch
    # WHEN a batch of ten messages is sent through it
    with FaultProxy(emulator.endpoint_url, FaultPlan({"sqs-partial-batch": 1.0}, seed=1)) as proxy:
        answer = client_through(proxy, emulator, "sqs").send_message_batch(
            QueueUrl=queue_url, Entries=[{"Id": str(i), "MessageBody": f"m{i}"} for i in range(10)]
        )
    # THEN some entries are reported failed, the others successful, each entry one or the other
    failed = {entry["Id"] for entry in answer["Failed"]}
    sent = {entry["Id"] for entry in answer.get("Successful", [])}
    assert failed and failed.isdisjoint(sent) and failed | sent == {str(i) for i in range(10)}
    # AND the queue holds exactly the successful ones
    assert depth(emulator, queue_url) == len(sent)


@pytest.mark.parametrize(("service", "code"), [("dynamodb", "ThrottlingException"), ("sns", "Throttling")])
def test_throttling_is_retried_by_the_sdk_and_surfaces_once_attempts_run_out(
    emulator: Emulator, service: str, code: str
) -> None:
    # GIVEN a fault proxy that throttles every call
    plan = FaultPlan({"throttle": 1.0})
    # WHEN a client of the service, allowed three attempts, makes a call through it
    with FaultProxy(emulator.endpoint_url, plan) as proxy, pytest.raises(ClientError) as throttled:
        client = client_through(proxy, emulator, service, attempts=3)
        client.list_tables() if service == "dynamodb" else client.list_topics()
    # THEN the SDK retries it, and once the attempts run out the caller gets the service's throttling error
    # AND every attempt met the fault
    assert throttled.value.response["Error"]["Code"] == code
    retries = throttled.value.response["ResponseMetadata"]["RetryAttempts"]
    assert retries >= 2  # the SDK retried it
    assert plan.counts() == {"throttle": retries + 1}
