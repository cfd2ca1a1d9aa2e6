"""The README's first command at scale: 2,000 orders, a fifth made to fail, none lost.

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
