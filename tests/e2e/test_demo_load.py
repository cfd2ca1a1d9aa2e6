"""The README's first command at scale: 2,000 orders, a fifth made to fail, none lost.

Runs the console script as a user would and reads the JSON summary on its last line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from automation_local.paths import REPO_ROOT

pytestmark = pytest.mark.slow

ORDERS = 2000
FAIL_RATE = 0.2


def test_2000_orders_with_a_fifth_failing_all_end_where_planned_and_none_is_lost() -> None:
    command = Path(sys.executable).parent / "automation-local"
    run = subprocess.run(
        [str(command), "--orders", str(ORDERS), "--fail-rate", str(FAIL_RATE), "--seed", "11", "--json"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    summary = json.loads(run.stdout.strip().splitlines()[-1])
    print(run.stdout.splitlines()[-1])  # the figures, for the record (pytest -s)
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
