"""`make test-fast` loads this plugin (`pytest -m fast -p tests.fast_tier`): the fast tier
starts no emulator and no subprocess, and a test that tries fails saying so, so a test
marked `fast` that needs the slow machinery is found at once instead of slowing the loop."""

from __future__ import annotations

import multiprocessing.process
import subprocess
from typing import Any

import pytest


class SlowMachineryError(RuntimeError):
    pass


def _refuse(*args: Any, **kwargs: Any) -> None:
    raise SlowMachineryError(
        "the fast tier starts no subprocess (no emulator, no sandbox, no SAM CLI): mark this test `slow`, not `fast`"
    )


def pytest_configure(config: pytest.Config) -> None:
    subprocess.Popen.__init__ = _refuse  # type: ignore[method-assign]
    multiprocessing.process.BaseProcess.start = _refuse  # type: ignore[method-assign]
