"""Prints what the crash-point exploration did: points per path, the calls killed after, violations."""

from __future__ import annotations

import pytest

from tests.crash_points.report import REPORT


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for exploration, seconds in REPORT:
        terminalreporter.section(f"crash points explored ({exploration.queue_type} queues)")
        for path, points in exploration.points.items():
            calls = ", ".join(exploration.calls.get(path, [])) or "no call"
            terminalreporter.write_line(f"{points:4d}  {path}  [kill before the first call; then after: {calls}]")
        terminalreporter.write_line(
            f"{exploration.total:4d}  crash points in {len(exploration.points)} paths, {seconds:.0f} s;"
            f" violations: {len(exploration.violations)}"
        )
        for violation in exploration.violations:
            terminalreporter.write_line(f"      VIOLATION {violation}")
