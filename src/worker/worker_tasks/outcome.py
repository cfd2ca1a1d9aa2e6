"""What a task processor returns, before it becomes a ResultMessage."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from automation_shared.contracts import ResultStatus


@dataclass
class TaskOutcome:
    status: ResultStatus
    summary: str
    data: dict[str, Any] = field(default_factory=dict)
    error: dict[str, Any] | None = None


class TaskFailedError(Exception):
    """A processor's way of saying the task failed for a reason worth reporting (not a bug)."""

    def __init__(self, summary: str, status: ResultStatus = ResultStatus.FAILURE, **details: Any) -> None:
        super().__init__(summary)
        self.status = status
        self.details = details
