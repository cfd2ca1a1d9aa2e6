"""What AWS would bill for each request the emulator answers, by caller: the usage meter.

A WSGI middleware in the emulator's server process (see server.py), beside the call
counter. It meters the callers named with a metered prefix: the function sandboxes of the
local runtime (`fn-<function>`) and the event source mapping pollers (`esm-<mapping>`);
everything else (the deployment, the demo load's own calls, its progress display and order
tracker) is not the backbone's and is only counted by the call counter.

A caller's name is its access key, or, for a key of a role's STS session, the session's name.
With IAM enforced (issue 20) the runtime gives each function and each mapping's pollers a
session of its execution role named as above, and their requests are signed with the
session's random key; the emulator's STS backend, in this process, knows which session holds
a key (`session_caller`). Read from moto, not from the IAM package that judges the requests:
this package sits below that one (tests/architecture), and the session's name is all the
meter needs.

For each metered request it records the call (`service:Action`) and its billing units:

- SQS: requests as billed, one per 64 KiB chunk of the payload (message bodies and
  attributes sent, or received), empty receives apart;
- DynamoDB: write and read request units from the sizes of the items, looked up in moto's
  own backend (this process holds it) before and after each write (see item_size);
- S3: PUT-class and GET-class requests and the bytes put; SNS: publishes per 64 KiB chunk;
- Secrets Manager: GetSecretValue calls by secret; SSM and KMS calls as counted.

    GET    /_emulator/usage   {"fn-worker": {"calls": {...}, "units": {...}}, ...}
    DELETE /_emulator/usage   starts again from zero
"""

from __future__ import annotations

import io
import json
import math
import re
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

from automation_local.aws.dynamodb_item_size import Item, item_size, read_units, write_units, write_units_of

USAGE_PATH = "/_emulator/usage"
FUNCTION_CALLER_PREFIX = "fn-"  # the access key of a function's sandbox: fn-worker
ESM_CALLER_PREFIX = "esm-"  # an event source mapping's pollers: esm-WorkerOrderQueueMapping
METERED_PREFIXES = (FUNCTION_CALLER_PREFIX, ESM_CALLER_PREFIX)
CHUNK_BYTES = 64 * 1024
ACCESS_KEY = re.compile(r"Credential=([^/]+)/[^/]+/([^/]+)/")
DYNAMODB_WRITES = ("PutItem", "UpdateItem", "DeleteItem")
LOCK_STRIPES = 64

Units = defaultdict[str, float]
Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WsgiApp = Callable[[Environ, StartResponse], Iterable[bytes]]


def chunks(payload_bytes: int) -> int:
    """Billed requests of one SQS or SNS request carrying this payload."""
    return max(1, math.ceil(payload_bytes / CHUNK_BYTES))


def sqs_message_bytes(message: dict[str, Any]) -> int:
    """A message's size as SQS counts it: body plus each attribute's name, type and value."""
    body = message.get("MessageBody", message.get("Body", ""))
    size = len(body.encode("utf-8"))
    for name, attribute in (message.get("MessageAttributes") or {}).items():
        value = attribute.get("StringValue") or attribute.get("BinaryValue") or ""
        size += len(name.encode()) + len(attribute.get("DataType", "").encode()) + len(str(value).encode())
    return size


class _Usage:
    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.units: Units = defaultdict(float)

    def as_dict(self) -> dict[str, dict[str, float]]:
        return {"calls": dict(sorted(self.calls.items())), "units": dict(sorted(self.units.items()))}


def session_caller(access_key_id: str) -> str | None:
    """The name of the emulator's STS session holding this access key (`fn-worker` for the worker's
    role session), None for a key no session holds. Runs in the emulator's process."""
    from moto.sts.models import sts_backends  # the emulator's process only: its backends

    for account_backends in list(sts_backends.values()):
        for backend in list(account_backends.values()):
            for assumed in list(backend.assumed_roles):
                if assumed.access_key_id == access_key_id:
                    return str(assumed.session_name)
    return None


def metered_caller(access_key_id: str, session_name_of: Callable[[str], str | None] = session_caller) -> str | None:
    """Whom a request signed with this key is metered for: the key itself if it names a metered
    caller, else the name of the role session holding it if that does; None: not metered."""
    if access_key_id.startswith(METERED_PREFIXES):
        return access_key_id
    session = session_name_of(access_key_id)
    return session if session is not None and session.startswith(METERED_PREFIXES) else None


def _moto_dynamodb(region: str) -> Any:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends[DEFAULT_ACCOUNT_ID][region]


class UsageMeter:
    """WSGI middleware: meters the requests of the metered callers; answers on USAGE_PATH."""

    def __init__(
        self,
        app: WsgiApp,
        api_call: Callable[[Environ], str],
        session_name_of: Callable[[str], str | None] = session_caller,
    ) -> None:
        self._app = app
        self._api_call = api_call
        self._session_name_of = session_name_of
        # Access key -> metered caller: a session's key keeps its name, so it is looked up once.
        self._callers: dict[str, str] = {}
        self._usage: defaultdict[str, _Usage] = defaultdict(_Usage)
        self._lock = threading.Lock()
        self._item_locks = [threading.Lock() for _ in range(LOCK_STRIPES)]

    # ------------------------------------------------------------------ WSGI
    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == USAGE_PATH:
            return self._answer(environ, start_response)
        scope = ACCESS_KEY.search(environ.get("HTTP_AUTHORIZATION", ""))
        caller = self._caller(scope.group(1)) if scope else None
        if scope is None or caller is None:
            return self._app(environ, start_response)
        region = scope.group(2)
        call = self._api_call(environ)
        service, _, action = call.partition(":")
        body = b""
        if service in ("sqs", "dynamodb", "sns", "secretsmanager"):
            body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            environ["wsgi.input"] = io.BytesIO(body)
        units: Units = defaultdict(float)  # halves too: eventually consistent reads
        try:
            if service == "dynamodb":
                answer = self._dynamodb(environ, start_response, region, action, body, units)
            elif service == "sqs":
                answer = self._sqs(environ, start_response, action, body, units)
            else:
                answer = self._app(environ, start_response)
                self._other(environ, service, action, body, units)
        finally:
            with self._lock:
                usage = self._usage[caller]
                usage.calls[call] += 1
                for name, value in units.items():
                    usage.units[name] += value
        return answer

    def _caller(self, access_key_id: str) -> str | None:
        known = self._callers.get(access_key_id)
        if known is not None:
            return known
        # Only metered callers are kept: the unmetered keys are few (the administrator's, Lambda's)
        # and a scan of the emulator's few sessions is cheap.
        caller = metered_caller(access_key_id, self._session_name_of)
        if caller is not None:
            self._callers[access_key_id] = caller
        return caller

    def _answer(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        with self._lock:
            if environ["REQUEST_METHOD"] == "DELETE":
                self._usage.clear()
            body = json.dumps({caller: usage.as_dict() for caller, usage in sorted(self._usage.items())}).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]

    def _buffered(self, environ: Environ, start_response: StartResponse) -> tuple[str, bytes]:
        """Calls moto and returns its status and whole body (small JSON answers only)."""
        status: list[str] = []

        def capture(status_line: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            status.append(status_line)
            return start_response(status_line, headers, exc_info)

        result = self._app(environ, capture)
        try:
            body = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        return (status[0] if status else "500"), body

    # ------------------------------------------------------------------ SQS
    def _sqs(
        self, environ: Environ, start_response: StartResponse, action: str, body: bytes, units: Units
    ) -> Iterable[bytes]:
        request = _json(body)
        if action != "ReceiveMessage":
            payload = 0
            if action == "SendMessage":
                payload = sqs_message_bytes(request)
            elif action == "SendMessageBatch":
                payload = sum(sqs_message_bytes(e) for e in request.get("Entries", []))
            units["sqs.requests"] += chunks(payload)
            units["sqs.payload_bytes"] += payload
            return self._app(environ, start_response)
        status, answer = self._buffered(environ, start_response)
        messages = _json(answer).get("Messages", []) if status.startswith("200") else []
        payload = sum(sqs_message_bytes(m) for m in messages)
        units["sqs.requests"] += chunks(payload)
        units["sqs.payload_bytes"] += payload
        units["sqs.received_messages"] += len(messages)
        if not messages:
            units["sqs.empty_receives"] += 1
        return [answer]

    # ------------------------------------------------------------------ DynamoDB
    def _item(self, region: str, table: str, key: Item) -> Item | None:
        try:
            found = _moto_dynamodb(region).get_item(table, key)
        except Exception:  # no such table or key schema: nothing stored there
            return None
        return found.to_json()["Attributes"] if found is not None else None

    def _key(self, region: str, table: str, attributes: Item) -> Item:
        try:
            schema = _moto_dynamodb(region).get_table(table)
        except Exception:
            return {}
        names = [n for n in (schema.hash_key_attr, schema.range_key_attr) if n]
        return {name: attributes[name] for name in names if name in attributes}

    def _item_lock(self, table: str, key: Item) -> threading.Lock:
        return self._item_locks[hash((table, json.dumps(key, sort_keys=True))) % LOCK_STRIPES]

    def _dynamodb(
        self,
        environ: Environ,
        start_response: StartResponse,
        region: str,
        action: str,
        body: bytes,
        units: Units,
    ) -> Iterable[bytes]:
        request = _json(body)
        if action in DYNAMODB_WRITES:
            table = request.get("TableName", "")
            key = request.get("Key") or self._key(region, table, request.get("Item", {}))
            with self._item_lock(table, key):
                before = self._item(region, table, key)
                status, answer = self._buffered(environ, start_response)
                after = self._item(region, table, key)
            condition_failed = b"ConditionalCheckFailed" in answer and not status.startswith("200")
            if status.startswith("200") or condition_failed:
                wru = write_units_of(action, before, after, condition_failed=condition_failed)
                units["dynamodb.write_units"] += wru
                units["dynamodb.writes"] += 1
                units["dynamodb.conditional_check_failures"] += int(condition_failed)
                units["dynamodb.item_bytes_written"] += max(item_size(before), item_size(after))
            return [answer]
        if action == "BatchWriteItem":
            sizes = []
            for table, requests in request.get("RequestItems", {}).items():
                for entry in requests:
                    if "PutRequest" in entry:
                        item = entry["PutRequest"]["Item"]
                        key = self._key(region, table, item)
                        sizes.append(max(item_size(item), item_size(self._item(region, table, key))))
                    else:
                        sizes.append(item_size(self._item(region, table, entry["DeleteRequest"]["Key"])))
            status, answer = self._buffered(environ, start_response)
            if status.startswith("200"):
                units["dynamodb.write_units"] += sum(write_units(s) for s in sizes)
                units["dynamodb.writes"] += len(sizes)
            return [answer]
        if action == "TransactWriteItems":
            sizes = []
            for entry in request.get("TransactItems", []):
                ((_kind, operation),) = entry.items()
                table = operation.get("TableName", "")
                key = operation.get("Key") or self._key(region, table, operation.get("Item", {}))
                sizes.append(max(item_size(operation.get("Item")), item_size(self._item(region, table, key))))
            status, answer = self._buffered(environ, start_response)
            units["dynamodb.write_units"] += sum(write_units(s, transactional=True) for s in sizes)
            units["dynamodb.writes"] += len(sizes)
            return [answer]
        status, answer = self._buffered(environ, start_response)
        if not status.startswith("200"):
            return [answer]
        if action == "GetItem":
            item = self._item(region, request.get("TableName", ""), request.get("Key", {}))
            units["dynamodb.read_units"] += read_units(item_size(item), consistent=bool(request.get("ConsistentRead")))
            units["dynamodb.reads"] += 1
        elif action == "BatchGetItem":
            for table, wanted in request.get("RequestItems", {}).items():
                consistent = bool(wanted.get("ConsistentRead"))
                for key in wanted.get("Keys", []):
                    size = item_size(self._item(region, table, key))
                    units["dynamodb.read_units"] += read_units(size, consistent=consistent)
                    units["dynamodb.reads"] += 1
        elif action in ("Query", "Scan"):
            items = _json(answer).get("Items", [])
            size = sum(item_size(i) for i in items)
            units["dynamodb.read_units"] += read_units(size, consistent=bool(request.get("ConsistentRead")))
            units["dynamodb.reads"] += len(items)
        return [answer]

    # ------------------------------------------------------------------ the rest
    def _other(self, environ: Environ, service: str, action: str, body: bytes, units: Units) -> None:
        if service == "s3":
            method = environ["REQUEST_METHOD"]
            if method in ("PUT", "POST", "COPY") or (method == "GET" and not _object_path(environ)):
                units["s3.put_class_requests"] += 1  # PUT, COPY, POST, LIST
                if method == "PUT":
                    units["s3.bytes_put"] += int(environ.get("CONTENT_LENGTH") or 0)
            elif method in ("GET", "HEAD"):
                units["s3.get_class_requests"] += 1
        elif service == "sns" and action in ("Publish", "PublishBatch"):
            form = parse_qs(body.decode("utf-8", "replace"))
            messages = [v for k, vs in form.items() if k == "Message" or k.endswith(".Message") for v in vs]
            payload = sum(len(m.encode("utf-8")) for m in messages)
            units["sns.publish_requests"] += chunks(payload)
            units["sns.publishes"] += max(1, len(messages))
        elif service == "secretsmanager" and action == "GetSecretValue":
            secret = _json(body).get("SecretId", "")
            units[f"secretsmanager.get_secret_value:{secret}"] += 1


def _object_path(environ: Environ) -> bool:
    """An S3 request on an object (/bucket/key), not on a bucket (a LIST is a GET on a bucket)."""
    return "/" in environ.get("PATH_INFO", "").strip("/")


def _json(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body or b"{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
