"""A loopback HTTP server that answers every GET after a fixed delay (the io_batch target).

Bound to 127.0.0.1 on a free port, one thread per connection, stopped by its context
manager; it serves only the requests the benchmark's own batches make.
"""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

BODY = b"slow but fine\n"


class _Handler(BaseHTTPRequestHandler):
    delay_seconds = 0.2

    def do_GET(self) -> None:
        time.sleep(self.delay_seconds)
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64  # the default backlog of 5 drops the batch's 10 connects (1 s SYN retry)


class SlowServer:
    def __init__(self, delay_seconds: float) -> None:
        handler = type("Handler", (_Handler,), {"delay_seconds": delay_seconds})
        self._server = _Server(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/status"

    def __enter__(self) -> SlowServer:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
