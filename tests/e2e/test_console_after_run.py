"""`automation-local --console`: the console is up during the demo load and stays up after
its summary, where each order ended, until Ctrl-C; the run's exit code is kept."""

from __future__ import annotations

import json
import os
import re
import signal
import time
import urllib.request

import pytest

from tests.e2e.run_command import TerminalJob

pytestmark = pytest.mark.slow

CONSOLE_LINE = re.compile(r"console in the browser: (http://127\.0\.0\.1:\d+)/")


def test_the_console_outlives_the_runs_summary_until_ctrl_c() -> None:
    # GIVEN a run of 5 orders with --console, in a process group of its own (a terminal's job)
    job = TerminalJob.start("--orders", "5", "--console", "--json")
    run, lines = job.process, job.lines
    try:
        # WHEN its summary has been printed
        deadline = time.monotonic() + 300
        while not any("console still up" in line for line in lines):
            assert run.poll() is None and time.monotonic() < deadline, "".join(lines[-30:])
            time.sleep(0.5)
        url = next(m.group(1) for line in lines if (m := CONSOLE_LINE.search(line)))
        summary = json.loads(next(line for line in lines if line.startswith("{")))
        # THEN the console still answers, showing the orders where the summary says they ended
        with urllib.request.urlopen(f"{url}/api/orders?limit=10", timeout=30) as answer:
            shown = json.loads(answer.read())
        statuses = shown["byStatus"]
        assert statuses.get("notified", 0) + statuses.get("archived", 0) == summary["completed"] > 0
        assert statuses.get("escalated", 0) == summary["escalated"]
        assert summary["accepted"] <= shown["total"] <= summary["accepted"] + summary["injected"]
        # WHEN Ctrl-C is typed
        os.killpg(run.pid, signal.SIGINT)
        run.wait(30)
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
    job.finish_reading()
    # THEN it stops with the run's own exit code (all orders ended as planned: 0) and one line
    assert run.returncode == 0, "".join(lines[-30:])
    assert lines[-1].strip() == "stopped"
