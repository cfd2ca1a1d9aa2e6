"""Status records against the emulator's orders table: a late update never undoes a later state."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from automation_local.emulator import Emulator
from automation_local.local_stack import LocalStack
from automation_shared.contracts import OrderMessage
from automation_shared.order_status import OrderState, OrderStatusStore

pytestmark = pytest.mark.slow


@pytest.fixture
def status_store(emulator: Emulator, local_stack: LocalStack) -> OrderStatusStore:
    return OrderStatusStore(emulator.client("dynamodb"), local_stack.outputs["OrdersTableName"])


def queued(status_store: OrderStatusStore) -> str:
    order = OrderMessage.model_validate(
        {
            "orderId": str(uuid.uuid4()),
            "taskType": "text-processing",
            "payload": {"parameters": {"text": "status"}},
            "userId": "user-1",
            "timestamp": datetime.now(UTC).isoformat(),
        }
    )
    status_store.record_queued(order)
    return order.orderId


def test_the_workers_late_update_does_not_undo_feedbacks_final_state(status_store: OrderStatusStore) -> None:
    # GIVEN an order feedback archived while the worker was still recording its attempt
    order_id = queued(status_store)
    status_store.transition(order_id, OrderState.PROCESSING)
    status_store.transition(order_id, OrderState.ARCHIVED)
    # WHEN the worker's update arrives, allowed only over `processing`
    applied = status_store.transition(
        order_id, OrderState.SUCCEEDED, only_from=(OrderState.PROCESSING,), lastResultStatus="success"
    )
    # THEN it is refused and the order stays archived
    assert applied is False
    assert (status_store.get(order_id) or {})["status"] == "archived"


def test_an_update_over_an_allowed_state_is_applied(status_store: OrderStatusStore) -> None:
    order_id = queued(status_store)
    status_store.transition(order_id, OrderState.PROCESSING)
    assert status_store.transition(order_id, OrderState.SUCCEEDED, only_from=(OrderState.PROCESSING,)) is True
    assert (status_store.get(order_id) or {})["status"] == "succeeded"
