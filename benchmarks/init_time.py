"""init_ratio.<function>: importing the handler module, against importing boto3 and creating a client.

Each sample is a fresh interpreter (`lambda_like`) that times one import of the module
Lambda imports at a cold start (the handler's, with the function folder, the layer and
the runtime's boto3 on the path). The reference is a module that only imports boto3 and
creates an SQS client, run in the same kind of interpreter with the same environment,
interleaved with the function's samples so both see the same machine load.

Fair to both sides: boto3 is the runtime's with its bytecode on both (as in Lambda);
the reference module gets bytecode exactly when the function's own module ships it
(compiled the same way), and neither side can write bytecode. The reference does not
get the layer on its path: a function needing only boto3 would not carry one.
Tracing is on as in Lambda (Tracing: Active): Powertools' Tracer patches at import.
"""

from __future__ import annotations

import py_compile
import statistics
import sys
from pathlib import Path

from .artifacts import BuiltFunction
from .context import Bench
from .lambda_like import path_argument, run_python
from .registry import Figure, Goal, measurement

GOAL = Goal("<=", 1.25)
RUNS, QUICK_RUNS = 9, 1  # the issue asks for at least 7
REFERENCE_MODULE = "bench_reference"
REFERENCE_SOURCE = 'import boto3\n\nsqs = boto3.client("sqs")\n'
# The timer: nothing but builtins before the import, so both sides start alike.
TIMER = (
    "import sys, time\n"
    "sys.path[0:0] = sys.argv[1].split(':')\n"
    "started = time.perf_counter()\n"
    "__import__(sys.argv[2])\n"
    "print(time.perf_counter() - started)\n"
)


def ships_bytecode(function: BuiltFunction) -> bool:
    cached = function.code_dir / "__pycache__" / f"{function.handler_module}.{sys.implementation.cache_tag}.pyc"
    return cached.is_file()


def reference_dir(bench: Bench, compiled: bool) -> Path:
    directory = bench.scratch / ("reference-pyc" if compiled else "reference-py")
    source = directory / f"{REFERENCE_MODULE}.py"
    if not source.exists():
        directory.mkdir(parents=True)
        source.write_text(REFERENCE_SOURCE)
        if compiled:  # as the artifact's own modules are compiled (see src/Makefile)
            py_compile.compile(str(source), invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    return directory


def _sample(bench: Bench, function: BuiltFunction, path: list[Path], module: str) -> float:
    output = run_python(bench.artifacts, function, ["-c", TIMER, path_argument(path), module], tracing=True)
    return float(output.strip().splitlines()[-1])


@measurement("init_ratio")
def init_ratio(bench: Bench) -> list[Figure]:
    artifacts = bench.artifacts
    runs = bench.runs(RUNS, QUICK_RUNS)
    figures = []
    for function in artifacts.functions.values():
        compiled = ships_bytecode(function)
        handler_path = artifacts.lambda_path(function)
        reference_path = [reference_dir(bench, compiled), artifacts.runtime_dir()]
        handler, reference = [], []
        for _ in range(runs):
            reference.append(_sample(bench, function, reference_path, REFERENCE_MODULE))
            handler.append(_sample(bench, function, handler_path, function.handler_module))
        handler_ms, reference_ms = statistics.median(handler) * 1000, statistics.median(reference) * 1000
        figures.append(
            Figure(
                f"init_ratio.{function.name}",
                round(handler_ms / reference_ms, 3),
                GOAL,
                detail=(
                    f"import {handler_ms:.0f} ms / boto3 + SQS client {reference_ms:.0f} ms "
                    f"(median of {runs}; bytecode shipped: {'yes' if compiled else 'no'})"
                ),
            )
        )
    return figures
