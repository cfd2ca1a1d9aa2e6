"""Moving time forward, for the emulator and for the process that runs the functions, together.

Why: what the backbone does over time (visibility timeouts, SQS delays and retention, the
FIFO deduplication window, backoffs of 30 s to 15 min, leases in epoch milliseconds, the
webhook's signature window, the 7 days a stored result is kept) takes minutes to days, and a
test that waited for it would wait that long, or shorten every duration and so test other
settings than the stack's. Instead both clocks that decide it move forward by one offset:

- the emulator's server process (moto reads `datetime.now` for every SQS and DynamoDB
  timestamp, sqs_index.py reads moto's clock): `POST /_emulator/clock {"offsetSeconds": N}`
  sets its offset from the real time (`GET` answers the offset), wired into server.py;
- the process running the handlers (tests load them in process: tests/functions/handlers.py),
  whose `time.time()` and `datetime.now()` sign, check and expire things: `OffsetClock`.

Both use time-machine, which replaces the C functions behind `time.time`, `datetime.now` and
the like, so every module's clock moves, whichever way it imported it; `time.monotonic` is left
alone, so deadlines, timeouts and locks keep real time. The offset only grows (a message
stamped in the future would stay invisible), and a clock keeps running after it moved.
`SharedClock` moves both sides at once: what a test uses.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any

import time_machine

CLOCK_PATH = "/_emulator/clock"

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WsgiApp = Callable[[Environ, StartResponse], Iterable[bytes]]


class OffsetClock:
    """This process's wall clock, `offset_seconds` ahead of the real one (0: not travelling)."""

    def __init__(self) -> None:
        self.offset_seconds = 0.0
        self._travel: time_machine.travel | None = None
        self._traveller: time_machine.Traveller | None = None
        self._lock = threading.Lock()

    def set(self, offset_seconds: float) -> None:
        with self._lock:
            destination = _real_time() + offset_seconds
            if self._traveller is None:
                self._travel = time_machine.travel(destination, tick=True)
                self._traveller = self._travel.start()
            else:
                self._traveller.move_to(destination)
            time.time()  # a traveller's clock runs from its first read: from now
            self.offset_seconds = offset_seconds

    def stop(self) -> None:
        with self._lock:
            if self._travel is not None:
                self._travel.stop()
            self._travel = self._traveller = None
            self.offset_seconds = 0.0


def _real_time() -> float:
    hatch = time_machine.escape_hatch
    return hatch.time.time() if hatch.is_travelling() else time.time()


_PROCESS_CLOCK = OffsetClock()


class ClockEndpoint:
    """WSGI middleware of the emulator server: answers CLOCK_PATH, passes the rest on."""

    def __init__(self, app: WsgiApp) -> None:
        self._app = app

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != CLOCK_PATH:
            return self._app(environ, start_response)
        if environ["REQUEST_METHOD"] == "POST":
            try:
                request = json.loads(environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0)))
                offset = float(request["offsetSeconds"])
            except (ValueError, KeyError, TypeError) as invalid:
                reason = f"expected {{'offsetSeconds': N}}: {invalid}"
                return _answer(start_response, "400 Bad Request", {"message": reason})
            _PROCESS_CLOCK.set(offset)
        return _answer(start_response, "200 OK", {"offsetSeconds": _PROCESS_CLOCK.offset_seconds})


def _answer(start_response: StartResponse, status: str, document: dict[str, Any]) -> Iterable[bytes]:
    body = json.dumps(document).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def install(app: WsgiApp) -> Any:
    """`app` answering CLOCK_PATH too (the emulator server's). (Any: the server assigns the
    result over its moto app, as sqs_index.install's.)"""
    return ClockEndpoint(app)


def set_emulator_offset(endpoint_url: str, offset_seconds: float) -> None:
    """The emulator server's clock `offset_seconds` ahead of the real time."""
    request = urllib.request.Request(  # noqa: S310 - the emulator's http URL
        f"{endpoint_url}{CLOCK_PATH}",
        data=json.dumps({"offsetSeconds": offset_seconds}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10):  # noqa: S310
        pass


class SharedClock:
    """The emulator's clock and this process's, one offset ahead of the real time:
    `with SharedClock(emulator.endpoint_url) as clock: clock.advance(300)`. On exit both run
    on real time again."""

    def __init__(self, endpoint_url: str) -> None:
        self._endpoint_url = endpoint_url
        self._local = OffsetClock()

    @property
    def offset_seconds(self) -> float:
        return self._local.offset_seconds

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("time only moves forward (a message stamped later would stay invisible)")
        offset = self.offset_seconds + seconds
        set_emulator_offset(self._endpoint_url, offset)
        self._local.set(offset)

    def __enter__(self) -> SharedClock:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._local.stop()
        set_emulator_offset(self._endpoint_url, 0)
