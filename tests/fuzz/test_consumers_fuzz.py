"""Worker and feedback fuzzing: generated record bodies, bad ones mixed with valid ones in
one batch, through the real handlers against the emulator stack.

Properties: the handler never raises; `batchItemFailures` names exactly the records the
contract refuses (never a valid one); every valid record is processed (the worker sends
its result, feedback acts on it).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import hypothesis
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from automation_local.aws.emulator import Emulator
from automation_local.cloudformation.stack import DeployedStack
from automation_shared.contracts import OrderMessage, ResultMessage
from automation_shared.order_records import OrderRecords
from tests.functions.handlers import context_for
from tests.functions.queues import Queue
from tests.fuzz.sqs_events import sqs_event
from tests.fuzz.strategies import (
    HOSTILE_TEXTS,
    broken,
    hostile_texts,
    is_valid,
    json_values,
    not_json_texts,
    order_mutations,
    queued_orders,
    result_mutations,
    results,
)
from tests.hypothesis_runs import count_example

pytestmark = pytest.mark.slow


def record_bodies(
    valid: st.SearchStrategy[dict[str, Any]], bad: st.SearchStrategy[dict[str, Any]]
) -> st.SearchStrategy[list[str]]:
    """A batch of 1 to 10 record bodies: valid messages mixed with broken ones, other JSON,
    text that is not JSON and hostile inputs."""
    body = st.one_of(
        valid.map(json.dumps),
        bad.map(json.dumps),
        json_values.map(json.dumps),
        not_json_texts,
        hostile_texts,
    )
    return st.lists(body, min_size=1, max_size=10)


def batch_item_failures(handler: Any, function: str, event: dict[str, Any]) -> set[str]:
    response = handler.lambda_handler(event, context_for(function))
    return {failure["itemIdentifier"] for failure in response["batchItemFailures"]}


def valid_and_bad_records(model: type[Any], event: dict[str, Any]) -> tuple[dict[str, Any], set[str]]:
    """Records by message id whose body the contract accepts, and the ids of the others."""
    records = event["Records"]
    valid = {r["messageId"]: model.model_validate_json(r["body"]) for r in records if is_valid(model, r["body"])}
    bad = {r["messageId"] for r in records} - set(valid)
    # Shown by --hypothesis-show-statistics: how often a batch mixed both kinds.
    hypothesis.event(f"batch with valid records: {bool(valid)}, with bad records: {bool(bad)}")
    return valid, bad


# ------------------------------------------------------------------ worker
@pytest.fixture(scope="module")
def result_queue(emulator: Emulator, deployed_stack: DeployedStack) -> Iterator[Queue]:
    queue = Queue(emulator, deployed_stack.outputs["ResultQueueUrl"])
    queue.drain()
    yield queue
    queue.drain()


@given(bodies=record_bodies(queued_orders, broken(queued_orders, order_mutations, OrderMessage)))
@example(bodies=HOSTILE_TEXTS)
def test_worker_reports_exactly_the_bad_records_and_runs_the_rest(
    worker: Any, result_queue: Queue, bodies: list[str]
) -> None:
    count_example("worker: mixed batch")
    # GIVEN a batch of valid orders mixed with bad records
    event = sqs_event("worker-text-processing.json", bodies)
    valid, bad = valid_and_bad_records(OrderMessage, event)
    # WHEN the worker handles it
    failures = batch_item_failures(worker, "worker", event)
    # THEN exactly the bad records are reported, and each valid order has its result
    assert failures == bad
    sent = [ResultMessage.model_validate_json(m["Body"]) for m in result_queue.drain()]
    assert sorted(r.orderId for r in sent) == sorted(order.orderId for order in valid.values())


# ------------------------------------------------------------------ feedback
@pytest.fixture(scope="module")
def records(emulator: Emulator, deployed_stack: DeployedStack) -> OrderRecords:
    return OrderRecords(emulator.client("dynamodb"), deployed_stack.outputs["OrdersTableName"])


FINAL_STATE = {"archive": "archived", None: "archived", "escalate": "escalated"}


@given(bodies=record_bodies(results, broken(results, result_mutations, ResultMessage)))
@example(bodies=HOSTILE_TEXTS)
def test_feedback_reports_exactly_the_bad_records_and_acts_on_the_rest(
    feedback: Any, records: OrderRecords, bodies: list[str]
) -> None:
    count_example("feedback: mixed batch")
    # GIVEN a batch of valid results (archive or escalate) mixed with bad records
    event = sqs_event("feedback-archive.json", bodies)
    valid, bad = valid_and_bad_records(ResultMessage, event)
    # WHEN feedback handles it
    failures = batch_item_failures(feedback, "feedback", event)
    # THEN exactly the bad records are reported, and each valid result was acted on
    assert failures == bad
    for result in valid.values():
        action = result.followUpAction.value if result.followUpAction else None
        assert (records.get(result.orderId) or {}).get("status") == FINAL_STATE[action], result
