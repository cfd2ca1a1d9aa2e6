"""A threaded HTTP server on a loopback address, answering every request through one method.

The stand-ins for the outside world, the local HTTP API and the fault proxy in front of the
emulator are all this shape: a real HTTP server (so clients use their own HTTP stack, as
they would against the real thing) whose subclass only says how to answer. The standard
library's server is enough: nothing here needs more than loopback traffic.

A loopback address does not keep a browser's pages out: any site the user opens can send
requests to 127.0.0.1, and a name of its own that its DNS points at 127.0.0.1 makes its page
same-origin with the server (DNS rebinding). `foreign_request_reason` is the rule a server
with something to protect applies to every request (the console's server, the emulator's):
its Host must be the server's own address, and an Origin, when the browser sends one, the
server's own too. Checked before anything is answered, it holds for a simple request too,
whose effect happens whether or not a CORS header lets its page read the answer.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
# stop() waits for the serving loop to look at its shutdown flag, which it does between
# polls: the standard library's 0.5 s made every stop (each test's server, Ctrl-C) take that long.
POLL_SECONDS = 0.05  # 20 wake-ups a second per server: nothing next to the emulator's work


def foreign_request_reason(own_url: str, host: str | None, origin: str | None) -> str | None:
    """Why a request reaching the server at `own_url` (`http://127.0.0.1:<port>`) must be
    refused, or None if it is its own: `host` (the Host header) names another address, or
    `origin` (the Origin header, absent from requests no page sent) is another site's,
    `null` (a sandboxed or local page) included."""
    if host != own_url.removeprefix("http://"):
        return f"this server answers at {own_url} only, not for Host {host!r}"
    if origin is not None and origin != own_url:
        return f"this server answers no page of another origin ({origin!r})"
    return None


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


@dataclass
class HttpReply:
    status: int
    headers: Sequence[tuple[str, str]] = ()
    body: bytes = b""


@dataclass
class HttpRequest:
    method: str
    target: str  # the request target as sent: path and query
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


class LoopbackHttpServer:
    """`with Subclass(...) as server:` serves `server.url` until the block ends; a subclass
    answers in `answer(request)`. `protocol_version`: HTTP/1.1 keeps connections alive (what
    the AWS SDK expects of an endpoint); HTTP/1.0 closes each one."""

    protocol_version = "HTTP/1.0"

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, name: str = "loopback-http") -> None:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = server.protocol_version

            def _serve(self) -> None:
                request = HttpRequest(self.command, self.path, dict(self.headers.items()), self._body())
                reply = server.answer(request)
                self.send_response(reply.status)
                for name, value in reply.headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                if self.command != "HEAD":
                    with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client gave up
                        self.wfile.write(reply.body)

            def _body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    chunks = []
                    while size := int(self.rfile.readline().split(b";")[0], 16):
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                    while self.rfile.readline() not in (b"\r\n", b""):  # trailers
                        pass
                    return b"".join(chunks)
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def log_message(self, format: str, *args: Any) -> None:
                return  # the servers' users keep their own records

        for method in METHODS:
            setattr(Handler, f"do_{method}", Handler._serve)
        stopping = self._stopping = threading.Event()

        class Server(ThreadingHTTPServer):
            def handle_error(self, request: Any, client_address: Any) -> None:
                # A request still being answered when the server stops (Ctrl-C) fails as what
                # it calls stops under it: that is the stop, not an error worth a traceback.
                if not stopping.is_set():
                    super().handle_error(request, client_address)

        self._server = Server((host, port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": POLL_SECONDS}, name=name, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def answer(self, request: HttpRequest) -> HttpReply:
        raise NotImplementedError

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
