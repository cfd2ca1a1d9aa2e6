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
from typing import Any
from urllib.parse import urlsplit

from automation_local.apigateway.events import http_api_event
from automation_local.lambda_.sandbox import FunctionSandbox, Invocation
from automation_local.net.loopback_server import HttpReply, HttpRequest, LoopbackHttpServer


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


def _reply_of(invocation: Invocation) -> HttpReply:
    """An HTTP reply from a payload 2.0 response, as API Gateway builds it."""
    json_type = [("content-type", "application/json")]
    if invocation.error is not None:
        return HttpReply(500, json_type, b'{"message":"Internal Server Error"}')
    response = invocation.response
    if not (isinstance(response, dict) and "statusCode" in response):
        return HttpReply(200, json_type, json.dumps(response).encode())
    body = response.get("body") or ""
    raw = base64.b64decode(body) if response.get("isBase64Encoded") else body.encode()
    return HttpReply(int(response["statusCode"]), list((response.get("headers") or {}).items()), raw)


@dataclass
class HttpApiRequest:
    """One request the API answered (what API Gateway bills and writes to its access log)."""

    route_key: str
    request_bytes: int
    status: int
    response_bytes: int


class HttpApiServer(LoopbackHttpServer):
    """A threaded HTTP server on 127.0.0.1 in front of the functions' sandbox pools."""

    def __init__(self, routes: list[Route], pools: dict[str, SandboxPool], port: int = 0) -> None:
        super().__init__(port=port, name="http-api")
        self.routes = routes
        self.pools = pools
        self.answered: list[HttpApiRequest] = []  # every request a route matched, for the cost model
        self._answered_lock = threading.Lock()

    def answer(self, request: HttpRequest) -> HttpReply:
        parts = urlsplit(request.target)
        for route in self.routes:
            parameters = route.match(request.method, parts.path)
            if parameters is not None:
                event = http_api_event(
                    request.method,
                    parts.path,
                    route_key=route.route_key,
                    path_parameters=parameters or None,
                    headers=request.headers,
                    body=request.body,
                    query=parts.query,
                )
                reply = _reply_of(self.pools[route.function].invoke(event))
                with self._answered_lock:
                    self.answered.append(
                        HttpApiRequest(route.route_key, len(request.body), reply.status, len(reply.body))
                    )
                return reply
        return HttpReply(404, [("content-type", "application/json")], b'{"message":"Not Found"}')

    def stop(self) -> None:
        super().stop()
        for pool in self.pools.values():
            pool.stop()
