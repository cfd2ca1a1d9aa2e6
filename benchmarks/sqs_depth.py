"""receive_depth_ratio: one ReceiveMessage on a queue of 5,000 messages over one on a queue of 10.

Both queues live in one emulator of their own (the server the local runtime starts,
automation_local/aws/server.py); every message is visible: each receive takes 10
(MaxNumberOfMessages 10) with VisibilityTimeout 0, so the queues stay as they were. The
receives alternate between the two queues (one warm-up each), and the figure is the median
at 5,000 over the median at 10. moto alone scanned the whole queue on each receive (about
1.1 s at 5,000 messages on this machine's kind of core, ratio above 100); the emulator's
indexed queues (automation_local/aws/sqs_index.py) look at the messages they return, so the
ratio is about 1. The detail also gives what the last receive at each depth looked at, from
the emulator's own count (GET /_emulator/sqs), and how long sending the 5,000 took.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from automation_local.aws.emulator import Emulator
from automation_local.aws.sqs_index import fetch_queue_stats

from .context import Bench
from .registry import Figure, Goal, measurement

GOAL = Goal("<=", 1.5)
SHALLOW, DEEP = 10, 5000
BATCH = 10  # SendMessageBatch entries and MaxNumberOfMessages
ROUNDS, QUICK_ROUNDS = 15, 5


def _fill(sqs: Any, queue_url: str, count: int) -> None:
    for start in range(0, count, BATCH):
        entries = [{"Id": str(i), "MessageBody": f'{{"n": {start + i}}}'} for i in range(min(BATCH, count - start))]
        if sqs.send_message_batch(QueueUrl=queue_url, Entries=entries).get("Failed"):
            raise RuntimeError(f"SendMessageBatch failed entries while filling {queue_url}")


def _receive_seconds(sqs: Any, queue_url: str) -> float:
    started = time.perf_counter()
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=BATCH, VisibilityTimeout=0).get(
        "Messages", []
    )
    seconds = time.perf_counter() - started
    if len(messages) != BATCH:
        raise RuntimeError(f"a receive of {BATCH} on {queue_url} returned {len(messages)}")
    return seconds


@measurement("receive_depth_ratio")
def receive_depth_ratio(bench: Bench) -> list[Figure]:
    rounds = bench.runs(ROUNDS, QUICK_ROUNDS)
    with Emulator() as emulator:
        sqs = emulator.client("sqs")
        shallow = sqs.create_queue(QueueName="bench-depth-10")["QueueUrl"]
        deep = sqs.create_queue(QueueName="bench-depth-5000")["QueueUrl"]
        _fill(sqs, shallow, SHALLOW)
        fill_started = time.perf_counter()
        _fill(sqs, deep, DEEP)
        fill_seconds = time.perf_counter() - fill_started
        _receive_seconds(sqs, shallow), _receive_seconds(sqs, deep)  # warm-up
        times: dict[str, list[float]] = {shallow: [], deep: []}
        for _ in range(rounds):
            for queue_url in (shallow, deep):
                times[queue_url].append(_receive_seconds(sqs, queue_url))
        stats = fetch_queue_stats(emulator.endpoint_url)
    looked_at = {
        depth: next(s["last_receive"]["inspected"] for arn, s in stats.items() if arn.endswith(f"bench-depth-{depth}"))
        for depth in (SHALLOW, DEEP)
    }
    shallow_ms, deep_ms = (statistics.median(times[url]) * 1000 for url in (shallow, deep))
    return [
        Figure(
            "receive_depth_ratio",
            round(deep_ms / shallow_ms, 2),
            GOAL,
            detail=(
                f"ReceiveMessage of {BATCH} at {DEEP:,} messages {deep_ms:.1f} ms / at {SHALLOW} messages"
                f" {shallow_ms:.1f} ms (median of {rounds} each, alternating; all visible: VisibilityTimeout 0);"
                f" a receive looked at {looked_at[DEEP]} and {looked_at[SHALLOW]} messages of the queue;"
                f" sending the {DEEP:,} took {fill_seconds:.1f} s"
            ),
        )
    ]
