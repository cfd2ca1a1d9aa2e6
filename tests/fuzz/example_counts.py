"""How many examples each fuzz test ran in this session (summed up by conftest.py at the end)."""

from __future__ import annotations

from collections import Counter

EXAMPLES_RUN: Counter[str] = Counter()


def count_example(test_name: str) -> None:
    """Called by a fuzz test once per example it runs."""
    EXAMPLES_RUN[test_name] += 1
