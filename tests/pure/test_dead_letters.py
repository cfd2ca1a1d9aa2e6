"""A record a consumer fails: its order named from the body even when the contract refuses
it, and marked dead-lettered on its last allowed receive only."""

from __future__ import annotations

import pytest
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from pydantic import ValidationError

from automation_shared.contracts import OrderMessage
from automation_shared.dead_letters import order_id_in, record_failed
from tests.pure.events import record, record_body

pytestmark = pytest.mark.fast

MAX_RECEIVE_COUNT = 3  # the template's default OrderQueueMaxReceiveCount


class FakeOrderRecords:
    """The one call record_failed makes on the order records."""

    def __init__(self) -> None:
        self.dead_lettered: list[str] = []

    def mark_dead_lettered(self, order_id: str) -> None:
        self.dead_lettered.append(order_id)


def test_the_order_of_a_refused_body_is_named_when_the_body_names_one() -> None:
    # GIVEN the bad sample records of both queues
    bad = ["worker-bad-contract-violation", "worker-bad-malformed-json", "feedback-bad-contract-violation"]

    # WHEN their order ids are read from their bodies
    order_ids = {name: order_id_in(record_body(name)) for name in bad}

    # THEN a JSON body names its order even though the contract refuses it; a cut-off one names none
    assert order_ids == {
        "worker-bad-contract-violation": "2f05d4b6-89d2-40ca-bb02-285f35f44866",
        "worker-bad-malformed-json": None,
        "feedback-bad-contract-violation": "2f05d4b6-89d2-40ca-bb02-285f35f44866",
    }


@pytest.mark.parametrize(
    "receive_count, dead_lettered",
    [(MAX_RECEIVE_COUNT - 1, []), (MAX_RECEIVE_COUNT, ["2f05d4b6-89d2-40ca-bb02-285f35f44866"])],
)
def test_a_failed_record_marks_its_order_dead_lettered_on_its_last_receive_only(
    receive_count: int, dead_lettered: list[str]
) -> None:
    # GIVEN the sample record the contract refuses, received `receive_count` times
    raw = record("worker-bad-contract-violation")
    raw["attributes"]["ApproximateReceiveCount"] = str(receive_count)
    sqs_record = SQSRecord(raw)
    records = FakeOrderRecords()
    with pytest.raises(ValidationError) as refused:
        OrderMessage.model_validate_json(sqs_record.body)

    # WHEN the worker reports it failed
    record_failed(sqs_record, refused.value, MAX_RECEIVE_COUNT, records)  # type: ignore[arg-type]

    # THEN its order is marked dead-lettered only when the queue moves it to the DLQ next
    assert records.dead_lettered == dead_lettered
