"""The console's HTTP server on 127.0.0.1: the page (static/, plain HTML, CSS and JavaScript:
no build step) and the JSON API it reads and acts through.

    GET  /api/about                       the stack, its queue type and local URLs
    GET  /api/flow                        live figures per stage (flow.py)
    GET  /api/orders?limit=N              the latest orders and the count per status (a kept reading: orders.py)
    GET  /api/orders/<id>                 one order's page (404 if the table has no record)
    POST /api/orders                      the body, signed here, POSTed to the webhook
    GET  /api/sample-order?taskType=T     a valid order to start the form from
    POST /api/dead-letters/<queue>/peek   the `order` or `result` DLQ's messages (?again=1: peek anew)
    POST /api/dead-letters/<queue>/redrive
    GET  /api/cost                        the run's cost per million orders so far (cost model)

The POSTs act on the stack, so a page of another site must not be able to send them: they
need a header no cross-site form or simple fetch can set (`X-Console`), and every request's
Host must be this server's own address (a DNS-rebound name is refused), its Origin, if any,
this server's too (net/loopback_server.py). A look at a DLQ is one of them: it receives the
messages (made visible again at once), and each receive counts in a message's
ApproximateReceiveCount, so a page of another site that could load it would spend them.
"""

from __future__ import annotations

import json
import logging
import mimetypes
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from automation_local.console import actions, flow, orders
from automation_local.console.function_logs import MetricTotals
from automation_local.console.running import RunningBackbone
from automation_local.cost import run as cost_run
from automation_local.net.loopback_server import HttpReply, HttpRequest, LoopbackHttpServer, foreign_request_reason
from automation_local.ops.dead_letter_peek import DeadLetterPeek
from automation_local.ops.redrive import redrive_backbone
from automation_shared.contracts import TaskType
from automation_shared.order_records import FINAL_STATES, OrderRecords, OrderState

STATIC_DIR = Path(__file__).parent / "static"
ACTION_HEADER = "x-console"
LATEST_ORDERS = 50
COST_CACHE_SECONDS = 5.0
FAILED_STATES = {OrderState.ESCALATED.value, OrderState.DEAD_LETTERED.value, OrderState.REQUEUED.value}

log = logging.getLogger(__name__)


def _json(status: int, document: Any) -> HttpReply:
    return HttpReply(status, [("content-type", "application/json")], json.dumps(document).encode())


class ConsoleServer(LoopbackHttpServer):
    """`with ConsoleServer(runtime, site_url=...) as console:` serves `console.url` until the
    block ends. Its cost counts the usage from its start."""

    protocol_version = "HTTP/1.1"

    def __init__(self, backbone: RunningBackbone, *, site_url: str, port: int = 0) -> None:
        super().__init__(port=port, name="console")
        self.backbone = backbone
        self.site_url = site_url
        self.metrics = MetricTotals(backbone.log_dir)
        # Made once: boto3 clients are thread-safe, their creation from one session is not.
        self.sqs = backbone.emulator.client("sqs")
        self.dynamodb = backbone.emulator.client("dynamodb")
        self.records = OrderRecords(self.dynamodb, backbone.outputs.orders_table_name)
        self.orders = orders.OrdersReading.of(self.dynamodb, backbone.outputs.orders_table_name)
        self.dead_letters = {
            queue: DeadLetterPeek(self.sqs, backbone.outputs.queue_pair(queue)[0]) for queue in ("order", "result")
        }
        self._cost_mark = cost_run.mark_or_reason(backbone)
        self._cost: tuple[float, dict[str, Any]] = (0.0, {})
        self._cost_lock = threading.Lock()
        self._routes: list[tuple[str, str, Callable[[HttpRequest, list[str]], HttpReply]]] = [
            ("GET", "/api/about", self._about),
            ("GET", "/api/flow", lambda r, p: _json(200, flow.flow(self.backbone, self.sqs, self.metrics))),
            ("GET", "/api/orders", self._latest),
            ("POST", "/api/orders", self._submit),
            ("GET", "/api/orders/*", self._order),
            ("GET", "/api/sample-order", self._sample),
            ("POST", "/api/dead-letters/*/peek", self._dead_letters),
            ("POST", "/api/dead-letters/*/redrive", self._redrive),
            ("GET", "/api/cost", self._cost_so_far),
        ]

    # ------------------------------------------------------------------ dispatch
    def answer(self, request: HttpRequest) -> HttpReply:
        headers = {k.lower(): v for k, v in request.headers.items()}
        refusal = foreign_request_reason(self.url, headers.get("host"), headers.get("origin"))
        if refusal is not None:
            return _json(403, {"error": refusal})
        path = urlsplit(request.target).path
        if request.method == "GET" and not path.startswith("/api/"):
            return self._static(path)
        for method, pattern, route in self._routes:
            parts = _match(pattern, path)
            if method == request.method and parts is not None:
                if method == "POST" and ACTION_HEADER not in {k.lower() for k in request.headers}:
                    return _json(403, {"error": f"a console action needs the {ACTION_HEADER} header"})
                try:
                    return route(request, parts)
                except Exception as error:  # the page shows it; the server keeps serving
                    log.exception("console request %s %s failed", request.method, path)
                    return _json(500, {"error": f"{type(error).__name__}: {error}"})
        return _json(404, {"error": f"no {request.method} {path}"})

    def _static(self, path: str) -> HttpReply:
        name = "index.html" if path in ("/", "/index.html") else path.removeprefix("/static/")
        file = STATIC_DIR / name
        if "/" in name or not file.is_file():
            return _json(404, {"error": f"no {path}"})
        content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        return HttpReply(200, [("content-type", f"{content_type}; charset=utf-8")], file.read_bytes())

    # ------------------------------------------------------------------ routes
    def _about(self, request: HttpRequest, parts: list[str]) -> HttpReply:
        stack = self.backbone.stack
        assert stack is not None and self.backbone.http_api is not None
        return _json(
            200,
            {
                "stackName": stack.stack_name,
                "queueType": stack.queue_type,
                "webhookUrl": self.backbone.http_api.url + actions.ORDERS_PATH,
                "taskTypes": [t.value for t in TaskType],
            },
        )

    def _latest(self, request: HttpRequest, parts: list[str]) -> HttpReply:
        limit = int(_query(request).get("limit", LATEST_ORDERS))
        return _json(200, self.orders.latest(limit))

    def _order(self, request: HttpRequest, parts: list[str]) -> HttpReply:
        found = orders.page(self.records, self.backbone.log_dir, parts[0])
        if found is None:
            return _json(404, {"error": f"no status record of order {parts[0]}; a DLQ may hold it"})
        found["final"] = found["record"].get("status") in {s.value for s in FINAL_STATES}
        return _json(200, found)

    def _submit(self, request: HttpRequest, parts: list[str]) -> HttpReply:
        status, answer = actions.submit_order(self.backbone, request.body)
        return _json(200, {"webhookStatus": status, "webhookAnswer": answer})

    def _sample(self, request: HttpRequest, parts: list[str]) -> HttpReply:
        task_type = TaskType(_query(request).get("taskType", TaskType.TEXT_PROCESSING.value))
        return _json(200, actions.sample_order(task_type, self.site_url))

    def _dead_letters(self, request: HttpRequest, parts: list[str]) -> HttpReply:
        queue = parts[0]
        if queue not in self.dead_letters:
            return _json(404, {"error": f"no DLQ {queue!r}: order or result"})
        peek = self.dead_letters[queue]
        messages = peek.messages(again=_query(request).get("again") == "1")
        return _json(
            200,
            {
                "queue": queue,
                "queueUrl": peek.queue_url,
                "messages": [
                    {
                        "messageId": m.message_id,
                        "body": m.body,
                        "receiveCount": m.receive_count,
                        "sentAt": m.sent_at_ms,
                        "attributes": m.attributes,
                    }
                    for m in messages
                ],
            },
        )

    def _redrive(self, request: HttpRequest, parts: list[str]) -> HttpReply:
        if parts[0] not in self.dead_letters:
            return _json(404, {"error": f"no DLQ {parts[0]!r}: order or result"})
        # The redrive command's move; its journal in the run's log directory, and its last
        # receive waiting 1 s for stragglers rather than the command's 5 (the page waits on it).
        report = redrive_backbone(
            self.sqs, self.dynamodb, self.backbone.outputs, parts[0], self.backbone.log_dir, wait_seconds=1
        )
        return _json(200, report.__dict__)

    def _cost_so_far(self, request: HttpRequest, parts: list[str]) -> HttpReply:
        """The cost model's price of the usage since the console started, per million orders;
        computed at most every few seconds (it reads the logs and the meter)."""
        with self._cost_lock:
            at, cost = self._cost
            if time.monotonic() - at >= COST_CACHE_SECONDS:
                cost = self._price_usage()
                self._cost = (time.monotonic(), cost)
        return _json(200, cost)

    def _price_usage(self) -> dict[str, Any]:
        counts = self.orders.latest(0)
        ordered = counts["total"]
        if ordered == 0:
            return {"orders": 0}
        failed = sum(n for status, n in counts["byStatus"].items() if status in FAILED_STATES)
        if isinstance(self._cost_mark, str):
            return {"orders": ordered, "error": self._cost_mark}
        try:
            cost = cost_run.run_cost(self.backbone, self._cost_mark, orders=ordered, fail_rate=failed / ordered)
        except Exception as error:  # an emulator without the usage meter, say
            return {"orders": ordered, "error": f"{type(error).__name__}: {error}"}
        return {
            "orders": ordered,
            "perMillionOrders": cost["per_million_orders_total"],
            "byService": cost["per_million_orders"],
            "monthlyFixed": cost["monthly_fixed_total"],
            "region": cost["region"],
        }


def _query(request: HttpRequest) -> dict[str, str]:
    return {name: values[-1] for name, values in parse_qs(urlsplit(request.target).query).items()}


def _match(pattern: str, path: str) -> list[str] | None:
    """The path's parts where the pattern has `*`, or None if it does not match."""
    pattern_parts, path_parts = pattern.strip("/").split("/"), path.strip("/").split("/")
    if len(pattern_parts) != len(path_parts):
        return None
    captured = []
    for expected, actual in zip(pattern_parts, path_parts, strict=True):
        if expected == "*":
            if not actual:
                return None
            captured.append(actual)
        elif expected != actual:
            return None
    return captured
