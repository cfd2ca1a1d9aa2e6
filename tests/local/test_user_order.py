"""The per-user order check of a run's summary (demo/user_order.py): an order that ended
before an order its user sent earlier is counted, whatever else ended around it."""

from __future__ import annotations

import pytest

from automation_local.demo.plan import plan
from automation_local.demo.tracker import TrackedOrder
from automation_local.demo.user_order import ended_out_of_user_order
from automation_shared.order_records import OrderState

pytestmark = pytest.mark.fast

ORDERS = plan(6, 0.0, seed=1, site_url="http://127.0.0.1:9", users=2)  # user-0: 0, 2, 4; user-1: 1, 3, 5


def ended(*times: str) -> dict[str, TrackedOrder]:
    return {o.order_id: TrackedOrder(OrderState.ARCHIVED, 0, at) for o, at in zip(ORDERS, times, strict=True)}


def ranks() -> dict[str, tuple[int, ...]]:
    return {o.order_id: (rank,) for rank, o in enumerate(ORDERS)}


def test_orders_ending_in_the_order_their_users_sent_them_are_in_order() -> None:
    # GIVEN each user's orders ending one after another, the two users interleaved
    finals = ended("T01", "T00", "T02", "T05", "T03", "T06")
    # THEN none ended out of its user's order
    assert ended_out_of_user_order(ORDERS, ranks(), finals) == 0


def test_an_order_ending_before_an_earlier_order_of_its_user_is_counted() -> None:
    # GIVEN user-0's first order ending after both its later ones (a retry that joined the queue's end)
    finals = ended("T09", "T00", "T02", "T01", "T03", "T04")
    # THEN both later orders of user-0 are out of order, user-1's orders are not
    assert ended_out_of_user_order(ORDERS, ranks(), finals) == 2


def test_orders_without_a_rank_or_an_end_are_left_out() -> None:
    # GIVEN user-0's first order unranked (accepted before a restart) and another without a recorded end
    finals = ended("T09", "T00", "T02", "", "T03", "T04")
    known = {order_id: rank for order_id, rank in ranks().items() if order_id != ORDERS[0].order_id}
    # THEN neither counts
    assert ended_out_of_user_order(ORDERS, known, finals) == 0


def test_orders_whose_order_the_queue_alone_knows_are_not_compared_with_each_other() -> None:
    # GIVEN user-0's last two orders of equal rank (sent by a request that got no clear
    # answer), ending in the other order, both after user-0's first
    finals = ended("T01", "T00", "T05", "T02", "T04", "T015")
    tied = {**ranks(), ORDERS[4].order_id: (2,)}
    # THEN neither is out of order; and user-1's last order, ending before user-1's second, is
    assert ended_out_of_user_order(ORDERS, tied, finals) == 1
