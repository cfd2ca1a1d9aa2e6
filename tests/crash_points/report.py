"""The exploration's figures, kept for the end-of-session summary (conftest.py)."""

from __future__ import annotations

from tests.crash_points.explorer import Exploration

REPORT: list[tuple[Exploration, float]] = []  # (what was explored, seconds it took)
