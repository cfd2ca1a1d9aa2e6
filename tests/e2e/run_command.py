"""The run command (`automation-local`) as the end-to-end tests start it: in a process of
its own, with this test run's modules, ending with its JSON summary on the last line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from typing import Any

from automation_local.cloudformation.project import REPO_ROOT

RUN_COMMAND = [sys.executable, "-m", "automation_local.cli"]


def run_environment() -> dict[str, str]:
    """The modules this test run imports (pytest's pythonpath), whatever the install points at."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}


def run_command(*arguments: str, timeout: float = 1800) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*RUN_COMMAND, *arguments, "--json"],
        cwd=REPO_ROOT,
        env=run_environment(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def summary_of(run: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """The run's JSON summary, printed too for the record (pytest -s)."""
    lines = run.stdout.strip().splitlines()
    assert lines and lines[-1].startswith("{"), f"exit {run.returncode}, no summary; stderr:\n{run.stderr[-3000:]}"
    print(lines[-1])
    return dict(json.loads(lines[-1]))


@dataclass
class TerminalJob:
    """The run command started as a terminal's foreground job: a process group of its own (so
    the test can signal the whole group, as a terminal does), its output read as it comes."""

    process: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)
    _reader: threading.Thread | None = field(default=None, repr=False)

    @classmethod
    def start(cls, *arguments: str) -> TerminalJob:
        process = subprocess.Popen(
            [*RUN_COMMAND, *arguments],
            cwd=REPO_ROOT,
            env=run_environment(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        job = cls(process)
        job._reader = threading.Thread(target=lambda: job.lines.extend(process.stdout or []), daemon=True)
        job._reader.start()
        return job

    def finish_reading(self) -> None:
        if self._reader is not None:
            self._reader.join(5)
