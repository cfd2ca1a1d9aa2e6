"""Faults on the way, and the runtime itself killed: no order lost, none completed twice.

Both run the run command as a user would (`--fault`, `--emulator-url`, `--state-dir`)
and read the JSON summary on its last line; side effects are counted at the stand-ins
(Telegram messages, page reads) and in the archive bucket."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from automation_local.aws.emulator import Emulator
from automation_local.cloudformation.project import REPO_ROOT
from tests.e2e.run_command import RUN_COMMAND, run_command, run_environment, summary_of
from tests.processes import descendants

pytestmark = pytest.mark.slow

FAULTS = {"sqs-send-error": 0.1, "sqs-partial-batch": 0.2, "throttle": 0.05, "handler-error": 0.1}


# The run command's arguments per deployment mode (on FIFO queues a fault holds its user's
# later orders back: more users, so fewer orders wait behind each).
MODES = {"standard": (), "fifo": ("--parameter", "QueueType=fifo", "--users", "20")}


@pytest.mark.parametrize("mode", MODES)
def test_faults_dealt_to_every_function_lose_no_order_and_complete_none_twice(mode: str) -> None:
    # GIVEN a run whose functions meet refused and partly failed sends, throttling and failed invocations
    faults = [argument for name, rate in FAULTS.items() for argument in ("--fault", f"{name}={rate}")]
    # WHEN 150 orders go through it, a fifth made to fail
    run = run_command("--orders", "150", "--fail-rate", "0.2", "--seed", "5", *faults, *MODES[mode])
    # THEN every fault was dealt, and every order ended once
    summary = summary_of(run)
    assert set(summary["faults"]) >= set(FAULTS), summary["faults"]
    assert summary["lost"] == 0
    assert summary["rejected"] == 0
    assert summary["completed"] + summary["escalated"] + summary["dead_lettered"] == summary["submitted"]
    assert summary["duplicates"] == {"notifications": 0, "archives": 0, "repeated_task_runs": 0}
    if mode == "fifo":  # faults delay a user's orders, never reorder them
        assert summary["out_of_user_order"] == 0
    assert run.returncode == 0


# Results a feedback batch can have in flight when its sandbox is killed: MaximumConcurrency
# (3 locally) x BatchSize (10).
FEEDBACK_RECORDS_IN_FLIGHT = 30


@pytest.mark.parametrize(
    "killed, mode", [("runtime", "standard"), ("runtime-and-sandboxes", "standard"), ("runtime-and-sandboxes", "fifo")]
)
def test_the_runtime_killed_mid_run_and_started_again_loses_no_order(tmp_path: Path, killed: str, mode: str) -> None:
    state = tmp_path / "state"
    telegram_journal = state / "telegram.requests.jsonl"
    with Emulator() as emulator:
        arguments = ("--emulator-url", emulator.endpoint_url, "--state-dir", str(state), *MODES[mode])
        # GIVEN a run of 200 orders against an emulator of its own
        first = subprocess.Popen(
            [*RUN_COMMAND, *arguments, "--orders", "200", "--fail-rate", "0.2", "--seed", "3"],
            cwd=REPO_ROOT,
            env=run_environment(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its own session: the runtime and its stand-ins
        )
        try:
            # WHEN the runtime (alone, or with the sandboxes it started) is killed once orders are completing
            deadline = time.monotonic() + 600
            while not telegram_journal.exists() or len(telegram_journal.read_text().splitlines()) < 20:
                assert first.poll() is None, "the first run ended before it could be killed"
                assert time.monotonic() < deadline, "no orders completed in time"
                time.sleep(0.5)
        finally:
            if killed == "runtime":
                first.kill()  # its sandboxes finish what they run, then find no one to answer
                # (and the stand-ins, in the runtime's process, answer no more)
            else:  # the sandboxes run in process groups of their own: each is killed by its pid
                for pid in [first.pid, *descendants(first.pid)]:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
            first.wait()
        # ... and started again with the same state, against the same emulator
        second = run_command(*arguments)
    # THEN it carries the same orders on, and every one ends
    summary = summary_of(second)
    assert summary["submitted"] == 200
    assert summary["lost"] == 0
    assert summary["completed"] + summary["escalated"] + summary["dead_lettered"] == summary["submitted"]
    # A Telegram message whose answer the kill cut off (the runtime holds the stand-in, the
    # sandbox may die after the call) is not known to have gone out: the redelivered result
    # sends it again (at least once; Telegram's API has no idempotency key). A result in an
    # archive object PUT before the kill, whose act the kill kept from being recorded, is
    # archived again in another object (the archive is at least once). Only results in
    # flight at the kill can be done twice.
    assert summary["duplicates"]["notifications"] <= FEEDBACK_RECORDS_IN_FLIGHT
    assert summary["duplicates"]["archives"] <= FEEDBACK_RECORDS_IN_FLIGHT
