"""worker_peak_rss_mb: peak resident memory of a worker sandbox after a batch of 10.

A fresh Lambda-like interpreter imports the built worker and runs one batch of 10 real
url-monitoring orders (against `SlowServer`); its peak RSS is what Lambda reports as
"Max Memory Used". Reported beside the function's MemorySize, not judged: MemorySize
also buys CPU (1,769 MB is one vCPU), so it is sized for time as much as for memory.
"""

from __future__ import annotations

from .context import Bench
from .registry import Figure, measurement
from .slow_server import SlowServer
from .worker_runs import run_worker_batches


@measurement("worker_peak_rss_mb")
def worker_peak_rss_mb(bench: Bench) -> list[Figure]:
    with SlowServer(0.2) as server:
        result = run_worker_batches(
            bench, tasks="real", task_type="url-monitoring", url=server.url, batches=1, warmup=0, label="memory"
        )
    memory_mb = bench.artifacts.functions["worker"].memory_mb
    peak = result["peak_rss_mb"]
    return [
        Figure(
            "worker_peak_rss_mb",
            round(peak, 1),
            unit="MB",
            detail=f"MemorySize {memory_mb} MB: peak is {peak / memory_mb:.0%} of it",
        )
    ]
