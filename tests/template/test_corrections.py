"""The seven corrections of mission.md, each checked on the translated template."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import pytest

from automation_local.cloudformation.conditions import resolved
from automation_local.cloudformation.project import SOURCE_DIR
from automation_shared.contracts import OrderMessage, ResultMessage
from automation_shared.messages import order_message, result_message
from tests.template.cfn import (
    actions_on,
    as_list,
    parameter_default,
    ref_target,
    resources_of_type,
)

pytestmark = pytest.mark.fast

SOURCE_QUEUES = {"OrderQueue": "OrderDeadLetterQueue", "ResultQueue": "ResultDeadLetterQueue"}
MAPPINGS = {
    "OrderQueue": ("WorkerOrderQueueMapping", "WorkerFunction"),
    "ResultQueue": ("FeedbackResultQueueMapping", "FeedbackFunction"),
}
QUEUE_PARAMETERS = {
    "OrderQueue": ("OrderQueueVisibilityTimeout", "WorkerTimeoutSeconds", "OrderQueueRetentionSeconds"),
    "ResultQueue": ("ResultQueueVisibilityTimeout", "FeedbackTimeoutSeconds", "ResultQueueRetentionSeconds"),
}


# 1 ------------------------------------------------------------------------------------
def test_standard_queues_carry_no_deduplication_settings(cfn_template: dict[str, Any]) -> None:
    # GIVEN every queue of the stack deployed with QueueType=standard
    standard = resolved(cfn_template, {"QueueType": "standard"})
    for name, queue in resources_of_type(standard, "AWS::SQS::Queue").items():
        properties = queue["Properties"]
        # THEN it is a standard queue without the FIFO-only deduplication settings
        assert not properties.get("FifoQueue"), name
        assert "ContentBasedDeduplication" not in properties, name
        assert "DeduplicationScope" not in properties, name


def test_no_function_sends_a_deduplication_id_to_a_standard_queue() -> None:
    # GIVEN the functions' source code
    # AWS rejects MessageDeduplicationId on standard queues; deduplication is the consumers' job.
    parameter = re.compile(r"""["']MessageDeduplicationId["']|MessageDeduplicationId\s*=""")
    # WHEN it is searched for a MessageDeduplicationId parameter
    offenders = [p.relative_to(SOURCE_DIR) for p in SOURCE_DIR.rglob("*.py") if parameter.search(p.read_text())]
    # THEN only the shared message builder sets one, and only for FIFO queues (test below)
    assert [str(p) for p in offenders] == ["shared/automation_shared/messages.py"]


def test_a_message_for_a_standard_queue_carries_no_fifo_field() -> None:
    # GIVEN an order and its result, built for a standard queue (QUEUE_TYPE=standard)
    order = OrderMessage.model_validate(
        {
            "orderId": str(uuid.uuid4()),
            "taskType": "text-processing",
            "userId": "user-1",
            "payload": {},
            "timestamp": "2026-12-01T00:00:00Z",
        }
    )
    result = ResultMessage.model_validate(
        {
            "orderId": order.orderId,
            "taskType": "text-processing",
            "status": "success",
            "result": {"summary": "ok"},
            "processingTime": 1.0,
            "timestamp": "2026-12-01T00:00:00Z",
            "userId": "user-1",
        }
    )
    # WHEN their SendMessageBatch entries are built
    entries = [order_message(order).batch_entry("0"), result_message(result, message_id="m").batch_entry("1")]
    # THEN neither names a group or a deduplication id
    for entry in entries:
        assert "MessageDeduplicationId" not in entry and "MessageGroupId" not in entry


def test_deduplication_table_exists_with_ttl_and_recovery(cfn_template: dict[str, Any]) -> None:
    # GIVEN the orders table of the template as CloudFormation receives it
    table = cfn_template["Resources"]["OrdersTable"]["Properties"]
    # THEN its items expire on their `expiration` attribute, and it can be recovered to a point in time
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expiration", "Enabled": True}
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    # AND each of the three functions is given its name
    for function in ("WebhookFunction", "WorkerFunction", "FeedbackFunction"):
        variables = cfn_template["Resources"][function]["Properties"]["Environment"]["Variables"]
        assert ref_target(variables["ORDERS_TABLE_NAME"]) == "OrdersTable"


# 2 ------------------------------------------------------------------------------------
def test_no_policy_conditions_on_aws_source_account(cfn_template: dict[str, Any]) -> None:
    # GIVEN the template as CloudFormation receives it
    # aws:SourceAccount is absent when a role calls SQS itself: such a condition denies every send.
    # THEN no policy anywhere in it names aws:SourceAccount
    assert "aws:SourceAccount" not in json.dumps(cfn_template)


# 3 ------------------------------------------------------------------------------------
@pytest.mark.parametrize("source, dead_letter", SOURCE_QUEUES.items())
def test_dead_letter_queue_keeps_messages_at_least_as_long_as_its_source(
    cfn_template: dict[str, Any], source: str, dead_letter: str
) -> None:
    resources = cfn_template["Resources"]
    retention_parameter = QUEUE_PARAMETERS[source][2]
    # GIVEN the longest retention the source queue can be given
    longest_source_retention = int(cfn_template["Parameters"][retention_parameter]["MaxValue"])
    assert ref_target(resources[source]["Properties"]["MessageRetentionPeriod"]) == retention_parameter
    # THEN the DLQ (whose messages keep their first enqueue time) keeps them at least as long
    assert resources[dead_letter]["Properties"]["MessageRetentionPeriod"] >= longest_source_retention
    assert resources[dead_letter]["Properties"]["MessageRetentionPeriod"] == 1209600


# 4 ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "role, produces_to, consumes_from",
    [
        ("WebhookRole", ["OrderQueue"], []),
        ("WorkerRole", ["ResultQueue"], ["OrderQueue"]),
        ("FeedbackRole", ["OrderQueue"], ["ResultQueue"]),
    ],
)
def test_producers_and_consumers_hold_the_kms_actions_they_need(
    deployed_template: dict[str, Any], role: str, produces_to: list[str], consumes_from: list[str]
) -> None:
    # GIVEN a function's role in the template, the queues it sends to and the queues it reads
    # WHEN the actions it may take on the encryption key are gathered
    key_actions = actions_on(deployed_template, role, "EncryptionKey")
    # THEN it may send to each queue it produces to, and encrypt and decrypt with the key
    for queue in produces_to:
        assert "sqs:SendMessage" in actions_on(deployed_template, role, queue)
        assert {"kms:GenerateDataKey", "kms:Decrypt"} <= key_actions
    # AND it may receive and delete from each queue it consumes, and decrypt with the key
    for queue in consumes_from:
        assert {"sqs:ReceiveMessage", "sqs:DeleteMessage"} <= actions_on(deployed_template, role, queue)
        assert "kms:Decrypt" in key_actions


def test_key_policy_lets_cloudwatch_publish_to_the_encrypted_alert_topic(cfn_template: dict[str, Any]) -> None:
    # GIVEN the template as CloudFormation receives it
    resources = cfn_template["Resources"]
    # THEN the alert topic is encrypted with the stack's key
    assert ref_target(resources["AlertTopic"]["Properties"]["KmsMasterKeyId"]) == "EncryptionKey"
    # AND the key policy has one statement for CloudWatch, allowing it to decrypt and make data keys
    # (what an alarm needs to publish to that topic)
    statements = resources["EncryptionKey"]["Properties"]["KeyPolicy"]["Statement"]
    cloudwatch = [s for s in statements if s.get("Principal", {}).get("Service") == "cloudwatch.amazonaws.com"]
    assert len(cloudwatch) == 1
    assert cloudwatch[0]["Effect"] == "Allow"
    assert {"kms:Decrypt", "kms:GenerateDataKey*"} <= set(as_list(cloudwatch[0]["Action"]))


# 5 ------------------------------------------------------------------------------------
def test_exactly_one_event_source_mapping_per_queue(cfn_template: dict[str, Any]) -> None:
    # GIVEN the event source mappings of the template as CloudFormation receives it
    # WHEN the queue each reads is gathered
    mappings = resources_of_type(cfn_template, "AWS::Lambda::EventSourceMapping")
    sources = [ref_target(m["Properties"]["EventSourceArn"]) for m in mappings.values()]
    # THEN each source queue has exactly one mapping, and no other queue has any
    assert sorted(sources) == sorted(SOURCE_QUEUES)
    assert len(sources) == len(set(sources))


@pytest.mark.parametrize("queue", SOURCE_QUEUES)
def test_each_mapping_reports_filtered_out_events_to_an_alarm(cfn_template: dict[str, Any], queue: str) -> None:
    # GIVEN the event source mapping of a source queue
    mapping_name, _ = MAPPINGS[queue]
    mapping = cfn_template["Resources"][mapping_name]["Properties"]
    # THEN it publishes its event count metrics
    assert mapping["MetricsConfig"] == {"Metrics": ["EventCount"]}
    # AND exactly one alarm goes off as soon as one event of the mapping is filtered out
    alarms = [
        a["Properties"]
        for a in resources_of_type(cfn_template, "AWS::CloudWatch::Alarm").values()
        if a["Properties"]["MetricName"] == "FilteredOutEventCount"
        and any(ref_target(d["Value"]) == mapping_name for d in a["Properties"]["Dimensions"])
    ]
    assert len(alarms) == 1
    assert alarms[0]["Threshold"] == 1
    assert alarms[0]["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"


# 6 ------------------------------------------------------------------------------------
@pytest.mark.parametrize("queue", SOURCE_QUEUES)
def test_function_timeout_is_sized_from_the_visibility_timeout(cfn_template: dict[str, Any], queue: str) -> None:
    visibility_parameter, timeout_parameter, _ = QUEUE_PARAMETERS[queue]
    _, function = MAPPINGS[queue]
    resources = cfn_template["Resources"]
    # GIVEN the queue's visibility and the consuming function's timeout, both parameters
    assert ref_target(resources[queue]["Properties"]["VisibilityTimeout"]) == visibility_parameter
    assert ref_target(resources[function]["Properties"]["Timeout"]) == timeout_parameter
    # THEN the defaults keep the original's visibility and AWS's 6x advice
    visibility = parameter_default(cfn_template, visibility_parameter)
    timeout = parameter_default(cfn_template, timeout_parameter)
    assert visibility == {"OrderQueue": 300, "ResultQueue": 180}[queue]
    assert visibility >= 6 * timeout


# 7 ------------------------------------------------------------------------------------
@pytest.mark.parametrize("queue", SOURCE_QUEUES)
def test_max_receive_count_is_a_parameter_defaulting_to_three(cfn_template: dict[str, Any], queue: str) -> None:
    # GIVEN the redrive policy of a source queue
    redrive = cfn_template["Resources"][queue]["Properties"]["RedrivePolicy"]
    parameter = ref_target(redrive["maxReceiveCount"])
    # THEN its max receive count is a parameter defaulting to 3, and it redrives to
    # the queue's own DLQ
    assert parameter is not None
    assert parameter_default(cfn_template, parameter) == 3
    assert ref_target(redrive["deadLetterTargetArn"]) == SOURCE_QUEUES[queue]


@pytest.mark.parametrize("queue", SOURCE_QUEUES)
def test_each_mapping_bounds_its_concurrency(cfn_template: dict[str, Any], queue: str) -> None:
    # GIVEN the event source mapping of a source queue
    mapping = cfn_template["Resources"][MAPPINGS[queue][0]]["Properties"]
    parameter = ref_target(mapping["ScalingConfig"]["MaximumConcurrency"])
    # THEN its maximum concurrency is a parameter whose default is at least
    # the minimum AWS accepts
    assert parameter is not None
    assert parameter_default(cfn_template, parameter) >= 2  # AWS's minimum
