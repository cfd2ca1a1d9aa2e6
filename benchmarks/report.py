"""The run's table (Markdown, for the terminal and the README) and bench/latest.json."""

from __future__ import annotations

import json
import os
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .registry import Figure


def machine() -> dict[str, Any]:
    cpu = next(
        (line.split(":", 1)[1].strip() for line in _lines("/proc/cpuinfo") if line.startswith("model name")),
        platform.processor() or "unknown",
    )
    memory_kb = next((int(line.split()[1]) for line in _lines("/proc/meminfo") if line.startswith("MemTotal")), 0)
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(memory_kb / 1024 / 1024, 1),
        "arch": platform.machine(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


def _lines(path: str) -> list[str]:
    try:
        return Path(path).read_text().splitlines()
    except OSError:
        return []


def _value(figure: Figure) -> str:
    if figure.value is None:
        return "-"
    return f"{figure.value:g}{' ' + figure.unit if figure.unit else ''}"


def table(figures: list[Figure], errors: dict[str, str]) -> str:
    rows = ["| figure | value | goal | | from |", "|---|---|---|---|---|"]
    for figure in figures:
        goal = str(figure.goal) if figure.goal else ""
        rows.append(f"| `{figure.key}` | {_value(figure)} | {goal} | {figure.status} | {figure.detail} |")
    for name, error in errors.items():
        rows.append(f"| `{name}` | - | | error | {error.splitlines()[-1] if error else ''} |")
    return "\n".join(rows)


def machine_line(info: dict[str, Any], mode: str) -> str:
    return (
        f"{mode} run on {info['cpu']} ({info['arch']}), {info['cores']} cores, {info['memory_gib']} GiB, "
        f"{info['os']}, Python {info['python']}, load average {info['load_average_1m']} at the start"
    )


def document(figures: list[Figure], errors: dict[str, str], notes: list[str], mode: str) -> dict[str, Any]:
    return {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "mode": mode,
        "machine": machine(),
        "interpreter": sys.version.split()[0],
        "figures": {
            f.key: {
                "value": f.value,
                "goal": str(f.goal) if f.goal else None,
                "status": f.status,
                "unit": f.unit,
                "detail": f.detail,
            }
            for f in figures
        },
        "errors": errors,
        "notes": notes,
    }


def write(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")
