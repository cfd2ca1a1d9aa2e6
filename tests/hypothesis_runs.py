"""Hypothesis profiles for the property-based tests (tests/fuzz, tests/model), and the count
of examples (and steps) each one ran, printed at the end of the session.

`ci` (the default, used by `make test`) runs a fixed number of examples derandomized: the
same inputs on every run, so a failure in CI reproduces locally and a green run means the
same thing twice; no example database, since CI machines keep nothing between runs.
`deep` (HYPOTHESIS_PROFILE=deep) explores: ten times the examples, new ones each run, and
failures kept in .hypothesis/ to replay first next time.

A plugin of tests/conftest.py, so the profile is loaded whichever tests run.
"""

from __future__ import annotations

import os
from collections import Counter

import pytest
from hypothesis import settings
from hypothesis.database import DirectoryBasedExampleDatabase

# Every example drives a real handler against the emulator: timings vary with the machine's
# load, so no per-example deadline (a timed assertion would be flaky, not a finding).
settings.register_profile("ci", max_examples=60, deadline=None, derandomize=True, database=None)
settings.register_profile(
    "deep", max_examples=600, deadline=None, database=DirectoryBasedExampleDatabase(".hypothesis/examples")
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

EXAMPLES_RUN: Counter[str] = Counter()


def count_example(test_name: str, count: int = 1) -> None:
    """Called by a property-based test once per example it runs (or with `count`, for the
    steps of a stateful one)."""
    EXAMPLES_RUN[test_name] += count


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if EXAMPLES_RUN:
        terminalreporter.section("hypothesis examples run")
        for name, count in sorted(EXAMPLES_RUN.items()):
            terminalreporter.write_line(f"{count:6d}  {name}")
