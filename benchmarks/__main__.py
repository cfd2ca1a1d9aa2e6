"""`python -m benchmarks [--quick] [--build-dir DIR] [--output FILE]`: runs every measurement.

Exit status 1 when a measurement could not run (a goal missed is a figure, not an error).
"""

from __future__ import annotations

import argparse
import importlib
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path

from .context import Bench
from .registry import MEASUREMENTS, Figure
from .report import document, machine, machine_line, table, write

REPO_ROOT = Path(__file__).resolve().parent.parent
# Each module registers its measurements when imported; this order is the table's.
MODULES = (
    "init_time",
    "package_size",
    "worker_overhead",
    "io_batch",
    "local_runtime",
    "cost",
    "sqs_depth",
    "kms",
    "memory",
)
DEFAULT_OUTPUT = REPO_ROOT / "bench" / "latest.json"
DEFAULT_CHART = REPO_ROOT / "docs" / "cost-by-service.png"


def load_measurements() -> None:
    for name in MODULES:
        importlib.import_module(f"{__package__}.{name}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer runs: checks the bench works, figures are rough")
    parser.add_argument("--build-dir", type=Path, default=REPO_ROOT / ".aws-sam" / "build")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument(
        "--chart", type=Path, default=None, help="the cost chart (default docs/, or beside --output when given)"
    )
    parser.add_argument("--only", nargs="*", default=None, help="run only these measurements (by name)")
    args = parser.parse_args(argv)
    load_measurements()

    mode = "quick" if args.quick else "full"
    info = machine()
    figures: list[Figure] = []
    errors: dict[str, str] = {}
    scratch = Path(tempfile.mkdtemp(prefix="bench-"))
    try:
        chart = args.chart or (
            DEFAULT_CHART if args.output == DEFAULT_OUTPUT else args.output.with_name(DEFAULT_CHART.name)
        )
        bench = Bench(
            repo_root=REPO_ROOT,
            build_dir=args.build_dir.resolve(),
            scratch=scratch,
            quick=args.quick,
            output_dir=args.output.parent,
            chart=chart,
        )
        for entry in MEASUREMENTS:
            if args.only is not None and entry.name not in args.only:
                continue
            started = time.monotonic()
            try:
                figures += entry.run(bench)
            except Exception:  # reported in the table and latest.json; the others still run
                errors[entry.name] = traceback.format_exc()
            print(f"  {entry.name}: {time.monotonic() - started:.1f} s", file=sys.stderr)
        notes = sorted(set(bench.artifacts.notes)) if bench._artifacts else []
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    data = document(figures, errors, notes, mode)
    data["machine"]["load_average_1m"] = info["load_average_1m"]
    write(args.output, data)
    print(f"\n{machine_line(info, mode)}\n\n{table(figures, errors)}\n")
    for note in notes:
        print(f"note: {note}")
    for name, error in errors.items():
        print(f"\n{name} failed:\n{error}", file=sys.stderr)
    print(f"wrote {args.output}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
