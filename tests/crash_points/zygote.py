"""A function's process, initialised once, that forks a fresh copy of itself per invocation.

The exploration kills an invocation at every call it makes, so it starts hundreds of them.
Importing a handler (boto3, Powertools, pydantic) takes a second or two; forking a process
that has done it takes milliseconds. The zygote is spawned clean (no threads, the
function's environment from the stack), imports the handler, and then for each invocation
forks: the child runs the handler with a kill switch (kill_switch.py) and reports its calls
and its response on a pipe, or dies; the zygote itself never invokes anything, so every
child starts as a cold sandbox would, after init (its caches empty, no connection open).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import sys
import threading
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from automation_local.lambda_.functions import FunctionConfig
from automation_local.lambda_.handler import LambdaContext, handler_of, load_handler_module
from tests.crash_points.kill_switch import KillSwitch

READY_TIMEOUT_SECONDS = 60.0
INVOCATION_TIMEOUT_SECONDS = 120.0


@dataclass
class Invocation:
    outcome: str  # "ok" (the handler returned), "error" (it raised) or "killed"
    response: Any = None
    error: str | None = None
    calls: list[str] = field(default_factory=list)  # the calls it completed, in order


def _run_child(handler: Any, request: dict[str, Any], report_fd: int) -> None:
    switch = KillSwitch(report_fd, request["kill_after"])
    try:
        switch.install()
        context = LambdaContext(function_name=request["function_name"], timeout_seconds=request["timeout_seconds"])
        switch.report({"response": handler(request["event"], context)})
    except BaseException as error:  # the handler's own failure: Lambda reports it as an invocation error
        switch.report({"error": f"{type(error).__name__}: {error}"})
    finally:
        os._exit(0)


def _invoke(handler: Any, request: dict[str, Any]) -> Invocation:
    if threading.active_count() != 1:  # forking with threads could copy a held lock
        raise RuntimeError("the zygote must stay single-threaded")
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        _run_child(handler, request, write_fd)
    os.close(write_fd)
    chunks = []
    while chunk := os.read(read_fd, 65536):
        chunks.append(chunk)
    os.close(read_fd)
    os.waitpid(pid, 0)
    invocation = Invocation("killed")
    for line in b"".join(chunks).decode().splitlines():
        reported = json.loads(line)
        if "call" in reported:
            invocation.calls.append(reported["call"])
        elif "response" in reported:
            invocation.outcome, invocation.response = "ok", reported["response"]
        else:
            invocation.outcome, invocation.error = "error", reported["error"]
    return invocation


def _serve(connection: Connection, config: FunctionConfig, log_path: str) -> None:
    log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(log, 1)
    os.dup2(log, 2)
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # a killed child loses no line
    os.environ.update(config.environment)
    handler = handler_of(config, load_handler_module(config))
    connection.send("ready")
    while (request := connection.recv()) is not None:
        connection.send(_invoke(handler, request))


class FunctionZygote:
    """`invoke(event, kill_after=N)`: one invocation in a fresh fork, killed after its N-th call."""

    def __init__(self, config: FunctionConfig, *, log_path: Path) -> None:
        self.function = config.name
        self.function_name = config.function_name
        context = multiprocessing.get_context("spawn")
        self._connection, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child, config, str(log_path)), daemon=True)
        self._process.start()
        child.close()
        if not self._connection.poll(READY_TIMEOUT_SECONDS) or self._connection.recv() != "ready":
            raise RuntimeError(f"{config.name} did not initialise; see {log_path}")

    def invoke(
        self, event: dict[str, Any], *, kill_after: int | None = None, timeout_seconds: float = 30.0
    ) -> Invocation:
        self._connection.send(
            {
                "event": event,
                "kill_after": kill_after,
                "timeout_seconds": timeout_seconds,
                "function_name": self.function_name,
            }
        )
        if not self._connection.poll(INVOCATION_TIMEOUT_SECONDS):
            raise TimeoutError(f"{self.function} invocation did not end in {INVOCATION_TIMEOUT_SECONDS} s")
        invocation: Invocation = self._connection.recv()
        return invocation

    def stop(self) -> None:
        self._connection.send(None)
        self._process.join(timeout=5)
        if self._process.is_alive():
            self._process.kill()
