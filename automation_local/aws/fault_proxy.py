"""Faults the local runtime can inject, to show that no order is lost when AWS misbehaves.

The functions' AWS calls go through `FaultProxy`, a real HTTP proxy in front of the
emulator (their `AWS_ENDPOINT_URL` names it), so the functions run unchanged and meet
the faults exactly as AWS would hand them out:

- `sqs-send-error`: a SendMessage or SendMessageBatch call refused with `KmsThrottled`
  (what SQS answers when the queue's KMS key is throttled), an error the SDK does not
  retry, so the function's own handling is what saves the message;
- `sqs-partial-batch`: a SendMessageBatch call in which some entries fail (the rest are
  sent): HTTP 200 with `Failed` entries, which the SDK never retries;
- `throttle`: any AWS call answered with its service's throttling error (JSON
  `ThrottlingException`, SNS `Throttling`, S3 `SlowDown`), which the SDK retries with
  backoff until its attempts run out;
- `handler-error`: an invocation whose handler ran, then the runtime failed before the
  response got back (decided by the sandbox): the poller sees an invocation error and
  every record of the batch returns to the queue after its visibility timeout, however
  far its work had gone.

Each rate is the probability per call (per invocation for `handler-error`); counts of the
faults dealt are kept for the run's summary.
"""

from __future__ import annotations

import http.client
import json
import random
import threading
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field

from automation_local.net.loopback_server import HttpReply, HttpRequest, LoopbackHttpServer

FAULT_NAMES = ("sqs-send-error", "sqs-partial-batch", "throttle", "handler-error")
SQS_SEND_TARGETS = {"AmazonSQS.SendMessage", "AmazonSQS.SendMessageBatch"}
# Headers that belong to one connection, not to the request being forwarded.
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


@dataclass
class FaultPlan:
    """Which faults to deal and how often; thread-safe, deterministic for one seed when
    calls arrive in the same order."""

    rates: dict[str, float] = field(default_factory=dict)
    seed: int = 0
    dealt: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        unknown = set(self.rates) - set(FAULT_NAMES)
        if unknown:
            raise ValueError(f"unknown fault(s) {sorted(unknown)}; known: {', '.join(FAULT_NAMES)}")
        self._random = random.Random(self.seed)  # noqa: S311 - repeatable faults, not a secret
        self._lock = threading.Lock()

    @classmethod
    def parse(cls, specs: list[str], seed: int = 0) -> FaultPlan:
        """From `name=rate` strings, as the run command's `--fault` options give them."""
        rates = {}
        for spec in specs:
            name, _, rate = spec.partition("=")
            rates[name] = float(rate or "0.1")
            if not 0 <= rates[name] <= 1:
                raise ValueError(f"{spec}: the rate is a probability between 0 and 1")
        return cls(rates, seed)

    def strikes(self, name: str) -> bool:
        """Whether this call gets fault `name`; counted when it does."""
        rate = self.rates.get(name, 0.0)
        if rate <= 0:
            return False
        with self._lock:
            hit = self._random.random() < rate
            if hit:
                self.dealt[name] += 1
        return hit

    def failing_entries(self, ids: list[str]) -> list[str]:
        """A random non-empty subset of a batch's entry ids, all of them at most."""
        with self._lock:
            count = self._random.randint(1, len(ids))
            chosen = self._random.sample(ids, count)
            self.dealt["sqs-partial-batch-failed-entries"] += count
        return chosen

    def counts(self) -> dict[str, int]:
        with self._lock:
            return dict(self.dealt)


def _throttling(target: str | None, content_type: str) -> HttpReply:
    """The throttling error of the request's protocol, as botocore parses it."""
    if target:  # JSON protocols: SQS, DynamoDB, SSM, Secrets Manager, KMS...
        body = json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded (injected)"}).encode()
        return HttpReply(400, [("Content-Type", "application/x-amz-json-1.0")], body)
    if content_type.startswith("application/x-www-form-urlencoded"):  # query protocol: SNS
        body = (
            b"<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code>"
            b"<Message>Rate exceeded (injected)</Message></Error><RequestId>injected</RequestId></ErrorResponse>"
        )
        return HttpReply(400, [("Content-Type", "text/xml")], body)
    body = b"<Error><Code>SlowDown</Code><Message>Please reduce your request rate. (injected)</Message></Error>"
    return HttpReply(503, [("Content-Type", "application/xml")], body)  # S3 (REST-XML)


def _kms_throttled() -> HttpReply:
    body = json.dumps({"__type": "com.amazonaws.sqs#KmsThrottled", "message": "KMS throttled (injected)"}).encode()
    headers = [("Content-Type", "application/x-amz-json-1.0"), ("x-amzn-query-error", "KmsThrottled;Sender")]
    return HttpReply(400, headers, body)


class FaultProxy(LoopbackHttpServer):
    """`with FaultProxy(emulator_url, plan) as proxy:` forwards every request to the
    emulator on `proxy.url`, dealing the plan's faults on the way."""

    protocol_version = "HTTP/1.1"  # keep-alive, as the SDK expects

    def __init__(self, upstream_url: str, plan: FaultPlan) -> None:
        super().__init__(name="fault-proxy")
        parsed = urllib.parse.urlsplit(upstream_url)
        self._upstream = (parsed.hostname or "127.0.0.1", parsed.port or 80)
        self.plan = plan

    def answer(self, request: HttpRequest) -> HttpReply:
        return self.handle(request.method, request.target, request.headers, request.body)

    def handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> HttpReply:
        target = headers.get("X-Amz-Target")
        if self.plan.strikes("throttle"):
            return _throttling(target, headers.get("Content-Type", ""))
        if target in SQS_SEND_TARGETS and self.plan.strikes("sqs-send-error"):
            return _kms_throttled()
        if target == "AmazonSQS.SendMessageBatch" and self.plan.strikes("sqs-partial-batch"):
            return self._partly_failed_batch(method, path, headers, body)
        return self._forward(method, path, headers, body)

    def _partly_failed_batch(self, method: str, path: str, headers: dict[str, str], body: bytes) -> HttpReply:
        request = json.loads(body)
        failing = set(self.plan.failing_entries([entry["Id"] for entry in request["Entries"]]))
        failed = [
            {"Id": i, "SenderFault": False, "Code": "InternalError", "Message": "injected partial failure"}
            for i in sorted(failing)
        ]
        kept = [entry for entry in request["Entries"] if entry["Id"] not in failing]
        if not kept:
            answer = {"Successful": [], "Failed": failed}
            return HttpReply(200, [("Content-Type", "application/x-amz-json-1.0")], json.dumps(answer).encode())
        forwarded = self._forward(method, path, headers, json.dumps({**request, "Entries": kept}).encode())
        if forwarded.status != 200:
            return forwarded
        answer = json.loads(forwarded.body)
        answer["Failed"] = answer.get("Failed", []) + failed
        return HttpReply(200, forwarded.headers, json.dumps(answer).encode())

    def _forward(self, method: str, path: str, headers: dict[str, str], body: bytes) -> HttpReply:
        connection = http.client.HTTPConnection(*self._upstream, timeout=120)
        try:
            forwarded_headers = {k: v for k, v in headers.items() if k.lower() not in HOP_BY_HOP}
            forwarded_headers["Host"] = f"{self._upstream[0]}:{self._upstream[1]}"
            forwarded_headers["Content-Length"] = str(len(body))
            connection.request(method, path, body=body, headers=forwarded_headers)
            response = connection.getresponse()
            answer = response.read()
            kept = [(k, v) for k, v in response.getheaders() if k.lower() not in HOP_BY_HOP]
            return HttpReply(response.status, kept, answer)
        finally:
            connection.close()
