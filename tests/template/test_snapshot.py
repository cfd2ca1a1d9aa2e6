"""The translated template equals its snapshot; `make snapshot` refreshes it after an intended change."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from pathlib import Path

import pytest

from tools.snapshot import FIFO_SNAPSHOT_PATH, SNAPSHOT_PATH, rendered, rendered_fifo

pytestmark = pytest.mark.fast


@pytest.mark.parametrize(
    "snapshot, render", [(SNAPSHOT_PATH, rendered), (FIFO_SNAPSHOT_PATH, rendered_fifo)], ids=["standard", "fifo"]
)
def test_translated_template_matches_the_snapshot(snapshot: Path, render: Callable[[], str]) -> None:
    # GIVEN the checked-in snapshot of the translated template (as received; as deployed in FIFO mode)
    expected = snapshot.read_text()
    # WHEN the template is translated now
    actual = render()
    diff = "".join(
        difflib.unified_diff(expected.splitlines(True), actual.splitlines(True), "snapshot", "template.yaml", n=2)
    )
    # THEN it is the same as the snapshot (the diff is shown if not)
    assert actual == expected, f"translated template changed; if intended, run `make snapshot`:\n{diff[:4000]}"
