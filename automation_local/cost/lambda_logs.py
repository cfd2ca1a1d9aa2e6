"""Lambda's own lines in a function's log, written by the sandbox, and what a log holds.

On AWS the runtime adds, in the function's log stream (text format), an `INIT_START` line
when an execution environment starts, a `START` and an `END` line around each invocation
and a `REPORT` line with its duration, billed duration, memory size, the memory used and,
on a cold start, the init duration; with active tracing an `XRAY` line follows the report
(https://docs.aws.amazon.com/lambda/latest/dg/python-logging.html, read 2026-12-01). Since
2025-08-01 the init phase of on-demand functions is billed, and the billed duration of a
cold start's invocation includes it: the guide's example reads `Duration: 15.74 ms  Billed
Duration: 147 ms ... Init Duration: 130.49 ms`, 147 = ceil(15.74 + 130.49).

The sandbox writes the same lines to `<log_dir>/<function>.log`, so the log's bytes include
them, and `read_logs` reads back what a bill needs: bytes and events, billed milliseconds,
cold starts and their init time, and the distinct EMF metrics the functions emitted. Beside
the log (`<function>.cpu.jsonl`, not part of it: Lambda writes no such line) the sandbox
keeps each invocation's and each init's CPU time: the work a function does, which the
model prices where the local wall time is mostly waiting for a busy emulator (model.py).
"""

from __future__ import annotations

import contextlib
import gzip
import json
import math
import os
import re
import secrets
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from automation_local.aws.identity import REGION

RUNTIME_VERSION = "python:3.13.v31"
REPORT = re.compile(
    r"^REPORT RequestId: \S+\tDuration: (?P<duration>[\d.]+) ms\tBilled Duration: (?P<billed>\d+) ms"
    r"\tMemory Size: (?P<memory>\d+) MB\tMax Memory Used: \d+ MB(?:\tInit Duration: (?P<init>[\d.]+) ms)?"
)
# CloudWatch Logs keeps 26 bytes of metadata with each event in storage (compressed).
STORED_EVENT_OVERHEAD_BYTES = 26


def billed_duration_ms(duration_ms: float, init_ms: float | None = None) -> int:
    """Billed milliseconds: the invocation (and the init phase before it), as the REPORT line
    shows them (to 0.01 ms), rounded up to 1 ms."""
    return max(1, math.ceil(round(round(duration_ms, 2) + round(init_ms or 0.0, 2), 2)))


def init_start_line() -> str:
    arn = f"arn:aws:lambda:{REGION}::runtime:{secrets.token_hex(32)}"
    return f"INIT_START Runtime Version: {RUNTIME_VERSION}\tRuntime Version ARN: {arn}\n"


def start_line(request_id: str) -> str:
    return f"START RequestId: {request_id} Version: $LATEST\n"


def end_line(request_id: str) -> str:
    return f"END RequestId: {request_id}\n"


def report_line(
    request_id: str,
    duration_ms: float,
    memory_mb: int,
    max_memory_used_mb: int,
    init_ms: float | None = None,
    *,
    traced: bool = False,
) -> str:
    fields = [
        f"REPORT RequestId: {request_id}",
        f"Duration: {duration_ms:.2f} ms",
        f"Billed Duration: {billed_duration_ms(duration_ms, init_ms)} ms",
        f"Memory Size: {memory_mb} MB",
        f"Max Memory Used: {max_memory_used_mb} MB",
    ]
    if init_ms is not None:
        fields.append(f"Init Duration: {init_ms:.2f} ms")
    line = "\t".join(fields) + "\t\n"
    if traced:
        trace_id = f"1-{int(time.time()):08x}-{secrets.token_hex(12)}"
        line += f"XRAY TraceId: {trace_id}\tSegmentId: {secrets.token_hex(8)}\tSampled: true\t\n"
    return line


def _max_memory_used_mb() -> int:
    import resource

    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)  # KiB on Linux


def _write_stdout(text: str) -> None:
    sys.stderr.flush()
    sys.stdout.flush()
    sys.stdout.write(text)
    sys.stdout.flush()


def cpu_path(log_path: Path) -> Path:
    """Where a function's CPU times go, beside its log."""
    return log_path.with_suffix(".cpu.jsonl")


def _cpu_seconds() -> float:
    """CPU time of this process so far, all its threads (user and system)."""
    times = os.times()
    return times.user + times.system


class LambdaLogLines:
    """In a sandbox: the runtime's lines around each invocation, written to the function's log,
    and the invocation's CPU time beside it (`cpu_file`)."""

    def __init__(
        self,
        memory_mb: int,
        traced: bool,
        write: Callable[[str], None] = _write_stdout,
        cpu_file: Path | None = None,
    ) -> None:
        self.memory_mb = memory_mb
        self.traced = traced
        self._write = write
        self._cpu_file = cpu_file
        self._init_ms: float | None = None
        self._init_cpu_ms = 0.0
        self._started = 0.0
        self._cpu_started = 0.0

    def init_started(self) -> None:
        self._write(init_start_line())
        self._started, self._cpu_started = time.perf_counter(), _cpu_seconds()

    def init_done(self) -> None:
        self._init_ms = (time.perf_counter() - self._started) * 1000
        self._init_cpu_ms = (_cpu_seconds() - self._cpu_started) * 1000

    def start(self, request_id: str) -> None:
        self._write(start_line(request_id))
        self._started, self._cpu_started = time.perf_counter(), _cpu_seconds()

    def end(self, request_id: str) -> None:
        duration_ms = (time.perf_counter() - self._started) * 1000
        cpu_ms = (_cpu_seconds() - self._cpu_started) * 1000
        report = report_line(
            request_id, duration_ms, self.memory_mb, _max_memory_used_mb(), self._init_ms, traced=self.traced
        )
        self._write(end_line(request_id) + report)
        if self._cpu_file is not None:
            init_cpu_ms = self._init_cpu_ms if self._init_ms is not None else 0.0
            with self._cpu_file.open("a") as cpu:
                cpu.write(json.dumps({"cpu_ms": round(cpu_ms, 3), "init_cpu_ms": round(init_cpu_ms, 3)}) + "\n")
        self._init_ms = None  # only the first invocation of an environment carries it


def killed_invocation_lines(duration_ms: float, memory_mb: int, error: str) -> str:
    """What Lambda writes for an invocation the runtime ended (a timeout, a crash)."""
    request_id = str(uuid.uuid4())
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    status = "timeout" if "timed out" in error else "error"
    return (
        f"{stamp} {request_id} {error}\n"
        + end_line(request_id)
        + report_line(request_id, duration_ms, memory_mb, memory_mb).replace("\t\n", f"\tStatus: {status}\t\n", 1)
    )


# ---------------------------------------------------------------------------- reading
@dataclass
class FunctionLog:
    """What one function's log holds, from an offset on."""

    bytes: int = 0
    events: int = 0
    compressed_bytes: int = 0  # gzip level 6 of the events with CloudWatch's per-event metadata
    invocations: int = 0
    billed_ms: int = 0
    init_ms: float = 0.0
    cold_starts: int = 0
    memory_mb: int = 0
    metrics: set[tuple[str, str, tuple[tuple[str, str], ...]]] = field(default_factory=set)
    cpu_ms: float = 0.0  # the invocations' CPU time (cpu_path), all threads
    init_cpu_ms: float = 0.0


def emf_metrics(event: dict[str, Any]) -> set[tuple[str, str, tuple[tuple[str, str], ...]]]:
    """Each (namespace, metric name, dimensions with their values) an EMF event publishes."""
    found = set()
    for directive in event.get("_aws", {}).get("CloudWatchMetrics", []):
        namespace = directive.get("Namespace", "")
        for dimension_set in directive.get("Dimensions", []) or [[]]:
            dimensions = tuple(sorted((name, str(event.get(name, ""))) for name in dimension_set))
            for metric in directive.get("Metrics", []):
                found.add((namespace, metric.get("Name", ""), dimensions))
    return found


def read_log(text: str) -> FunctionLog:
    log = FunctionLog(bytes=len(text.encode("utf-8")))
    stored = []
    for line in text.split("\n"):  # not splitlines(): a log line may hold U+2028 in a string
        if not line.strip():
            continue
        if line.startswith("XRAY TraceId:"):  # part of the REPORT event before it
            stored.append(line)
            continue
        log.events += 1
        stored.append(" " * STORED_EVENT_OVERHEAD_BYTES + line)
        report = REPORT.match(line)
        if report:
            log.invocations += 1
            log.billed_ms += int(report["billed"])
            log.memory_mb = int(report["memory"])
            if report["init"]:
                log.cold_starts += 1
                log.init_ms += float(report["init"])
        elif line.startswith("{") and '"_aws"' in line:
            with contextlib.suppress(ValueError):  # a line that only looks like JSON
                log.metrics |= emf_metrics(json.loads(line))
    log.compressed_bytes = len(gzip.compress("\n".join(stored).encode("utf-8"), compresslevel=6)) if stored else 0
    return log


def log_sizes(log_dir: Path) -> dict[str, int]:
    """Each function log's size now (where a run's part starts)."""
    return {path.stem: path.stat().st_size for path in sorted(log_dir.glob("*.log"))}


def log_sizes_with_cpu(log_dir: Path) -> dict[str, int]:
    """Where a run's part starts in each log and each CPU file (`<function>.cpu` keys)."""
    sizes = log_sizes(log_dir)
    sizes.update({f"{p.name.removesuffix('.cpu.jsonl')}.cpu": p.stat().st_size for p in log_dir.glob("*.cpu.jsonl")})
    return sizes


def read_logs(log_dir: Path, since: dict[str, int] | None = None) -> dict[str, FunctionLog]:
    """Each function's log (`<function>.log`), and its CPU times, from the offsets `since`
    gives (log_sizes_with_cpu), default their start."""
    logs = {}
    for path in sorted(log_dir.glob("*.log")):
        with path.open("rb") as file:
            file.seek((since or {}).get(path.stem, 0))
            log = read_log(file.read().decode("utf-8", "replace"))
        cpu = cpu_path(path)
        if cpu.exists():
            with cpu.open("rb") as file:
                file.seek((since or {}).get(f"{path.stem}.cpu", 0))
                for line in file.read().decode().split("\n"):
                    with contextlib.suppress(ValueError, KeyError):
                        times = json.loads(line)
                        log.cpu_ms += times["cpu_ms"]
                        log.init_cpu_ms += times["init_cpu_ms"]
        logs[path.stem] = log
    return logs
