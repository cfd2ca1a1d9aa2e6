"""The two deployment modes of the template (QueueType): FIFO changes the queues, the
mappings' batching windows and batch sizes and the consumers' right to change a message's
visibility, and nothing else; standard stays as it was."""

from __future__ import annotations

from typing import Any

import pytest

from automation_local.cloudformation.conditions import broken_rules, resolved
from automation_shared.contracts import OrderPayload
from tests.template.cfn import resources_of_type

pytestmark = pytest.mark.fast

SOURCE_QUEUES = ("OrderQueue", "ResultQueue")
DEAD_LETTER_QUEUES = ("OrderDeadLetterQueue", "ResultDeadLetterQueue")
MAPPINGS = ("WorkerOrderQueueMapping", "FeedbackResultQueueMapping")
CONSUMER_ROLES = {"WorkerRole": "OrderQueue", "FeedbackRole": "ResultQueue"}  # role: the queue it consumes
# What FIFO may change, by resource: the queues' FIFO properties and names (the DLQs' and
# their redrive allow-lists'), the mappings' batching window, and the functions' QUEUE_TYPE
# (and the mappings' batch sizes and the consumers' roles, tested on their own).
FIFO_PROPERTIES = {"QueueName", "FifoQueue", "ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit"}


def _differences(left: Any, right: Any, path: str = "") -> list[str]:
    if isinstance(left, dict) and isinstance(right, dict):
        return [
            found
            for key in sorted(set(left) | set(right))
            for found in _differences(left.get(key, "<absent>"), right.get(key, "<absent>"), f"{path}.{key}")
        ]
    if isinstance(left, list) and isinstance(right, list) and len(left) == len(right):
        return [
            found
            for i, (a, b) in enumerate(zip(left, right, strict=True))
            for found in _differences(a, b, f"{path}[{i}]")
        ]
    return [] if left == right else [path]


@pytest.fixture(scope="module")
def modes(cfn_template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {mode: resolved(cfn_template, {"QueueType": mode}) for mode in ("standard", "fifo")}


def test_the_default_queue_type_is_standard(cfn_template: dict[str, Any]) -> None:
    # GIVEN the QueueType parameter
    parameter = cfn_template["Parameters"]["QueueType"]
    # THEN standard is the default, and fifo the other choice
    assert parameter["Default"] == "standard"
    assert parameter["AllowedValues"] == ["standard", "fifo"]


def test_fifo_makes_all_four_queues_fifo_with_high_throughput_and_no_content_deduplication(
    modes: dict[str, dict[str, Any]],
) -> None:
    # GIVEN the template deployed with QueueType=fifo
    queues = modes["fifo"]["Resources"]
    # THEN every queue is FIFO, the DLQs included
    for name in SOURCE_QUEUES + DEAD_LETTER_QUEUES:
        assert queues[name]["Properties"]["FifoQueue"] is True, name
    # AND the source queues deduplicate by the sender's id within a group, at per-group throughput
    for name in SOURCE_QUEUES:
        properties = queues[name]["Properties"]
        assert properties["ContentBasedDeduplication"] is False, name
        assert properties["DeduplicationScope"] == "messageGroup", name
        assert properties["FifoThroughputLimit"] == "perMessageGroupId", name


def test_fifo_mappings_take_no_batching_window_and_one_record_an_invocation(modes: dict[str, dict[str, Any]]) -> None:
    # GIVEN the two mappings in each mode
    for mode, template in modes.items():
        for name in MAPPINGS:
            properties = template["Resources"][name]["Properties"]
            # THEN a FIFO mapping has no batching window (Lambda refuses one) and a standard one keeps it
            assert ("MaximumBatchingWindowInSeconds" in properties) == (mode == "standard"), (mode, name)
    # AND a FIFO worker takes one order an invocation and FIFO feedback one result (a record
    # held behind a failed one of its user would spend its receives untried), a standard
    # mapping its batch size parameter
    batch_sizes = {
        (mode, name): t["Resources"][name]["Properties"]["BatchSize"] for mode, t in modes.items() for name in MAPPINGS
    }
    assert batch_sizes == {
        ("fifo", "WorkerOrderQueueMapping"): 1,
        ("fifo", "FeedbackResultQueueMapping"): 1,
        ("standard", "WorkerOrderQueueMapping"): {"Ref": "OrderBatchSize"},
        ("standard", "FeedbackResultQueueMapping"): {"Ref": "ResultBatchSize"},
    }


def test_fifo_consumers_may_change_visibility_on_their_own_queue_and_orders_outlive_their_retries(
    cfn_template: dict[str, Any], modes: dict[str, dict[str, Any]]
) -> None:
    # GIVEN the consumers' roles and the order mapping in each mode
    for role, queue in CONSUMER_ROLES.items():
        statements = {
            mode: template["Resources"][role]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
            for mode, template in modes.items()
        }
        # THEN FIFO adds one statement to each consumer's role, ChangeMessageVisibility on the
        # queue it consumes (holding a failed order in its group, returning a refused
        # record), and standard mode has no such permission
        added = [s for s in statements["fifo"] if s not in statements["standard"]]
        assert [(s["Action"], s["Resource"]) for s in added] == [
            ("sqs:ChangeMessageVisibility", {"Fn::GetAtt": [queue, "Arn"]})
        ], role
        assert all(s in statements["fifo"] for s in statements["standard"]), role
        assert "ChangeMessageVisibility" not in str(statements["standard"]), role
    # AND a FIFO order queue must allow the receives of an order's most retries and one more
    rule = cfn_template["Rules"]["FifoOrdersOutliveTheirRetries"]
    assert rule["RuleCondition"] == {"Fn::Equals": [{"Ref": "QueueType"}, "fifo"]}
    most_retries = OrderPayload.model_json_schema()["$defs"]["RetryPolicy"]["properties"]["maxRetries"]
    [bound] = [option["maximum"] for option in most_retries["anyOf"] if "maximum" in option]
    [assertion] = rule["Assertions"]
    refused, reference = assertion["Assert"]["Fn::Not"][0]["Fn::Contains"]
    assert reference == {"Ref": "OrderQueueMaxReceiveCount"}
    assert refused == [str(n) for n in range(1, bound + 2)]


def test_fifo_changes_nothing_but_the_queues_and_the_batching_windows(modes: dict[str, dict[str, Any]]) -> None:
    # GIVEN the template deployed in each mode
    standard, fifo = modes["standard"]["Resources"], modes["fifo"]["Resources"]
    # WHEN the two are compared resource by resource
    changed = {
        path
        for logical_id in set(standard) | set(fifo)
        for path in _differences(standard.get(logical_id), fifo.get(logical_id), logical_id)
    }
    # THEN the only differences are FIFO's queue properties, the names that follow from
    # them and the mappings' batching windows (KMS, alarms, dashboard, SSM, roles unchanged)
    unexpected = {
        path
        for path in changed
        if not (
            (path.split(".")[0] in SOURCE_QUEUES + DEAD_LETTER_QUEUES and path.split(".")[2] in FIFO_PROPERTIES)
            or (path.split(".")[0] in DEAD_LETTER_QUEUES and ".RedriveAllowPolicy.sourceQueueArnList" in path)
            or (path.split(".")[0] in MAPPINGS and path.endswith(".MaximumBatchingWindowInSeconds"))
            or (".Environment.Variables.QUEUE_TYPE" in path)
            or (path.split(".")[0] in MAPPINGS and path.endswith(".Properties.BatchSize"))
            or (path.split(".")[0] in CONSUMER_ROLES and path.endswith(".PolicyDocument.Statement"))
        )
    }
    assert unexpected == set()
    assert changed  # the modes do differ


def test_standard_mode_deploys_no_fifo_property(modes: dict[str, dict[str, Any]]) -> None:
    # GIVEN the template deployed with QueueType=standard
    queues = resources_of_type(modes["standard"], "AWS::SQS::Queue")
    # THEN no queue carries a FIFO-only property
    for name, queue in queues.items():
        assert not FIFO_PROPERTIES - {"QueueName"} & set(queue["Properties"]), name


def test_a_fifo_deployment_with_the_standard_defaults_breaks_the_templates_rules(cfn_template: dict[str, Any]) -> None:
    # GIVEN QueueType=fifo with every other parameter at its default (3 receives of an order)
    # WHEN the template's Rules judge it, as CloudFormation does before a change set
    broken = broken_rules(cfn_template, {"QueueType": "fifo"})
    # THEN the FIFO rule refuses it, saying what to set; standard mode breaks none
    assert [rule.split(":")[0] for rule in broken] == ["FifoOrdersOutliveTheirRetries"]
    assert "OrderQueueMaxReceiveCount must be 5 or more" in broken[0]
    assert broken_rules(cfn_template, {"QueueType": "standard"}) == []
    assert broken_rules(cfn_template, {"QueueType": "fifo", "OrderQueueMaxReceiveCount": "5"}) == []
