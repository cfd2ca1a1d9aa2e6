"""What the console reads in the functions' logs (`<log dir>/<function>.log`, the log streams
the sandboxes write): the EMF metrics the functions emit, summed (CloudWatch would make
them metrics), and the structured lines of one order, found by its correlation id.
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from pathlib import Path
from typing import Any

LOG_SUFFIX = ".log"
EMF_MARK = b'"_aws"'


def _metric_values(event: dict[str, Any]) -> dict[str, float]:
    """Each metric of one EMF event with its value (Powertools writes a list when a metric
    was added more than once in an invocation)."""
    totals: defaultdict[str, float] = defaultdict(float)
    for directive in event.get("_aws", {}).get("CloudWatchMetrics", []):
        for metric in directive.get("Metrics", []):
            value = event.get(metric.get("Name"))
            values = value if isinstance(value, list) else [value]
            totals[metric["Name"]] += sum(v for v in values if isinstance(v, int | float))
    return totals


class MetricTotals:
    """The sum of each EMF metric in the logs so far, read on from where the last look stopped."""

    def __init__(self, log_dir: Path) -> None:
        self._log_dir = log_dir
        self._offsets: dict[Path, int] = {}
        self._totals: dict[str, defaultdict[str, float]] = {}  # function -> metric -> sum
        self._lock = threading.Lock()

    def totals(self) -> dict[str, dict[str, float]]:
        """Function (short name) -> metric name -> its sum."""
        with self._lock:
            for path in sorted(self._log_dir.glob(f"*{LOG_SUFFIX}")):
                self._read_on(path)
            return {function: dict(metrics) for function, metrics in self._totals.items()}

    def _read_on(self, path: Path) -> None:
        with path.open("rb") as log:
            log.seek(self._offsets.get(path, 0))
            text = log.read()
        complete = text[: text.rfind(b"\n") + 1]  # a line being written is read next time
        self._offsets[path] = self._offsets.get(path, 0) + len(complete)
        totals = self._totals.setdefault(path.name.removesuffix(LOG_SUFFIX), defaultdict(float))
        for line in complete.splitlines():
            if line.startswith(b"{") and EMF_MARK in line:
                try:
                    values = _metric_values(json.loads(line))
                except ValueError:
                    continue  # a line that only looks like EMF
                for name, value in values.items():
                    totals[name] += value


def lines_of(log_dir: Path, ids: set[str]) -> list[dict[str, Any]]:
    """The structured log lines whose `correlation_id` or `order_id` is one of `ids`, each with
    the function that wrote it, in time order."""
    found: list[dict[str, Any]] = []
    needles = [i.encode() for i in ids if i]
    for path in sorted(log_dir.glob(f"*{LOG_SUFFIX}")):
        function = path.name.removesuffix(LOG_SUFFIX)
        with path.open("rb") as log:
            for line in log:
                if not line.startswith(b"{") or not any(n in line for n in needles):
                    continue
                try:
                    event = json.loads(line)
                except ValueError:
                    continue
                if isinstance(event, dict) and ({event.get("correlation_id"), event.get("order_id")} & ids):
                    found.append({"function": function, **event})
    return sorted(found, key=lambda e: str(e.get("timestamp", "")))
