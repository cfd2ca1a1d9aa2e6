"""What the run command shows: the summary as a table, and progress as a line where the
output is not a terminal (a log, CI) and as a bar where it is."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from automation_local.demo_load import Progress, Summary
from automation_local.terminal import RunDisplay, print_summary

pytestmark = pytest.mark.fast

DEPTHS = {"order": 3, "result": 1, "order-dlq": 0, "result-dlq": 0}
FUNCTIONS = {"WorkerOrderQueueMapping": "worker", "FeedbackResultQueueMapping": "feedback"}


def a_summary() -> Summary:
    return Summary(
        submitted=10,
        accepted=9,
        injected=1,
        completed=4,
        escalated=1,
        invocations={"WorkerOrderQueueMapping": 3, "FeedbackResultQueueMapping": 2},
        cost={"error": "not measured here"},
    )


def test_the_summary_is_a_table_of_every_figure_with_the_cost_below() -> None:
    # GIVEN a run's summary
    out = io.StringIO()
    # WHEN it is printed
    print_summary(a_summary(), Console(file=out, width=120, highlight=False))
    text = out.getvalue()
    # THEN every figure has its row, dictionaries on one line, and the cost follows
    rows = {line.split()[0]: line.split()[1:] for line in text.splitlines() if line.strip()}
    assert set(Summary.__dataclass_fields__) - {"cost"} <= set(rows)
    assert rows["submitted"] == ["10"] and rows["lost"] == ["0"]
    assert rows["invocations"] == ["WorkerOrderQueueMapping", "3,", "FeedbackResultQueueMapping", "2"]
    assert "cost               not measured: not measured here" in text


def test_progress_off_a_terminal_is_a_line_with_the_per_stage_counts_at_most_every_five_seconds() -> None:
    # GIVEN a display writing to a file, not a terminal
    out = io.StringIO()
    progress = Progress(12.0, a_summary(), DEPTHS, FUNCTIONS)
    with RunDisplay(Console(file=out, width=400)) as display:
        # WHEN the run reports its progress twice in a row
        display.show(progress)
        display.show(progress)
    # THEN one line shows it: orders ended of those that will, each stage's counts and the queues
    [line] = out.getvalue().splitlines()
    assert "final 5/10" in line and "worker 3 inv" in line and "feedback 2 inv" in line
    assert "queues order 3 result 1" in line


def test_progress_on_a_terminal_is_a_bar_of_the_orders_ended() -> None:
    # GIVEN a display on a terminal
    out = io.StringIO()
    with RunDisplay(Console(file=out, width=200, force_terminal=True)) as display:
        # WHEN the run reports its progress
        display.show(Progress(12.0, a_summary(), DEPTHS, FUNCTIONS))
    # THEN a bar shows the orders ended out of those that will, with the per-stage counts
    text = out.getvalue()
    assert "orders ended" in text and "5/10" in text and "worker 3 inv" in text
