"""What a task processor returns, before it becomes a ResultMessage."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from automation_shared.contracts import ResultStatus
from automation_shared.http_client import ExternalCallError


@dataclass
class TaskOutcome:
    status: ResultStatus
    summary: str
    data: dict[str, Any] = field(default_factory=dict)
    error: dict[str, Any] | None = None
    # False when another attempt cannot succeed (a refused address): escalated, not requeued.
    retryable: bool = True


class TaskFailedError(ExternalCallError):
    """A processor's way of saying the task failed for a reason worth reporting (not a bug),
    such as a missing parameter; failed calls to the outside raise its base class."""
