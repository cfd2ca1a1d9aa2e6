"""What a task processor returns, before it becomes a ResultMessage, and the acts a task
must not repeat blindly.

Most tasks are safe to run again (they read a page, ask Perplexity): a failure is requeued.
A task that acts on the outside world in a way that must happen at most once (publishing a
LinkedIn post) calls `begin_unrepeatable_act` before the act; when the act's outcome is
then unknown (no answer in time, a dropped connection, a 5xx) the task raises
`OutcomeUnknownError`, and when the worker's bound on the task fires while the act is under
way (its thread cannot be stopped and may still carry the act out) the worker asks
`BegunActs.outcome_after_timeout`. Either way the attempt fails with `retryable` False: it
is escalated for a person to check, never requeued to do the act a second time.

The acts reach the worker through a context variable the worker sets in the task's thread
(`BegunActs.recording`), so the processors keep their one signature (order, deadline); a
processor called outside the worker (the pure tests) records nothing.
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from automation_shared.contracts import ResultStatus
from automation_shared.http_client import ExternalCallError

CHECK_BEFORE_REPEATING = "not retried: a person must check whether it happened before doing it again"


@dataclass
class TaskOutcome:
    status: ResultStatus
    summary: str
    data: dict[str, Any] = field(default_factory=dict)
    error: dict[str, Any] | None = None
    # False when another attempt cannot succeed (a refused address) or must not be made
    # (an unrepeatable act of unknown outcome): escalated, not requeued.
    retryable: bool = True


class TaskFailedError(ExternalCallError):
    """A processor's way of saying the task failed for a reason worth reporting (not a bug),
    such as a missing parameter; failed calls to the outside raise its base class."""


class OutcomeUnknownError(TaskFailedError):
    """An unrepeatable act (`act`, such as "LinkedIn post") may or may not have happened
    (`why`): not retryable, so the attempt is escalated for a person to check."""

    def __init__(self, act: str, why: str, status: ResultStatus = ResultStatus.FAILURE, **details: Any) -> None:
        super().__init__(
            f"{act} may have been made ({why}); {CHECK_BEFORE_REPEATING}",
            status,
            retryable=False,
            outcomeUnknown=True,
            act=act,
            **details,
        )


class BegunActs:
    """The unrepeatable acts one attempt's task has begun; written by the task's thread,
    read by the worker once its bound on the task has fired."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._acts: list[str] = []
        self._details: dict[str, Any] = {}

    @property
    def begun(self) -> tuple[str, ...]:
        with self._lock:
            return tuple(self._acts)

    def begin(self, act: str, details: dict[str, Any]) -> None:
        with self._lock:
            self._acts.append(act)
            self._details |= details

    @contextlib.contextmanager
    def recording(self) -> Iterator[None]:
        """While the task runs (in the calling thread), its acts are recorded here."""
        token = _CURRENT_ACTS.set(self)
        try:
            yield
        finally:
            _CURRENT_ACTS.reset(token)

    def outcome_after_timeout(self, summary: str) -> TaskOutcome:
        """The outcome of an attempt whose task overran its bound: a timeout, retryable only
        if the task had begun no unrepeatable act (its thread runs on and may still do it)."""
        if not (acts := self.begun):
            return TaskOutcome(ResultStatus.TIMEOUT, summary)
        with self._lock:
            details = dict(self._details)
        unknown = OutcomeUnknownError(", ".join(acts), summary, ResultStatus.TIMEOUT, **details)
        error = {"message": str(unknown), **unknown.details, "retryable": False}
        return TaskOutcome(ResultStatus.TIMEOUT, str(unknown), error=error, retryable=False)


_CURRENT_ACTS: contextvars.ContextVar[BegunActs | None] = contextvars.ContextVar("begun_acts", default=None)


def begin_unrepeatable_act(act: str, **details: Any) -> None:
    """Called by a task right before an act that must not happen twice: `act` names it,
    `details` say what a person checking it looks for (carried by an escalation)."""
    if (acts := _CURRENT_ACTS.get()) is not None:
        acts.begin(act, details)
