"""The stack's HTTP API on localhost: the template's `HttpApi` routes, served to the function
as API Gateway HTTP API payload format 2.0 events, so `curl` works against it.

Routes come from the `HttpApi` events of the template's functions (`Path`, `Method`, with
`{name}` path parameters). Like API Gateway: an unknown route answers 404
`{"message":"Not Found"}`; a function error answers 500 `{"message":"Internal Server
Error"}`; a response without `statusCode` is sent as a 200 JSON body. Each request takes an
idle sandbox of the function, or starts one while fewer than `max_concurrency` exist
(concurrent requests beyond that wait, where Lambda would throttle with a 503).
Not emulated: the stage's throttling limits (`ApiThrottling*` parameters).
"""

from __future__ import annotations

import base64
import contextlib
import json
import queue
import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from .http_events import http_api_event
from .sandbox import FunctionSandbox, Invocation


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # as in the template: /orders/{orderId}
    function: str  # logical id

    @property
    def route_key(self) -> str:
        return f"{self.method} {self.path}"

    def match(self, method: str, path: str) -> dict[str, str] | None:
        if method != self.method:
            return None
        pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(self.path))
        found = re.fullmatch(pattern, path)
        return found.groupdict() if found else None


def http_api_routes(template: dict[str, Any]) -> list[Route]:
    """Every `HttpApi` event of the SAM template's functions."""
    routes = []
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        for event in resource["Properties"].get("Events", {}).values():
            if event["Type"] == "HttpApi":
                routes.append(Route(event["Properties"]["Method"].upper(), event["Properties"]["Path"], logical_id))
    return routes


class SandboxPool:
    """Sandboxes of one function: an idle one serves, else a new one up to `max_size`."""

    def __init__(self, new_sandbox: Callable[[], FunctionSandbox], max_size: int) -> None:
        self._new_sandbox = new_sandbox
        self._idle: queue.SimpleQueue[FunctionSandbox] = queue.SimpleQueue()
        self._all: list[FunctionSandbox] = []
        self._lock = threading.Lock()
        self._max_size = max_size

    def invoke(self, event: dict[str, Any]) -> Invocation:
        sandbox = self._take()
        try:
            return sandbox.invoke(event)
        finally:
            self._idle.put(sandbox)

    def _take(self) -> FunctionSandbox:
        with contextlib.suppress(queue.Empty):
            return self._idle.get_nowait()
        with self._lock:
            if len(self._all) < self._max_size:
                sandbox = self._new_sandbox()
                self._all.append(sandbox)
                return sandbox
        return self._idle.get()

    def stop(self) -> None:
        with self._lock, ThreadPoolExecutor(max(1, len(self._all))) as stopping:
            list(stopping.map(FunctionSandbox.stop, self._all))


def _reply_of(invocation: Invocation) -> tuple[int, dict[str, str], bytes]:
    """An HTTP reply from a payload 2.0 response, as API Gateway builds it."""
    if invocation.error is not None:
        return 500, {"content-type": "application/json"}, b'{"message":"Internal Server Error"}'
    response = invocation.response
    if not (isinstance(response, dict) and "statusCode" in response):
        return 200, {"content-type": "application/json"}, json.dumps(response).encode()
    body = response.get("body") or ""
    raw = base64.b64decode(body) if response.get("isBase64Encoded") else body.encode()
    return int(response["statusCode"]), dict(response.get("headers") or {}), raw


@dataclass
class HttpApiRequest:
    """One request the API answered (what API Gateway bills and writes to its access log)."""

    route_key: str
    request_bytes: int
    status: int
    response_bytes: int


class HttpApiServer:
    """A threaded HTTP server on 127.0.0.1 in front of the functions' sandbox pools."""

    def __init__(self, routes: list[Route], pools: dict[str, SandboxPool], port: int = 0) -> None:
        self.routes = routes
        self.pools = pools
        self.answered: list[HttpApiRequest] = []  # every request a route matched, for the cost model
        self._answered_lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                status, headers, payload = server.handle(self.command, self.path, dict(self.headers), body)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="http-api", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> tuple[int, dict, bytes]:
        parts = urlsplit(target)
        for route in self.routes:
            parameters = route.match(method, parts.path)
            if parameters is not None:
                event = http_api_event(
                    method,
                    parts.path,
                    route_key=route.route_key,
                    path_parameters=parameters or None,
                    headers=headers,
                    body=body,
                    query=parts.query,
                )
                status, reply_headers, payload = _reply_of(self.pools[route.function].invoke(event))
                with self._answered_lock:
                    self.answered.append(HttpApiRequest(route.route_key, len(body), status, len(payload)))
                return status, reply_headers, payload
        return 404, {"content-type": "application/json"}, b'{"message":"Not Found"}'

    def start(self) -> HttpApiServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        for pool in self.pools.values():
            pool.stop()

    def __enter__(self) -> HttpApiServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
