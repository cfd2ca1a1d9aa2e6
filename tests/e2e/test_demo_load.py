"""The README's first command at scale: 2,000 orders, a fifth made to fail, none lost; and
in FIFO mode (`make run-fifo`), 500 orders of 20 users, each user's ending in the order sent.

Runs the run command as a user would and reads the JSON summary on its last line."""

from __future__ import annotations

import pytest

from tests.e2e.run_command import run_command, summary_of

pytestmark = pytest.mark.slow

ORDERS = 2000
FAIL_RATE = 0.2


def test_2000_orders_with_a_fifth_failing_all_end_where_planned_and_none_is_lost() -> None:
    # GIVEN 2,000 orders planned with a fifth made to fail
    # WHEN the run command sends them through the local stack, as a user runs it
    run = run_command("--orders", str(ORDERS), "--fail-rate", str(FAIL_RATE), "--seed", "11")
    summary = summary_of(run)
    # THEN no order is lost or ends where it was not planned to, and the run succeeds
    assert summary["lost"] == 0, run.stderr[-3000:]
    assert summary["unexpected"] == 0
    assert run.returncode == 0
    failing = round(ORDERS * FAIL_RATE)
    # Every order is accounted for: completed, escalated or dead-lettered, none rejected.
    assert summary["submitted"] == ORDERS and summary["rejected"] == 0
    assert summary["completed"] + summary["escalated"] + summary["dead_lettered"] == ORDERS
    # The failing fifth splits over retried (requeued, then completed), escalated and dead-lettered.
    assert summary["dead_lettered"] == failing // 3
    assert summary["escalated"] == failing // 3
    assert summary["requeued"] >= failing - 2 * (failing // 3) + summary["escalated"]
    # Standard queues do not keep a user's order: retries join the queue's end, and batches
    # run side by side (the check FIFO mode passes, below, finds it here).
    assert summary["out_of_user_order"] > 0


FIFO_ORDERS = 500
FIFO_USERS = 20


def test_fifo_mode_ends_every_users_orders_in_the_order_they_were_sent_through_retries() -> None:
    # GIVEN the backbone deployed with FIFO queues, and 500 orders of 20 users, a fifth made
    # to fail (retried, escalated after their retries, or refused and dead-lettered)
    # WHEN the run command sends them through it, as `make run-fifo` does
    run = run_command(
        "--parameter",
        "QueueType=fifo",
        "--orders",
        str(FIFO_ORDERS),
        "--users",
        str(FIFO_USERS),
        "--fail-rate",
        str(FAIL_RATE),
        "--seed",
        "13",
    )
    summary = summary_of(run)
    # THEN none is lost or ends where it was not planned to
    assert summary["lost"] == 0, run.stderr[-3000:]
    assert summary["unexpected"] == 0
    assert summary["submitted"] == FIFO_ORDERS and summary["users"] == FIFO_USERS
    assert summary["completed"] + summary["escalated"] + summary["dead_lettered"] == FIFO_ORDERS
    # AND orders were retried on the way (the retries are what could have let later ones pass)
    failing = round(FIFO_ORDERS * FAIL_RATE)
    assert summary["requeued"] >= failing - 2 * (failing // 3)
    # AND no order of a user ended before an order the user sent earlier
    assert summary["out_of_user_order"] == 0
    assert run.returncode == 0
