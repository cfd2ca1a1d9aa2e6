"""Where the local runtime's logs go: one directory per run under one root, the newest kept.

    <temp dir>/automation-local/runs/<YYYYmmdd-HHMMSS>-<pid>/   a run's function logs (<function>.log)
    <temp dir>/automation-local/emulators/<port>.log             each emulator's server log

Each time a place is made there, all but the newest `KEEP` of its kind are removed, so
runs (and test sessions, which start many emulators) do not pile logs up.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

LOG_ROOT = Path(tempfile.gettempdir()) / "automation-local"
KEEP = 10


def new_run_dir() -> Path:
    """A fresh directory for one run's logs."""
    runs = LOG_ROOT / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    _prune(runs, keep=KEEP - 1)
    run_dir = runs / f"{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
    run_dir.mkdir(exist_ok=True)
    return run_dir


def emulator_log(port: int) -> Path:
    """Where the emulator serving on `port` writes its log."""
    emulators = LOG_ROOT / "emulators"
    emulators.mkdir(parents=True, exist_ok=True)
    _prune(emulators, keep=KEEP - 1)
    return emulators / f"{port}.log"


def _prune(folder: Path, keep: int) -> None:
    """Removes all but the `keep` newest entries of `folder` (by modification time)."""
    entries = sorted(folder.iterdir(), key=_modified, reverse=True)
    for old in entries[keep:]:
        if old.is_dir():
            shutil.rmtree(old, ignore_errors=True)
        else:
            old.unlink(missing_ok=True)


def _modified(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:  # removed meanwhile (another run pruning)
        return 0.0
