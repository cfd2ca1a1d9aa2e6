"""A function's execution environment: a child process with the function's own environment.

Like a Lambda sandbox, each holds one copy of the function's module-level state, runs
one invocation at a time, and is killed when an invocation outlives the function's
timeout (the next invocation then starts a fresh one: a cold start). Running each
function in its own process keeps their environments (service name, function name,
queue URLs) apart, as Lambda does.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import time
import traceback
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from .lambda_runtime import LambdaContext, load_handler_module


@dataclass
class Invocation:
    response: Any = None
    error: str | None = None  # Lambda's "errorMessage" when the function raised or timed out
    duration_ms: float = 0.0


def _serve(
    connection: Connection,
    function: str,
    code_dir: str,
    environment: dict[str, str],
    function_name: str,
    timeout_seconds: float,
    memory_mb: int,
) -> None:
    import os

    os.environ.update(environment)
    module = load_handler_module(function, Path(code_dir))
    while True:
        event = connection.recv()
        if event is None:
            return
        context = LambdaContext(
            function_name=function_name, timeout_seconds=timeout_seconds, memory_limit_in_mb=memory_mb
        )
        try:
            connection.send(("ok", module.lambda_handler(event, context)))
        except Exception as error:  # what Lambda reports as an invocation error
            connection.send(("error", f"{type(error).__name__}: {error}\n{traceback.format_exc()}"))


class FunctionSandbox:
    def __init__(
        self,
        function: str,
        code_dir: Path,
        environment: dict[str, str],
        *,
        function_name: str,
        timeout_seconds: float,
        memory_mb: int,
    ) -> None:
        self.function = function
        self._args = (function, str(code_dir), environment, function_name, timeout_seconds, memory_mb)
        self.timeout_seconds = timeout_seconds
        self._process: multiprocessing.process.BaseProcess | None = None
        self._connection: Connection | None = None

    def _start(self) -> Connection:
        context = multiprocessing.get_context("spawn")
        parent, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child, *self._args), daemon=True)
        self._process.start()
        self._connection = parent
        return parent

    def invoke(self, event: dict[str, Any]) -> Invocation:
        connection = self._connection or self._start()
        started = time.monotonic()
        connection.send(event)
        # The first invocation of a sandbox also waits for its init (imports, clients); one
        # second of grace covers that on top of the function's timeout.
        if not connection.poll(self.timeout_seconds + 1.0):
            self.stop()
            return Invocation(
                error=f"Task timed out after {self.timeout_seconds:.2f} seconds",
                duration_ms=(time.monotonic() - started) * 1000,
            )
        try:
            outcome, value = connection.recv()
        except EOFError:  # the process died (out of memory, os._exit...)
            self.stop()
            return Invocation(error="Runtime exited without providing a reason")
        elapsed = (time.monotonic() - started) * 1000
        return (
            Invocation(response=value, duration_ms=elapsed)
            if outcome == "ok"
            else Invocation(error=value, duration_ms=elapsed)
        )

    def stop(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(OSError):  # already gone
                self._connection.send(None)
            self._connection.close()
            self._connection = None
        if self._process is not None:
            self._process.join(timeout=2)
            if self._process.is_alive():
                self._process.kill()
                self._process.join()
            self._process = None
