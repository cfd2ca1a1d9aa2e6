"""A backlog met all at once: orders already in the order queue when the pollers start.

Runs the run command with `--preload` (every order written straight into the order queue
with SendMessageBatch, status records as the webhook writes them, before any poller
starts), as the queue holds them after the consumers were paused. `make backlog` runs the
same with 10,000 orders; here fewer, so the suite stays within minutes on the emulator."""

from __future__ import annotations

import pytest

from tests.e2e.run_command import run_command, summary_of

pytestmark = pytest.mark.slow

ORDERS = 500
FAIL_RATE = 0.2


def test_a_preloaded_backlog_is_drained_with_every_order_where_planned_and_none_lost() -> None:
    # GIVEN the run command with 500 orders in the order queue before its pollers start
    run = run_command("--orders", str(ORDERS), "--fail-rate", str(FAIL_RATE), "--seed", "5", "--preload")
    # WHEN the pollers have drained it
    summary = summary_of(run)
    # THEN every order is final where its plan said, none lost
    assert summary["lost"] == 0, run.stderr[-3000:]
    assert summary["unexpected"] == 0
    assert run.returncode == 0
    assert summary["submitted"] == ORDERS and summary["rejected"] == 0
    assert summary["completed"] + summary["escalated"] + summary["dead_lettered"] == ORDERS
    failing = round(ORDERS * FAIL_RATE)
    assert summary["dead_lettered"] == failing // 3 and summary["escalated"] == failing // 3
