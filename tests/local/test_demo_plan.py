"""The demo load's plan: every task type and priority, the failing share split over the fates."""

from __future__ import annotations

from collections import Counter

import pytest

from automation_local.demo.orders import WEB_TASK_TYPES
from automation_local.demo.plan import Fate, plan
from automation_local.demo_load import _streams
from automation_shared.contracts import OrderMessage, Priority, TaskType

pytestmark = pytest.mark.fast

SITE = "http://127.0.0.1:9"


def test_orders_cover_every_task_type_and_priority() -> None:
    # GIVEN a demo load of 72 orders, none failing
    # WHEN it is planned
    orders = plan(72, 0.0, seed=1, site_url=SITE)
    # THEN its orders cover every pair of task type and priority
    pairs = {(o.document["taskType"], o.document["priority"]) for o in orders}
    assert pairs == {(t.value, p.value) for t in TaskType for p in Priority}


def test_the_fail_rate_is_the_share_of_failing_orders_split_over_the_three_fates() -> None:
    # GIVEN a demo load of 2,000 orders with a fifth failing
    # WHEN it is planned
    orders = plan(2000, 0.2, seed=3, site_url=SITE)
    # THEN 1,600 orders succeed, and the 400 failing ones split evenly over retried, escalated
    # and dead-lettered
    fates = Counter(o.fate for o in orders)
    assert fates[Fate.SUCCEEDS] == 1600
    assert [fates[f] for f in (Fate.RETRIED, Fate.ESCALATED, Fate.DEAD_LETTERED)] == [134, 133, 133]


def test_webhook_orders_satisfy_the_contract_and_poison_does_not() -> None:
    # GIVEN a planned demo load with failing orders
    # WHEN each planned order is checked against the contract
    # THEN those sent through the webhook satisfy it, and the others are poison, planned to be
    # dead-lettered
    for planned in plan(200, 0.3, seed=5, site_url=SITE):
        if planned.through_webhook:
            assert OrderMessage.model_validate(planned.document).orderId == planned.order_id
        else:
            assert planned.fate is Fate.DEAD_LETTERED and not isinstance(planned.document["payload"], dict)


def test_failing_web_orders_point_at_pages_that_fail_on_cue() -> None:
    # GIVEN a planned demo load, half its orders failing
    # WHEN the orders planned to be retried or escalated are read
    # THEN each is a web task pointing at its own page that fails once, or is down
    for planned in plan(300, 0.5, seed=9, site_url=SITE):
        if planned.fate in (Fate.RETRIED, Fate.ESCALATED):
            assert planned.document["taskType"] in {t.value for t in WEB_TASK_TYPES}
            folder = "fail-once" if planned.fate is Fate.RETRIED else "down"
            assert planned.document["payload"]["url"] == f"{SITE}/{folder}/{planned.order_id}"


def test_the_same_seed_gives_the_same_orders_and_another_seed_others() -> None:
    # GIVEN the same demo load
    # WHEN it is planned twice with one seed, and once with another
    # THEN the same seed gives the same orders, and the other seed gives other orders
    assert plan(50, 0.2, seed=7, site_url=SITE) == plan(50, 0.2, seed=7, site_url=SITE)
    assert plan(50, 0.2, seed=7, site_url=SITE) != plan(50, 0.2, seed=8, site_url=SITE)


def test_orders_are_spread_over_the_users_asked_for_in_turn() -> None:
    # GIVEN a demo load of 500 orders over 20 users
    # WHEN it is planned
    orders = plan(500, 0.2, seed=3, site_url=SITE, users=20)
    # THEN every user has 25 orders, and a user's orders follow each other every 20 orders
    assert Counter(o.user_id for o in orders) == {f"user-{n}": 25 for n in range(20)}
    assert [o.user_id for o in orders[:21]] == [f"user-{n % 20}" for n in range(21)]


def test_each_users_orders_are_sent_by_one_client_in_plan_order() -> None:
    # GIVEN 100 planned orders of 7 users, and the 4 clients of the demo load
    orders = plan(100, 0.2, seed=3, site_url=SITE)
    # WHEN they are split among the clients
    streams = _streams(orders, 4)
    # THEN each user's orders are all in one client's share, in the order planned, and none is left out
    owner = {o.user_id: index for index, stream in enumerate(streams) for o in stream}
    assert all(owner[o.user_id] == index for index, stream in enumerate(streams) for o in stream)
    for stream in streams:
        for user in {o.user_id for o in stream}:
            assert [o for o in stream if o.user_id == user] == [o for o in orders if o.user_id == user]
    assert sorted(o.order_id for s in streams for o in s) == sorted(o.order_id for o in orders)
    assert len(streams) == 4
