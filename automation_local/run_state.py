"""What a local run keeps on disk, so a runtime killed mid-run and started again against
the same emulator carries on where the killed one stopped (`automation-local --state-dir`).

The directory holds the deployed stack's description (`stack.json`), the demo load's
arguments (`run.json`) and what the webhook answered for each order (`submissions.jsonl`),
and, for each stand-in of the outside world, its port (`ports.json`: orders in the queues
name the target site's URL) and a journal of the requests it answered
(`<stand-in>.requests.jsonl`: side effects are counted over both runs, and the target
site's fail-once pages stay failed-once).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from automation_local.demo.plan import DEFAULT_USERS
from automation_local.net.loopback_server import free_port


@dataclass(frozen=True)
class DemoArguments:
    orders: int
    fail_rate: float
    seed: int
    users: int = DEFAULT_USERS


class RunState:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.stack_path = directory / "stack.json"
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ stand-ins
    def port(self, name: str) -> int:
        """The stand-in's port: the one it had before, or a free one kept from now on."""
        path = self.directory / "ports.json"
        with self._lock:
            ports = json.loads(path.read_text()) if path.exists() else {}
            if name not in ports:
                ports[name] = free_port()
                path.write_text(json.dumps(ports))
            return int(ports[name])

    def journal(self, name: str) -> Path:
        return self.directory / f"{name}.requests.jsonl"

    # ------------------------------------------------------------------ demo load
    def demo_arguments(self, requested: DemoArguments) -> tuple[DemoArguments, bool]:
        """The run's arguments and whether it resumes: those of the run this directory
        holds, else `requested`, kept from now on."""
        path = self.directory / "run.json"
        if path.exists():
            return DemoArguments(**json.loads(path.read_text())), True
        path.write_text(json.dumps(requested.__dict__))
        return requested, False

    def submissions(self) -> dict[str, str]:
        """Order id -> `accepted` or `rejected`, for the orders whose submission ended."""
        path = self.directory / "submissions.jsonl"
        if not path.exists():
            return {}
        outcomes: dict[str, str] = {}
        for line in path.read_text().split("\n"):  # JSON Lines: "\n" alone ends a line
            try:
                outcomes.update(json.loads(line))
            except ValueError:  # the last line of a killed run may be cut short
                continue
        return outcomes

    def record_submissions(self, outcomes: dict[str, Any]) -> None:
        with self._lock, (self.directory / "submissions.jsonl").open("a") as journal:
            journal.write(json.dumps(outcomes) + "\n")
