"""The measurements `make bench` runs, in table order, and what each one reports.

A measurement is a function of the run's `Bench` context returning one or more
figures; `@measurement` adds it here. A figure whose measurement cannot run yet is
registered with `pending(...)`: it stays in the table and in latest.json (value null),
so adding the real measurement later is one decorated function in its own module.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .context import Bench

COMPARATORS = {"<=": operator.le, ">=": operator.ge}


@dataclass(frozen=True)
class Goal:
    comparator: str  # "<=" or ">="
    limit: float

    def met(self, value: float) -> bool:
        return COMPARATORS[self.comparator](value, self.limit)

    def __str__(self) -> str:
        return f"{self.comparator} {self.limit:g}"


@dataclass(frozen=True)
class Figure:
    key: str  # the key in bench/latest.json, e.g. "init_ratio.worker"
    value: float | None
    goal: Goal | None = None  # None: reported, not judged (the memory figure)
    unit: str = ""
    detail: str = ""  # what the value was computed from, for the table

    @property
    def status(self) -> str:
        if self.value is None:
            return "pending"
        if self.goal is None:
            return "info"
        return "pass" if self.goal.met(self.value) else "miss"


@dataclass(frozen=True)
class Measurement:
    name: str
    run: Callable[[Bench], list[Figure]]
    keys: tuple[str, ...] = field(default=())  # the keys it reports (for pending ones and the test)


MEASUREMENTS: list[Measurement] = []


def measurement(name: str) -> Callable[[Callable[[Bench], list[Figure]]], Callable[[Bench], list[Figure]]]:
    def register(run: Callable[[Bench], list[Figure]]) -> Callable[[Bench], list[Figure]]:
        MEASUREMENTS.append(Measurement(name, run))
        return run

    return register


def pending(key: str, goal: Goal, reason: str) -> None:
    """A figure that cannot be measured yet: listed with its goal and why."""

    def run(_bench: Bench) -> list[Figure]:
        return [Figure(key, None, goal, detail=f"pending: {reason}")]

    MEASUREMENTS.append(Measurement(key, run, keys=(key,)))
