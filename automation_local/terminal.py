"""What the run command shows: its progress while the demo load runs (stderr) and its
summary as a table (stdout), with rich.

On a terminal the progress is a bar of the orders that have ended, with the time elapsed
and left and the per-stage counts beside it; elsewhere (a log, CI) it is a line every 5 s.
"""

from __future__ import annotations

import time
from types import TracebackType
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.progress import Progress as Bar
from rich.table import Table

from automation_local.cost import report as cost_report
from automation_local.demo_load import Progress, Summary

LINE_EVERY_SECONDS = 5.0


class RunDisplay:
    """`with RunDisplay() as display:` pass `display.show` and `display.note` to the demo load."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True)
        self._bar: Bar | None = None
        self._task: Any = None
        self._last_line = 0.0

    def __enter__(self) -> RunDisplay:
        if self.console.is_terminal:
            self._bar = Bar(
                TextColumn("orders ended"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("left"),
                TimeRemainingColumn(),
                TextColumn("{task.fields[stages]}"),
                console=self.console,
            )
            self._bar.start()
            self._task = self._bar.add_task("orders", total=None, stages="")
        return self

    def show(self, progress: Progress) -> None:
        if self._bar is not None:
            self._bar.update(self._task, total=progress.expected, completed=progress.final, stages=progress.stages())
        elif time.monotonic() - self._last_line >= LINE_EVERY_SECONDS:
            self.console.print(progress.line(), highlight=False, soft_wrap=True)
            self._last_line = time.monotonic()

    def note(self, text: str) -> None:
        self.console.print(text, highlight=False)

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._bar is not None:
            self._bar.stop()


def summary_table(summary: Summary) -> Table:
    """The run's summary, one row per figure (what the JSON summary holds, cost aside)."""
    table = Table(title="summary", title_justify="left", show_header=False, box=None, pad_edge=False)
    table.add_column("figure", style="bold")
    table.add_column("value")
    for name, value in summary.__dict__.items():
        if name == "cost":
            continue
        shown = ", ".join(f"{k} {v}" for k, v in value.items()) if isinstance(value, dict) else str(value)
        table.add_row(name, shown or "-")
    return table


def print_summary(summary: Summary, console: Console | None = None) -> None:
    out = console or Console(highlight=False, soft_wrap=True)
    out.print()
    out.print(summary_table(summary))
    out.print("\n".join(cost_report.summary_lines(summary.cost)))
