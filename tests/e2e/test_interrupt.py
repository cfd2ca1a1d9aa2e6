"""Ctrl-C in a terminal during a run: the terminal signals the whole foreground process
group, and the run stops with one line, no traceback, and leaves no process behind."""

from __future__ import annotations

import os
import signal
import time

import pytest

from tests.e2e.run_command import TerminalJob
from tests.processes import descendants, running

pytestmark = pytest.mark.slow

# Generous for a loaded machine; what the test holds the run to is stopping at all, cleanly.
STOP_SECONDS = 30


def test_ctrl_c_mid_run_stops_everything_with_one_line_and_no_traceback() -> None:
    # GIVEN a run of 300 orders in a process group of its own, as a terminal's foreground job
    job = TerminalJob.start("--orders", "300")
    run, lines = job.process, job.lines
    deadline = time.monotonic() + 300
    while not any("accepted" in line for line in lines[-5:]) or not descendants(run.pid):
        assert run.poll() is None and time.monotonic() < deadline, "".join(lines[-20:])
        time.sleep(0.5)
    time.sleep(2)  # orders are flowing: pollers mid-receive, sandboxes mid-invocation
    started_by_the_run = descendants(run.pid)
    before = len(lines)
    # WHEN Ctrl-C is typed: SIGINT to every process of the group
    os.killpg(run.pid, signal.SIGINT)
    try:
        run.wait(STOP_SECONDS)
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
    job.finish_reading()
    after = "".join(lines[before:])
    # THEN it stopped, saying so on one line, with no traceback and no poller's error
    assert run.returncode == 130, after
    assert [line for line in after.splitlines() if line.strip()] == ["stopped"], after
    # AND nothing it started is still running (the emulator and every sandbox stopped)
    time.sleep(1)
    alive = [pid for pid in started_by_the_run if running(pid)]
    assert alive == [], alive
