"""What every measurement gets: the build to measure, the mode, and a scratch directory."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .artifacts import Artifacts, load_artifacts


@dataclass
class Bench:
    repo_root: Path
    build_dir: Path  # what `sam build` produced (.aws-sam/build)
    scratch: Path  # removed after the run
    quick: bool = False  # fewer runs: the test suite's smoke run, not figures to quote
    output_dir: Path | None = None  # beside latest.json: what a measurement keeps (bench/cost-usage.json)
    chart: Path | None = None  # where the cost chart goes (docs/cost-by-service.png for make bench)
    # What one measurement leaves for a later one (the local runtime's run, for the cost figures).
    results: dict[str, Any] = field(default_factory=dict)
    _artifacts: Artifacts | None = field(default=None, repr=False)

    @property
    def artifacts(self) -> Artifacts:
        if self._artifacts is None:
            self._artifacts = load_artifacts(self.build_dir, self.scratch)
        return self._artifacts

    def runs(self, full: int, quick: int) -> int:
        return quick if self.quick else full
