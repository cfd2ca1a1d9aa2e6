"""The emulator's server process: moto's own WSGI app, served as `python -m moto.server`
serves it, behind a middleware that counts the API calls it answers.

The count is what an AWS bill or a CloudTrail log would show (calls by service and action,
retries included), taken where every client meets: the server. Counting here, not in the
clients, leaves the functions' code and their boto3 untouched. moto's request recorder
is not used for it: it appends every request's headers and body to a file, from many
server threads at once, which is far more than a count and not safe to parse under load.

    GET    /_emulator/api-calls   {"sqs:SendMessageBatch": 12, "s3:PUT": 3, ...}
    DELETE /_emulator/api-calls   starts the count again from zero

Inside it, the usage meter (usage_meter.py) prices the requests of the local runtime's
functions and pollers: `GET /_emulator/usage`.

(S3 bucket names cannot start with `_`, so the path is no bucket's.)

In front of all of it, what keeps the browser's pages out (the console's rule:
net/loopback_server.py, `foreign_request_reason`): moto accepts any credentials, so a
request any page of any site can send to 127.0.0.1 could read the webhook's secret
(GetSecretValue) or wipe the emulator (`POST /moto-api/reset`). A request for another Host
(a DNS-rebound name) or from another Origin is answered 403 before moto, or the counts, see
it. And moto's global CORS (on by default: `Access-Control-Allow-Origin: *` on every answer)
is off, as the clients here are SDKs, which need none: moto reads `MOTO_DISABLE_GLOBAL_CORS`
once, when moto.settings is first imported, so it must be in the environment the process
starts with (Emulator.start puts it there); main() refuses to serve without it.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import re
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from urllib.parse import parse_qs

from moto import settings as moto_settings
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import run_simple

from automation_local.aws import clock, dynamodb_item_limit, iam_gate, sqs_index
from automation_local.aws.usage_meter import UsageMeter
from automation_local.net.loopback_server import foreign_request_reason

API_CALLS_PATH = "/_emulator/api-calls"
# moto's switch, read when moto.settings is imported (any value but empty turns its CORS off).
DISABLE_CORS_VARIABLE = "MOTO_DISABLE_GLOBAL_CORS"
# `Credential=<key>/<date>/<region>/<service>/aws4_request` in a SigV4 Authorization header.
CREDENTIAL_SERVICE = re.compile(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/aws4_request")
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WsgiApp = Callable[[Environ, StartResponse], Iterable[bytes]]


def api_call(environ: Environ) -> str:
    """`service:Action` of a request: the action from `X-Amz-Target` (JSON protocols, SQS's
    included) or the `Action` parameter (query protocols); REST APIs (S3, Lambda) have no
    action name, so their HTTP method stands for it."""
    scope = CREDENTIAL_SERVICE.search(environ.get("HTTP_AUTHORIZATION", ""))
    service = scope.group(1) if scope else "unsigned"
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return f"{service}:{target.rsplit('.', 1)[-1]}"
    action = parse_qs(environ.get("QUERY_STRING", "")).get("Action")
    if not action and environ.get("CONTENT_TYPE", "").startswith(FORM_CONTENT_TYPE):
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(body)  # moto reads the body again
        action = parse_qs(body.decode("utf-8", "replace")).get("Action")
    return f"{service}:{action[0] if action else environ['REQUEST_METHOD']}"


class ApiCallCounter:
    """WSGI middleware: counts each request by `api_call` and answers on API_CALLS_PATH."""

    def __init__(self, app: WsgiApp) -> None:
        self._app = app
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()  # the server answers each request on its own thread

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == API_CALLS_PATH:
            return self._answer(environ, start_response)
        call = api_call(environ)
        with self._lock:
            self._counts[call] += 1
        return self._app(environ, start_response)

    def _answer(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        with self._lock:
            if environ["REQUEST_METHOD"] == "DELETE":
                self._counts.clear()
            body = json.dumps(dict(sorted(self._counts.items()))).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]


# DynamoDB applies a conditional write to an item atomically; moto evaluates the condition
# and then writes, with no lock, so two server threads writing one item at once could both
# pass a condition only one of them may pass (two invocations both claiming one attempt).
# And moto's UpdateItem of a new item adds the key first and its attributes after, so a read
# in between saw an item with no attributes (an order record without its status), which
# DynamoDB never shows: reads wait for a write in progress, and run side by side otherwise.
DYNAMODB_WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}
DYNAMODB_READS = {"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems"}


class _SharedOrExclusive:
    """A readers-writer lock (the standard library has none): any number of readers at once,
    or one writer; a waiting writer holds new readers back, so a stream of reads cannot starve it."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._readers = 0
        self._writing = False
        self._writers_waiting = 0

    @contextlib.contextmanager
    def shared(self) -> Iterator[None]:
        with self._changed:
            self._changed.wait_for(lambda: not self._writing and not self._writers_waiting)
            self._readers += 1
        try:
            yield
        finally:
            with self._changed:
                self._readers -= 1
                self._changed.notify_all()

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[None]:
        with self._changed:
            self._writers_waiting += 1
            self._changed.wait_for(lambda: not self._writing and not self._readers)
            self._writers_waiting -= 1
            self._writing = True
        try:
            yield
        finally:
            with self._changed:
                self._writing = False
                self._changed.notify_all()


class AtomicDynamoDbWrites:
    """WSGI middleware: DynamoDB writes are answered one at a time, as DynamoDB serialises
    the writes of an item, and reads never alongside one (one lock for every table here:
    the emulator is one process)."""

    def __init__(self, app: WsgiApp) -> None:
        self._app = app
        self._lock = _SharedOrExclusive()

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        service, _, action = api_call(environ).partition(":")
        if service != "dynamodb" or action not in DYNAMODB_WRITES | DYNAMODB_READS:
            return self._app(environ, start_response)
        with self._lock.exclusive() if action in DYNAMODB_WRITES else self._lock.shared():
            return list(self._app(environ, start_response))


class RefuseForeignRequests:
    """WSGI middleware: a request whose Host is not `own_url`'s address, or whose Origin is
    another site's, is answered 403 with no CORS header, and goes no further."""

    def __init__(self, app: WsgiApp, own_url: str) -> None:
        self._app = app
        self._own_url = own_url

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        refusal = foreign_request_reason(self._own_url, environ.get("HTTP_HOST"), environ.get("HTTP_ORIGIN"))
        if refusal is None:
            return self._app(environ, start_response)
        body = json.dumps({"error": refusal}).encode()
        start_response("403 Forbidden", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]


def _exit_with(parent_pid: int) -> None:
    """Ends this process once `parent_pid` has gone (killed without stopping its emulator):
    the emulator runs in a process group of its own, so nothing else would end it."""

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(1)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m automation_local.aws.server", description=__doc__)
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, required=True)
    parser.add_argument("--parent-pid", type=int, help="exit when this process (the one that started it) is gone")
    parser.add_argument(
        "--judge", metavar="MODULE:FUNCTION", help="enforce IAM with this judge's entry point (see iam_gate.py)"
    )
    args = parser.parse_args(argv)
    if not moto_settings.DISABLE_GLOBAL_CORS:
        parser.error(
            f"{DISABLE_CORS_VARIABLE}=true must be in the environment it starts with (moto reads it on import)"
        )
    if args.parent_pid:
        _exit_with(args.parent_pid)
    # What `python -m moto.server` sets up before serving (moto reads MOTO_PORT for URLs it
    # builds, and a SIGTERM ends the server cleanly).
    os.environ.setdefault("MOTO_PORT", str(args.port))
    signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(0))
    signal.signal(signal.SIGINT, lambda _signum, _frame: sys.exit(0))
    dynamodb_item_limit.install()  # an item's size after an update, as DynamoDB checks it
    moto_app = DomainDispatcherApplication(create_backend_app)
    moto_app.debug = True  # type: ignore[attr-defined]  # as moto.server: errors answered with their traceback
    moto_app = sqs_index.install(moto_app)  # SQS queues indexed: a receive's cost independent of depth
    moto_app = clock.install(moto_app)  # POST /_emulator/clock: time moved forward for tests (clock.py)
    # The meter sizes a DynamoDB write's item before and after it: inside the lock too.
    app: WsgiApp = ApiCallCounter(AtomicDynamoDbWrites(UsageMeter(moto_app, api_call)))
    if args.judge:  # a refused request reaches neither a service nor the counters (iam_gate.py)
        app = iam_gate.IamGate(app, iam_gate.load_entry_point(args.judge))
    run_simple(
        args.host,
        args.port,
        RefuseForeignRequests(app, f"http://{args.host}:{args.port}"),
        threaded=True,
        request_handler=MotoRequestHandler,
    )


if __name__ == "__main__":
    main()
