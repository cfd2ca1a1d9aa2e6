"""The translated template equals its snapshot; `make snapshot` refreshes it after an intended change."""

from __future__ import annotations

import difflib

import pytest

from tools.snapshot import SNAPSHOT_PATH, rendered

pytestmark = pytest.mark.fast


def test_translated_template_matches_the_snapshot() -> None:
    # GIVEN the checked-in snapshot of the translated template
    expected = SNAPSHOT_PATH.read_text()
    # WHEN the template is translated now
    actual = rendered()
    diff = "".join(
        difflib.unified_diff(expected.splitlines(True), actual.splitlines(True), "snapshot", "template.yaml", n=2)
    )
    # THEN it is the same as the snapshot (the diff is shown if not)
    assert actual == expected, f"translated template changed; if intended, run `make snapshot`:\n{diff[:4000]}"
