"""Runs the worker probe (probes/worker_batch.py) in the worker's Lambda-like sandbox."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from automation_local.outside.standins import STAND_IN_NETWORKS

from .context import Bench
from .lambda_like import run_python

PROBE = Path(__file__).parent / "probes" / "worker_batch.py"


def run_worker_batches(
    bench: Bench, *, tasks: str, task_type: str, url: str, batches: int, warmup: int, label: str
) -> dict[str, Any]:
    artifacts = bench.artifacts
    worker = artifacts.functions["worker"]
    out = bench.scratch / f"worker-{label}.json"
    settings = bench.scratch / f"worker-{label}-settings.json"
    settings.write_text(
        json.dumps(
            {
                "path": [str(p) for p in artifacts.lambda_path(worker)],
                "repo_root": str(bench.repo_root),
                "tasks": tasks,
                "task_type": task_type,
                "url": url,
                "batches": batches,
                "warmup": warmup,
                "timeout_seconds": 50.0,
                "memory_mb": worker.memory_mb,
                "out": str(out),
            }
        )
    )
    # The real tasks call a server on loopback, which the worker refuses unless allowed.
    allowed = {"OUTBOUND_ALLOWED_NETWORKS": STAND_IN_NETWORKS}
    run_python(artifacts, worker, [str(PROBE), str(settings)], tracing=False, environment_overrides=allowed)
    result: dict[str, Any] = json.loads(out.read_text())
    if result["batch_failures"]:
        raise RuntimeError(f"worker reported {result['batch_failures']} failed records ({label})")
    return result
