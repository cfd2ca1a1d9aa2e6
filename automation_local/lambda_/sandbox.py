"""A function's execution environment: a child process with the function's own environment.

Like a Lambda sandbox, each holds one copy of the function's module-level state, runs
one invocation at a time, and is killed when an invocation outlives the function's
timeout (the next invocation then starts a fresh one: a cold start). Running each
function in its own process keeps their environments (service name, function name,
queue URLs) apart, as Lambda does.

The process is `python -m automation_local.lambda_.sandbox <fd>`, talking over one end of
a socket pair, rather than a multiprocessing child: a spawned child imports the parent's
main module first (the whole runtime, before the function's own imports, on every cold
start), and shares the terminal's process group, so a Ctrl-C interrupted sandboxes in the
middle of those imports. This one starts in a process group of its own (the runtime stops
it) and imports only this module; it ends when its end of the pair closes (the runtime
stopped it, or died).
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from automation_local.cost.lambda_logs import LambdaLogLines, cpu_path, killed_invocation_lines
from automation_local.lambda_.functions import FunctionConfig
from automation_local.lambda_.handler import LambdaContext, handler_of, load_handler_module

# Lambda gives a function's init (imports, module-level clients) 10 s of its own; an init
# that takes longer is retried at the first invocation, under the function's timeout. Here
# the same init goes on, within that timeout (a loaded machine can take over 10 s to import).
INIT_TIMEOUT_SECONDS = 10.0
# Pipe and pickling latency on top of the function's timeout before it counts as timed out.
RESPONSE_GRACE_SECONDS = 0.5
STOP_GRACE_SECONDS = 0.5


@dataclass
class Invocation:
    response: Any = None
    error: str | None = None  # Lambda's "errorMessage" when the function raised or timed out
    duration_ms: float = 0.0


def _serve(connection: Connection, config: FunctionConfig, log_path: str | None) -> None:
    # Lambda's own lines (INIT_START, START, END, REPORT) go to the log too (see cost/lambda_logs).
    lambda_lines = (
        LambdaLogLines(config.memory_mb, config.traced, cpu_file=cpu_path(Path(log_path))) if log_path else None
    )
    if log_path is not None:  # the function's log stream, as CloudWatch Logs would hold it
        log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(log, 1)
        os.dup2(log, 2)
    os.environ.update(config.environment)
    if lambda_lines:
        lambda_lines.init_started()
    try:
        handler = handler_of(config, load_handler_module(config))
    except Exception as error:  # Lambda's Runtime.ImportModuleError, HandlerNotFound and init errors
        connection.send(("error", f"Init error: {type(error).__name__}: {error}\n{traceback.format_exc()}"))
        return
    if lambda_lines:
        lambda_lines.init_done()
    connection.send(("ready", None))
    while True:
        try:
            request = connection.recv()
        except EOFError:  # the runtime is gone
            return
        if request is None:
            return
        event, fail_after_handler = request
        context = LambdaContext.of(config)
        if lambda_lines:
            lambda_lines.start(context.aws_request_id)
        try:
            response = handler(event, context)
            if fail_after_handler:  # an injected fault (see aws/fault_proxy): the response is lost
                raise RuntimeError("InjectedFault: the runtime failed after the handler returned")
            outcome = ("ok", response)
        except Exception as error:  # what Lambda reports as an invocation error
            outcome = ("error", f"{type(error).__name__}: {error}\n{traceback.format_exc()}")
        if lambda_lines:
            lambda_lines.end(context.aws_request_id)
        connection.send(outcome)


class FunctionSandbox:
    def __init__(
        self,
        config: FunctionConfig,
        *,
        log_path: Path | None = None,
        fails_after_handler: Callable[[], bool] | None = None,
    ) -> None:
        """`log_path`: where the function's output goes (default: this process's), with
        Lambda's own START/END/REPORT lines; `fails_after_handler`: asked before each
        invocation whether to fail it after its handler returns (an injected fault)."""
        self.config = config
        self.function = config.name
        self.timeout_seconds = config.timeout_seconds
        self._log_path = str(log_path) if log_path else None
        self._fails_after_handler = fails_after_handler
        self._process: subprocess.Popen[bytes] | None = None
        self.cold_starts = 0
        self._connection: Connection | None = None

    def _start(self) -> Connection | Invocation:
        """A new process with the function initialised, or the init's failure."""
        ours, theirs = socket.socketpair()
        with theirs:
            self._process = subprocess.Popen(  # noqa: S603 - fixed argv: this interpreter, this module
                [sys.executable, "-m", __name__, str(theirs.fileno())],
                pass_fds=(theirs.fileno(),),
                env={**os.environ, "PYTHONPATH": _python_path()},
                process_group=0,  # Ctrl-C in a terminal is the runtime's to handle, not the sandbox's
            )
        parent = Connection(ours.detach())
        parent.send((self.config, self._log_path))
        self._connection = parent
        self.cold_starts += 1
        if not parent.poll(INIT_TIMEOUT_SECONDS + self.timeout_seconds):
            self.stop()
            return self._failed(f"Init timed out after {INIT_TIMEOUT_SECONDS + self.timeout_seconds:.0f} seconds")
        try:
            outcome, value = parent.recv()
        except EOFError:
            outcome, value = "error", "Runtime exited during init without providing a reason"
        if outcome != "ready":
            self.stop()
            return Invocation(error=value)
        return parent

    def invoke(self, event: dict[str, Any]) -> Invocation:
        connection = self._connection or self._start()
        if isinstance(connection, Invocation):
            return connection
        started = time.monotonic()
        connection.send((event, bool(self._fails_after_handler and self._fails_after_handler())))
        if not connection.poll(self.timeout_seconds + RESPONSE_GRACE_SECONDS):
            self.stop()
            return self._failed(f"Task timed out after {self.timeout_seconds:.2f} seconds", started)
        try:
            outcome, value = connection.recv()
        except EOFError:  # the process died (out of memory, os._exit...)
            self.stop()
            return self._failed("Runtime exited without providing a reason", started)
        elapsed = (time.monotonic() - started) * 1000
        return (
            Invocation(response=value, duration_ms=elapsed)
            if outcome == "ok"
            else Invocation(error=value, duration_ms=elapsed)
        )

    def _failed(self, error: str, started: float | None = None) -> Invocation:
        """An invocation the runtime ended, written to the function's log as Lambda does."""
        log_path = self._log_path
        duration_ms = (time.monotonic() - started) * 1000 if started else 0.0
        if log_path:
            with open(log_path, "a") as log:
                if started is None:
                    log.write(f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())} {error}\n")
                else:  # the invocation was billed until the runtime ended it
                    log.write(killed_invocation_lines(duration_ms, self.config.memory_mb, error))
        return Invocation(error=error, duration_ms=duration_ms)

    def stop(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(OSError):  # already gone
                self._connection.send(None)
            self._connection.close()
            self._connection = None
        if self._process is not None:
            # Lambda freezes and discards sandboxes; nothing in one needs a graceful exit.
            try:
                self._process.wait(timeout=STOP_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None


def _python_path() -> str:
    """The runtime's own import path (what a multiprocessing child is given): this module
    and the project's import the same way there."""
    return os.pathsep.join(entry for entry in sys.path if entry)


def _main(fd: int) -> None:
    connection = Connection(fd)
    config, log_path = connection.recv()
    _serve(connection, config, log_path)


if __name__ == "__main__":
    _main(int(sys.argv[1]))
