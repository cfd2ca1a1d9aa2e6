"""io_batch_ratio: a batch of 10 url-monitoring orders whose target answers after 200 ms.

The built worker with its real url-monitoring processor, against `SlowServer` on
loopback; SQS and DynamoDB in-process. Ten records run at once, so the batch should
take one answer's time, not ten: wall time of a warm batch (median) / 200 ms.
"""

from __future__ import annotations

from .context import Bench
from .registry import Figure, Goal, measurement
from .slow_server import SlowServer
from .worker_runs import run_worker_batches

GOAL = Goal("<=", 1.5)
DELAY_SECONDS = 0.2
BATCHES, QUICK_BATCHES = 5, 1


@measurement("io_batch_ratio")
def io_batch_ratio(bench: Bench) -> list[Figure]:
    with SlowServer(DELAY_SECONDS) as server:
        result = run_worker_batches(
            bench,
            tasks="real",
            task_type="url-monitoring",
            url=server.url,
            batches=bench.runs(BATCHES, QUICK_BATCHES),
            warmup=1,
            label="io",
        )
    if result["result_statuses"] != ["success"]:
        raise RuntimeError(f"url-monitoring against the local server gave {result['result_statuses']}")
    batch_ms = result["batch_seconds"] * 1000
    return [
        Figure(
            "io_batch_ratio",
            round(batch_ms / (DELAY_SECONDS * 1000), 2),
            GOAL,
            detail=f"batch of 10 in {batch_ms:.0f} ms / one answer {DELAY_SECONDS * 1000:.0f} ms",
        )
    ]
