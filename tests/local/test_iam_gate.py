"""The emulator's IAM gate (aws/iam_gate.py) as a WSGI middleware, with a judge of the test's own:
nothing judged before it is configured, a refused request never reaching the service, the
emulator's own endpoints never judged, and the decisions kept, counted, for a report."""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Mapping
from typing import Any

import pytest

from automation_local.aws.iam_gate import (
    DECISIONS_PATH,
    IAM_PATH,
    INSECURE_TRANSPORT_HEADER,
    DecisionRecord,
    GateRequest,
    IamGate,
    Refusal,
    Verdict,
)

pytestmark = pytest.mark.fast

SEND = DecisionRecord("arn:aws:iam::123456789012:role/r", "sqs:SendMessage", "arn:q", "allowed", ("R/P#Send",))
REFUSED_RECEIVE = DecisionRecord("arn:aws:iam::123456789012:role/r", "sqs:ReceiveMessage", "arn:q", "implicit-deny")
REFUSAL = Refusal("AccessDenied", "403 Forbidden", (("Content-Type", "application/x-amz-json-1.0"),), b'{"x": 1}')


class Service:
    """The app behind the gate: answers 200 and remembers what reached it."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        length = environ.get("CONTENT_LENGTH")
        self.bodies.append(environ["wsgi.input"].read(int(length)) if length else environ["wsgi.input"].read())
        start_response("200 OK", [])
        return [b"served"]


class Judge:
    """Refuses ReceiveMessage (by its X-Amz-Target), allows the rest; remembers what it judged."""

    def __init__(self, configuration: Mapping[str, Any]) -> None:
        self.configuration = configuration
        self.judged: list[GateRequest] = []

    def __call__(self, request: GateRequest) -> Verdict:
        self.judged.append(request)
        if request.headers.get("X-Amz-Target", "").endswith("ReceiveMessage"):
            return Verdict((REFUSED_RECEIVE,), REFUSAL, "sqs", "ReceiveMessage")
        return Verdict((SEND,), None, "sqs", "SendMessage")


def call(app: Any, method: str, path: str, body: bytes = b"", **headers: str) -> tuple[str, bytes]:
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path.split("?")[0],
        "QUERY_STRING": path.partition("?")[2],
        "RAW_URI": path,
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        **{f"HTTP_{name.upper()}": value for name, value in headers.items()},
    }
    status: list[str] = []
    answer = b"".join(app(environ, lambda line, _headers: status.append(line)))
    return status[0], answer


def gate() -> tuple[IamGate, Service, list[Judge]]:
    service, judges = Service(), []

    def factory(configuration: Mapping[str, Any]) -> Judge:
        judges.append(Judge(configuration))
        return judges[-1]

    return IamGate(service, factory), service, judges


def test_nothing_is_judged_until_the_gate_is_configured_then_every_request_is() -> None:
    # GIVEN a gate with no configuration posted yet
    app, service, judges = gate()
    # WHEN a request comes, then the configuration, then the same request
    before = call(app, "POST", "/", b"{}", X_AMZ_TARGET="AmazonSQS.SendMessage")
    configured = call(app, "POST", IAM_PATH, json.dumps({"policies": 1}).encode())
    after = call(app, "POST", "/", b'{"a": 1}', X_AMZ_TARGET="AmazonSQS.SendMessage")
    # THEN the first went straight to the service, the judge got the posted configuration,
    # and judged the second (its body intact for the service)
    assert before == after == ("200 OK", b"served")
    assert configured == ("200 OK", b'{"judging": true}')
    assert [judge.configuration for judge in judges] == [{"policies": 1}]
    assert [r.body for r in judges[0].judged] == [b'{"a": 1}']
    assert service.bodies == [b"{}", b'{"a": 1}']


def test_a_refused_request_gets_the_judge_s_error_and_never_reaches_the_service() -> None:
    # GIVEN a configured gate
    app, service, _ = gate()
    call(app, "POST", IAM_PATH, b"{}")
    # WHEN a request its judge refuses comes
    status, body = call(app, "POST", "/", b"{}", X_AMZ_TARGET="AmazonSQS.ReceiveMessage")
    # THEN the judge's error is the answer, and the service saw nothing
    assert (status, body) == ("403 Forbidden", b'{"x": 1}')
    assert service.bodies == []


def test_the_emulator_s_own_endpoints_are_never_judged() -> None:
    # GIVEN a configured gate
    app, _, judges = gate()
    call(app, "POST", IAM_PATH, b"{}")
    # WHEN the emulator's own endpoints are called (counters, clock, moto's API)
    for path in ("/_emulator/api-calls", "/_emulator/clock", "/moto-api/"):
        assert call(app, "GET", path)[0] == "200 OK"
    # THEN none of them was judged
    assert judges[0].judged == []


def test_decisions_are_kept_counted_with_each_refusal_and_cleared_on_delete() -> None:
    # GIVEN a configured gate that allowed two sends and refused one receive
    app, _, _ = gate()
    call(app, "POST", IAM_PATH, b"{}")
    for target in ("SendMessage", "SendMessage", "ReceiveMessage"):
        call(app, "POST", "/", b"{}", X_AMZ_TARGET=f"AmazonSQS.{target}")
    # WHEN its record is read, then cleared
    record = json.loads(call(app, "GET", DECISIONS_PATH)[1])
    cleared = json.loads(call(app, "DELETE", DECISIONS_PATH)[1])
    # THEN each distinct decision is there once with its count, the refusal with its code and status
    assert record["judging"] is True
    by_action = {d["action"]: (d["outcome"], d["count"], d["statements"]) for d in record["decisions"]}
    assert by_action == {
        "sqs:SendMessage": ("allowed", 2, ["R/P#Send"]),
        "sqs:ReceiveMessage": ("implicit-deny", 1, []),
    }
    [refusal] = record["refusals"]
    assert (refusal["operation"], refusal["code"], refusal["status"], refusal["action"]) == (
        "ReceiveMessage",
        "AccessDenied",
        403,
        "sqs:ReceiveMessage",
    )
    assert (cleared["decisions"], cleared["refusals"]) == ([], [])


def test_loopback_http_counts_as_tls_unless_the_request_is_marked_insecure() -> None:
    # GIVEN a configured gate
    app, _, judges = gate()
    call(app, "POST", IAM_PATH, b"{}")
    # WHEN one request comes plain and one marked insecure
    call(app, "POST", "/", b"{}")
    call(app, "POST", "/", b"{}", **{INSECURE_TRANSPORT_HEADER.replace("-", "_"): "true"})
    # THEN the judge sees the first as secure transport and the second not
    assert [r.secure_transport for r in judges[0].judged] == [True, False]


def test_the_judge_reads_the_path_and_query_as_sent() -> None:
    # GIVEN a configured gate
    app, _, judges = gate()
    call(app, "POST", IAM_PATH, b"{}")
    # WHEN an S3 request for a key with an escaped character comes
    call(app, "GET", "/bucket/a%20b?versionId=1")
    # THEN the judge reads the path as the client sent it, escapes and query kept
    assert judges[0].judged[0].path == "/bucket/a%20b?versionId=1"


def test_a_chunked_body_is_judged_and_still_reaches_the_service() -> None:
    # GIVEN a configured gate
    app, service, judges = gate()
    call(app, "POST", IAM_PATH, b"{}")
    # WHEN a request comes with a body of no stated length (chunked: the server ends its input there)
    environ = {
        "REQUEST_METHOD": "PUT",
        "PATH_INFO": "/bucket/key",
        "wsgi.input": io.BytesIO(b"chunked body"),
        "wsgi.input_terminated": True,
    }
    app(environ, lambda *_: None)
    # THEN the judge read the body, and the service read it too
    assert judges[0].judged[0].body == b"chunked body"
    assert service.bodies == [b"chunked body"]
