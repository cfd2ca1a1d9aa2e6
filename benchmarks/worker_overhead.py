"""worker_overhead_ratio: what the worker spends per record beyond parsing and serialising it.

Batches of 10 orders through the built worker's handler with processors that return at
once and SQS and DynamoDB answered in-process behind real boto3 clients (`fakes`): what is
left is the worker's own work per record (parse, validate, claim the attempt, dispatch,
build and store the result, the shared SendMessageBatch). The floor, timed in the same
process on the same records: `OrderMessage.model_validate_json`, `ResultMessage.model_dump_json`
and one conditional PutItem through botocore against the same fake: the least a consumer
that runs each record exactly once does (it must record that it did).
Per-record time is a warm batch's handler time / 10 (median of the batches); the
process's CPU time per record is shown beside it (close to it: the cost is work, not
waiting).
"""

from __future__ import annotations

from .context import Bench
from .registry import Figure, Goal, measurement
from .worker_runs import run_worker_batches

GOAL = Goal("<=", 2.5)
BATCHES, QUICK_BATCHES = 30, 3
WARMUP = 2


@measurement("worker_overhead_ratio")
def worker_overhead_ratio(bench: Bench) -> list[Figure]:
    result = run_worker_batches(
        bench,
        tasks="instant",
        task_type="text-processing",
        url="http://127.0.0.1:9/",
        batches=bench.runs(BATCHES, QUICK_BATCHES),
        warmup=WARMUP,
        label="overhead",
    )
    per_record_us, floor_us = result["per_record_seconds"] * 1e6, result["floor_seconds"] * 1e6
    cpu_us = result["cpu_per_record_seconds"] * 1e6
    calls = ", ".join(f"{name} {count:g}" for name, count in sorted(result["aws_calls_per_record"].items()))
    return [
        Figure(
            "worker_overhead_ratio",
            round(per_record_us / floor_us, 2),
            GOAL,
            detail=(
                f"{per_record_us:.0f} us/record (CPU {cpu_us:.0f}) / floor {floor_us:.1f} us/record; "
                f"AWS calls per record: {calls}"
            ),
        )
    ]
