"""The emulator's IAM gate: with enforcement on, every AWS request is judged before any service
(or the counters behind it) sees it, refused with that service's own error, and its decision kept.

Why the judge is handed in rather than imported: the judging (automation_local/iam) reads the
template through cloudformation/, which deploys through this package, so an import here would make
the layers a cycle. The server is started with the judge's entry point by module path
(`python -m automation_local.aws.server --judge automation_local.iam.emulator_judge:judge_from`,
given by the runtime, which sits above both); the entry point is a function taking a JSON
configuration and returning a `Judge`. The runtime posts that configuration (the deployed stack's
resolved policies) once the stack exists:

    POST   /_emulator/iam             the configuration: from now on every request is judged
    GET    /_emulator/iam             the configuration judged with (`{}` before the POST): what a report reads
    GET    /_emulator/iam/decisions   {"decisions": [...], "refusals": [...]} (below)
    DELETE /_emulator/iam/decisions   starts the record again

Before the POST nothing is judged: the stack's deployment runs with the deployer's rights, as
CloudFormation's does. Without `--judge` the gate is not installed at all (enforcement off).

The record is what a least-privilege report needs, kept small over a long run: each distinct
(principal, action, resource, outcome, deciding statements) once, with a count; and the refused
requests themselves (who, which operation, the code and status answered), the last
MAX_REFUSALS_KEPT of them.

The emulator's requests arrive over loopback http, which counts as TLS (`aws:SecureTransport`
true: the clients reach AWS over https); a request carrying INSECURE_TRANSPORT_HEADER counts as
plain http, so a TLS-only statement can be shown to refuse it. The emulator's own endpoints
(`/_emulator/...`, `/moto-api/...`) are not AWS's APIs and are never judged.
"""

from __future__ import annotations

import importlib
import io
import json
import threading
import urllib.error
import urllib.request
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any, Protocol
from urllib.parse import quote

IAM_PATH = "/_emulator/iam"
DECISIONS_PATH = "/_emulator/iam/decisions"
UNJUDGED_PREFIXES = ("/_emulator/", "/moto-api")
INSECURE_TRANSPORT_HEADER = "X-Emulator-Insecure-Transport"
MAX_REFUSALS_KEPT = 1000

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WsgiApp = Callable[[Environ, StartResponse], Iterable[bytes]]


@dataclass(frozen=True)
class GateRequest:
    """A request as the judge reads it: `path` with its query, as the client sent it."""

    method: str
    path: str
    headers: Mapping[str, str]
    body: bytes
    secure_transport: bool


@dataclass(frozen=True)
class DecisionRecord:
    """One call a request needed, and how it was decided. `principal` None: a key no principal
    holds; `statements`: the statements that decided it (`Policy#Sid`)."""

    principal: str | None
    action: str
    resource: str
    outcome: str  # allowed, explicit-deny, implicit-deny, unknown-caller
    statements: tuple[str, ...] = ()


@dataclass(frozen=True)
class Refusal:
    """What to answer instead of the service: its error as AWS sends it."""

    code: str
    status_line: str
    headers: tuple[tuple[str, str], ...]
    body: bytes


@dataclass(frozen=True)
class Verdict:
    decisions: tuple[DecisionRecord, ...]
    refusal: Refusal | None = None
    service: str = ""
    operation: str = ""


class Judge(Protocol):
    def __call__(self, request: GateRequest) -> Verdict: ...


JudgeFactory = Callable[[Mapping[str, Any]], Judge]


def load_entry_point(spec: str) -> JudgeFactory:
    """`package.module:function` -> the function (the `--judge` argument)."""
    module, _, name = spec.partition(":")
    factory: JudgeFactory = getattr(importlib.import_module(module), name)
    return factory


def _headers(environ: Environ) -> dict[str, str]:
    headers = {key[5:].replace("_", "-").title(): value for key, value in environ.items() if key.startswith("HTTP_")}
    for key, name in (("CONTENT_TYPE", "Content-Type"), ("CONTENT_LENGTH", "Content-Length")):
        if environ.get(key):
            headers[name] = environ[key]
    return headers


def _read_body(environ: Environ) -> bytes:
    """The request's body, left for the service to read again (a chunked one has no length:
    the server marks its input as ending with the body)."""
    stream = environ["wsgi.input"]
    length = environ.get("CONTENT_LENGTH")
    body: bytes = stream.read(int(length)) if length else stream.read() if environ.get("wsgi.input_terminated") else b""
    environ["wsgi.input"] = io.BytesIO(body)
    return body


def _path(environ: Environ) -> str:
    """The path and query as sent (werkzeug keeps it in RAW_URI; PATH_INFO is percent-decoded)."""
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw:
        return str(raw)
    query = environ.get("QUERY_STRING", "")
    return quote(environ.get("PATH_INFO", "/")) + (f"?{query}" if query else "")


class IamGate:
    """WSGI middleware: judges each request with the configured judge (module docstring)."""

    def __init__(self, app: WsgiApp, judge_factory: JudgeFactory) -> None:
        self._app = app
        self._judge_factory = judge_factory
        self._judge: Judge | None = None
        self._configuration: Mapping[str, Any] = {}
        self._lock = threading.Lock()
        self._decisions: Counter[DecisionRecord] = Counter()
        self._refusals: deque[dict[str, Any]] = deque(maxlen=MAX_REFUSALS_KEPT)

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == IAM_PATH and environ["REQUEST_METHOD"] == "POST":
            return self._configure(environ, start_response)
        if path == IAM_PATH and environ["REQUEST_METHOD"] == "GET":
            return _json_answer(start_response, self._configuration)
        if path == DECISIONS_PATH:
            return self._answer_decisions(environ, start_response)
        judge = self._judge
        if judge is None or path.startswith(UNJUDGED_PREFIXES):
            return self._app(environ, start_response)
        body = _read_body(environ)
        headers = _headers(environ)
        insecure = headers.get(INSECURE_TRANSPORT_HEADER.title(), "").lower() == "true"
        verdict = judge(GateRequest(environ["REQUEST_METHOD"], _path(environ), headers, body, not insecure))
        self._record(verdict)
        if verdict.refusal is None:
            return self._app(environ, start_response)
        refusal = verdict.refusal
        start_response(refusal.status_line, list(refusal.headers))
        return [refusal.body]

    def _record(self, verdict: Verdict) -> None:
        with self._lock:
            self._decisions.update(verdict.decisions)
            if verdict.refusal is not None:
                refused = next((d for d in verdict.decisions if d.outcome != "allowed"), None)
                self._refusals.append(
                    {
                        "service": verdict.service,
                        "operation": verdict.operation,
                        "code": verdict.refusal.code,
                        "status": int(verdict.refusal.status_line.split()[0]),
                        **(asdict(refused) if refused else {}),
                    }
                )

    def _configure(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        configuration = json.loads(_read_body(environ))
        self._judge = self._judge_factory(configuration)
        self._configuration = configuration
        return _json_answer(start_response, {"judging": True})

    def _answer_decisions(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        with self._lock:
            if environ["REQUEST_METHOD"] == "DELETE":
                self._decisions.clear()
                self._refusals.clear()
            answer = {
                "judging": self._judge is not None,
                "decisions": [{**asdict(record), "count": count} for record, count in self._decisions.items()],
                "refusals": list(self._refusals),
            }
        return _json_answer(start_response, answer)


def _json_answer(start_response: StartResponse, document: Any) -> list[bytes]:
    body = json.dumps(document).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


# ---------------------------------------------------------------- for the emulator's owner


def configure(endpoint_url: str, configuration: Mapping[str, Any]) -> None:
    """Turns judging on in the emulator at `endpoint_url` (started with `--judge`)."""
    request = urllib.request.Request(  # noqa: S310 - the emulator's http URL
        f"{endpoint_url}{IAM_PATH}",
        data=json.dumps(configuration).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    refusal = f"the emulator at {endpoint_url} cannot enforce IAM: it was not started with a judge"
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:  # noqa: S310
            judging = json.loads(answer.read() or b"{}").get("judging")
    except (urllib.error.HTTPError, ValueError, AttributeError) as error:
        raise RuntimeError(refusal) from error
    if judging is not True:
        raise RuntimeError(refusal)


def configuration(endpoint_url: str) -> dict[str, Any]:
    """What the gate judges with (`{}`: not judging, or no gate: an emulator started without a judge)."""
    try:
        with urllib.request.urlopen(f"{endpoint_url}{IAM_PATH}", timeout=10) as answer:  # noqa: S310
            document = json.loads(answer.read())
    except (urllib.error.HTTPError, ValueError):
        return {}
    return dict(document) if isinstance(document, dict) else {}


def decisions(endpoint_url: str) -> dict[str, Any]:
    """What the gate recorded (module docstring)."""
    with urllib.request.urlopen(f"{endpoint_url}{DECISIONS_PATH}", timeout=10) as answer:  # noqa: S310
        return dict(json.loads(answer.read()))


def clear_decisions(endpoint_url: str) -> None:
    """Starts the record again."""
    request = urllib.request.Request(f"{endpoint_url}{DECISIONS_PATH}", method="DELETE")  # noqa: S310
    with urllib.request.urlopen(request, timeout=10):  # noqa: S310 - the emulator's http URL
        pass
