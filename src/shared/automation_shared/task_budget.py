"""How long a worker task can run, from the worker function's timeout.

The worker bounds each task by min(payload.timeout, time left in the invocation less a
margin kept for sending results: `batch_invocation.work_deadline`). A task can therefore
have its whole `payload.timeout` only if that fits in the invocation; the webhook refuses
an order asking for more (raise `WorkerTimeoutSeconds`, and `OrderQueueVisibilityTimeout`
to six times it, to allow longer tasks).
"""

from __future__ import annotations

import math

# Kept back from the worker's invocation for sending results and reporting failures (at
# most a fifth of the invocation: batch_invocation.work_deadline).
WORKER_MARGIN_SECONDS = 3.0
# A record's calls before its task starts (claiming the attempt, its status).
SETUP_SECONDS = 1.0


def longest_task_seconds(worker_timeout_seconds: float) -> int:
    """The longest `payload.timeout` a worker with this timeout runs in full."""
    margin = min(WORKER_MARGIN_SECONDS, worker_timeout_seconds / 5)
    return max(0, math.floor(worker_timeout_seconds - margin - SETUP_SECONDS))
