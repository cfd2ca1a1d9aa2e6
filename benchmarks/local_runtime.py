"""Figures of one happy-path run of the local runtime: send calls per order and end-to-end flow.

One run of `automation_local` as `make run` starts it (emulator, stack deployed from
template.yaml, stand-ins, HTTP API, pollers; functions from src/, the way the local
runtime runs them): the demo load POSTs 1,000 orders (100 in quick mode) to the webhook
in signed batches of 10, none made to fail, and follows each until it is final; the
worker runs them and feedback acts on their results.

- sends_per_order: SendMessage + SendMessageBatch calls the emulator answered during the
  load (counted by the emulator server itself, retries included), per order;
- flow_ratio: orders per second end to end, against the emulator's own SQS throughput,
  measured right after the load on a scratch queue of the same emulator once the pollers
  have stopped.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from pathlib import Path
from typing import Any

from automation_local.aws.emulator import Emulator
from automation_local.demo_load import SUBMIT_BATCH_SIZE, Summary, run_demo_load
from automation_local.runtime import LocalRuntime

from .context import Bench
from .registry import Figure, Goal, measurement

SEED = 5
SQS_SEND_CALLS = ("sqs:SendMessage", "sqs:SendMessageBatch")
REFERENCE_BATCH = 10  # messages per SendMessageBatch / ReceiveMessage / DeleteMessageBatch


def _cpu_seconds(pid: int | None) -> float | None:
    """CPU time (user + system) a process has used so far, from /proc; None elsewhere."""
    stat = Path(f"/proc/{pid}/stat")
    if pid is None or not stat.exists():
        return None
    # Fields 14 and 15 (utime, stime) in clock ticks; the name field (2) may hold spaces.
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _run_load(runtime: LocalRuntime, orders: int, timeout: float) -> Summary:
    summary = run_demo_load(runtime, orders=orders, fail_rate=0.0, seed=SEED, timeout=timeout)
    if summary.lost or summary.unexpected or summary.rejected or summary.completed != orders:
        raise RuntimeError(f"the happy-path load did not complete every order: {summary.as_json()}")
    return summary


def emulator_sqs_throughput(emulator: Emulator, rounds: int) -> float:
    """Messages per second through one client's loop of SendMessageBatch, ReceiveMessage and
    DeleteMessageBatch, 10 messages each, on a scratch queue: the emulator's own pace for
    the three SQS calls every order's messages go through."""
    sqs = emulator.client("sqs")
    queue_url = sqs.create_queue(QueueName="bench-emulator-throughput")["QueueUrl"]
    entries = [{"Id": str(i), "MessageBody": f'{{"n": {i}}}'} for i in range(REFERENCE_BATCH)]
    try:
        moved = 0
        started = time.perf_counter()
        for _ in range(rounds):
            sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)
            received: list[dict[str, Any]] = []
            while len(received) < REFERENCE_BATCH:
                received += sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=REFERENCE_BATCH).get(
                    "Messages", []
                )
            sqs.delete_message_batch(
                QueueUrl=queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(received)],
            )
            moved += len(received)
        return moved / (time.perf_counter() - started)
    finally:
        sqs.delete_queue(QueueUrl=queue_url)


@measurement("local_runtime")
def local_runtime_flow(bench: Bench) -> list[Figure]:
    orders = bench.runs(1000, 50)
    log_dir = bench.scratch / "local-runtime-logs"
    log_dir.mkdir()
    with LocalRuntime(log_dir=log_dir) as runtime:
        runtime.emulator.reset_api_calls()  # the count covers the load, not the stack's deployment
        emulator_cpu_before, load_started = _cpu_seconds(runtime.emulator.pid), time.monotonic()
        summary = _run_load(runtime, orders, timeout=bench.runs(1800, 600))
        bench.results["local_runtime.summary"] = summary  # its cost: the happy path's (benchmarks/cost.py)
        calls: Counter[str] = runtime.emulator.api_calls()
        emulator_cpu_after, load_seconds = _cpu_seconds(runtime.emulator.pid), time.monotonic() - load_started
        runtime.stop_polling()  # idle pollers' long polls would share the emulator with the reference
        reference = emulator_sqs_throughput(runtime.emulator, rounds=bench.runs(300, 30))

    sends = sum(calls[call] for call in SQS_SEND_CALLS)
    all_calls = sum(calls.values())
    busiest = ", ".join(f"{call} {count / orders:.1f}" for call, count in calls.most_common(3))
    orders_per_second = orders / summary.seconds
    worker = summary.invocations.get("WorkerOrderQueueMapping", 0)
    feedback = summary.invocations.get("FeedbackResultQueueMapping", 0)
    worker_errors = summary.invocation_errors.get("WorkerOrderQueueMapping", 0)
    feedback_errors = summary.invocation_errors.get("FeedbackResultQueueMapping", 0)
    # How much of the run the emulator (one process, one core at most) spent computing.
    emulator_busy = (
        f"; emulator CPU {(emulator_cpu_after - emulator_cpu_before) / load_seconds:.0%} of the run"
        if emulator_cpu_before is not None and emulator_cpu_after is not None
        else ""
    )
    return [
        Figure(
            "sends_per_order",
            sends / orders,
            Goal("<=", 0.35),
            detail=(
                f"{sends} send calls at the emulator ({calls['sqs:SendMessageBatch']} SendMessageBatch,"
                f" {calls['sqs:SendMessage']} SendMessage) / {orders} orders POSTed {SUBMIT_BATCH_SIZE} a request;"
                f" {worker} worker and {feedback} feedback invocations ({worker_errors} and {feedback_errors} failed)"
            ),
        ),
        Figure(
            "flow_ratio",
            orders_per_second / reference,
            Goal(">=", 0.1),
            detail=(
                f"{orders_per_second:.1f} orders/s ({orders} orders, first POST to all final: {summary.seconds:.1f} s)"
                f" / {reference:.0f} msg/s (one client's SendMessageBatch + ReceiveMessage + DeleteMessageBatch"
                f" of {REFERENCE_BATCH} on a scratch queue of the same emulator, after the load);"
                f" the load made {all_calls / orders:.1f} emulator calls per order ({busiest}, ...){emulator_busy}"
            ),
        ),
    ]
