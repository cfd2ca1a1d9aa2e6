"""template.yaml deployed as a CloudFormation stack into the emulator (moto server on 127.0.0.1).

Everything is read back the way another repository would: SSM parameter names first,
then the resources they point to.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from automation_local.aws.emulator import Emulator
from automation_local.cloudformation.stack import DeployedStack
from automation_shared.routing import ORDER_QUEUE_FILTER_CRITERIA, RESULT_QUEUE_FILTER_CRITERIA

pytestmark = pytest.mark.slow

PREFIX = "/automation/dev"


@pytest.fixture(scope="module")
def stack(deployed_stack: DeployedStack) -> DeployedStack:
    return deployed_stack


@pytest.fixture(scope="module")
def ssm_parameters(emulator: Emulator, stack: DeployedStack) -> dict[str, str]:
    paginator = emulator.client("ssm").get_paginator("get_parameters_by_path")
    pages = paginator.paginate(Path=stack.ssm_prefix, Recursive=True)
    return {p["Name"]: p["Value"] for page in pages for p in page["Parameters"]}


def _queue_attributes(emulator: Emulator, url: str) -> dict[str, str]:
    return emulator.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]


def test_stack_reaches_create_complete(emulator: Emulator, stack: DeployedStack) -> None:
    # GIVEN the template deployed as a stack into the emulator
    # WHEN the stack is described
    [described] = emulator.client("cloudformation").describe_stacks(StackName=stack.stack_name)["Stacks"]
    # THEN its creation completed
    assert described["StackStatus"] == "CREATE_COMPLETE"


def test_every_ssm_parameter_of_the_original_is_readable_by_name(ssm_parameters: dict[str, str]) -> None:
    # GIVEN the SSM parameters the deployed stack exports under its prefix
    # WHEN each parameter of the original is read by its name
    # THEN each has a value
    for name in (
        "queues/order/url",
        "queues/order/arn",
        "queues/result/url",
        "queues/result/arn",
        "queues/config",
        "roles/webhook/arn",
        "roles/worker/arn",
        "roles/feedback/arn",
        "monitoring/queue-alerts/topic-arn",
    ):
        assert ssm_parameters.get(f"{PREFIX}/{name}"), name
    # AND the queue configuration says the queue type a producer talks to, and each queue's
    # visibility timeout, max receive count and largest message
    assert json.loads(ssm_parameters[f"{PREFIX}/queues/config"]) == {
        "queueType": "standard",
        "orderQueue": {"visibilityTimeout": 300, "maxReceiveCount": 3, "maximumMessageSize": 262144},
        "resultQueue": {"visibilityTimeout": 180, "maxReceiveCount": 3, "maximumMessageSize": 262144},
    }


@pytest.mark.parametrize(
    "queue, dlq, visibility, retention",
    [("order", "order-dlq", "300", "1209600"), ("result", "result-dlq", "180", "604800")],
)
def test_queues_found_through_ssm_have_the_configured_attributes(
    emulator: Emulator,
    stack: DeployedStack,
    ssm_parameters: dict[str, str],
    queue: str,
    dlq: str,
    visibility: str,
    retention: str,
) -> None:
    # GIVEN the queue and DLQ URLs another repository reads from SSM
    source = _queue_attributes(emulator, ssm_parameters[f"{PREFIX}/queues/{queue}/url"])
    dead_letter = _queue_attributes(emulator, ssm_parameters[f"{PREFIX}/queues/{dlq}/url"])
    key_id = stack.resources["EncryptionKey"]
    # THEN the source queue has the original's settings, the stack's key and its DLQ
    assert source["QueueArn"] == ssm_parameters[f"{PREFIX}/queues/{queue}/arn"]
    assert source["VisibilityTimeout"] == visibility
    assert source["MessageRetentionPeriod"] == retention
    assert source["ReceiveMessageWaitTimeSeconds"] == "6"
    assert json.loads(source["RedrivePolicy"]) == {"deadLetterTargetArn": dead_letter["QueueArn"], "maxReceiveCount": 3}
    assert source["KmsMasterKeyId"] == key_id
    assert source["KmsDataKeyReusePeriodSeconds"] == "21600"
    # AND the DLQ keeps 14 days, encrypted with the same key
    assert dead_letter["MessageRetentionPeriod"] == "1209600"
    assert dead_letter["KmsMasterKeyId"] == key_id


def test_key_rotates(emulator: Emulator, stack: DeployedStack) -> None:
    # GIVEN the stack's encryption key
    # WHEN KMS is asked for its rotation status
    kms = emulator.client("kms")
    # THEN rotation is on
    assert kms.get_key_rotation_status(KeyId=stack.resources["EncryptionKey"])["KeyRotationEnabled"] is True


def test_role_arns_in_ssm_are_the_named_roles(emulator: Emulator, ssm_parameters: dict[str, str]) -> None:
    # GIVEN the role ARNs the stack exports in SSM
    # WHEN each function's role is looked up in IAM by its name
    iam = emulator.client("iam")
    for role in ("webhook", "worker", "feedback"):
        arn = ssm_parameters[f"{PREFIX}/roles/{role}/arn"]
        # THEN its ARN is the one in SSM
        assert iam.get_role(RoleName=f"automation-dev-{role}-role")["Role"]["Arn"] == arn


def test_alert_topic_in_ssm_is_encrypted(
    emulator: Emulator, stack: DeployedStack, ssm_parameters: dict[str, str]
) -> None:
    # GIVEN the alert topic another repository finds through SSM
    # WHEN SNS is asked for its attributes
    topic = ssm_parameters[f"{PREFIX}/monitoring/queue-alerts/topic-arn"]
    attributes = emulator.client("sns").get_topic_attributes(TopicArn=topic)["Attributes"]
    # THEN it is encrypted with the stack's key
    assert attributes["KmsMasterKeyId"] == stack.resources["EncryptionKey"]


@pytest.mark.parametrize(
    "function, queue, criteria",
    [
        ("automation-dev-worker", "order", ORDER_QUEUE_FILTER_CRITERIA),
        ("automation-dev-feedback", "result", RESULT_QUEUE_FILTER_CRITERIA),
    ],
)
def test_one_mapping_per_queue_with_its_filter_left_disabled_for_the_local_pollers(
    emulator: Emulator,
    stack: DeployedStack,
    ssm_parameters: dict[str, str],
    function: str,
    queue: str,
    criteria: dict[str, Any],
) -> None:
    # GIVEN a consuming function of the deployed stack and the queue it reads
    # WHEN its event source mappings are listed
    mappings = emulator.client("lambda").list_event_source_mappings(FunctionName=function)["EventSourceMappings"]
    # THEN there is one, on its queue, with the queue's filter and partial batch responses
    [mapping] = mappings
    assert mapping["EventSourceArn"] == ssm_parameters[f"{PREFIX}/queues/{queue}/arn"]
    assert mapping["FilterCriteria"] == criteria
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    # AND it is disabled, the local pollers standing in for it
    # moto's own mapping would invoke through Docker on every send: the deploy disables it.
    assert mapping["State"] == "Disabled"


def test_webhook_secret_exists_under_the_name_the_function_reads(emulator: Emulator, stack: DeployedStack) -> None:
    # GIVEN the secret name in the deployed webhook's environment
    # WHEN Secrets Manager is asked for that secret
    function = emulator.client("lambda").get_function(FunctionName="automation-dev-webhook")
    name = function["Configuration"]["Environment"]["Variables"]["WEBHOOK_SECRET_NAME"]
    secret = emulator.client("secretsmanager").get_secret_value(SecretId=name)["SecretString"]
    # THEN it exists and is at least 32 characters long
    assert len(secret) >= 32


def test_functions_are_created_with_their_configuration(emulator: Emulator, stack: DeployedStack) -> None:
    # GIVEN the three functions of the deployed stack, with the timeout each should have
    # WHEN each function's configuration is read
    awslambda = emulator.client("lambda")
    expected = {"webhook": 10, "worker": 50, "feedback": 30}
    for name, timeout in expected.items():
        configuration = awslambda.get_function(FunctionName=f"automation-dev-{name}")["Configuration"]
        # THEN it runs Python 3.13 with its timeout and the app's handler
        assert configuration["Runtime"] == "python3.13"
        assert configuration["Timeout"] == timeout
        assert configuration["Handler"] == "app.lambda_handler"
