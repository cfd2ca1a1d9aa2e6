"""The emulator server's own middleware: DynamoDB writes answered one at a time (DynamoDB
applies a conditional write to an item atomically; moto does not lock), and no request a
page of another site sends (another Origin, or a DNS-rebound Host) reaching moto."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from automation_local.aws import server
from automation_local.aws.emulator import CREDENTIALS, Emulator
from automation_local.aws.server import AtomicDynamoDbWrites
from tests.processes import running


class SlowApp:
    """A WSGI app that takes 20 ms a request and records how many it handled at once."""

    def __init__(self) -> None:
        self.running = 0
        self.most_at_once = 0
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        with self._lock:
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
        time.sleep(0.02)
        with self._lock:
            self.running -= 1
        return [b"{}"]


def _request(target: str) -> dict[str, Any]:
    """A signed DynamoDB request as botocore sends it (the service is in the credential scope)."""
    return {
        "HTTP_X_AMZ_TARGET": target,
        "HTTP_AUTHORIZATION": "AWS4-HMAC-SHA256 Credential=testing/20261201/us-east-1/dynamodb/aws4_request, ...",
        "REQUEST_METHOD": "POST",
        "QUERY_STRING": "",
        "CONTENT_TYPE": "application/x-amz-json-1.0",
    }


def _concurrently(app: AtomicDynamoDbWrites, target: str) -> None:
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda _: app(_request(target), lambda *args: None), range(8)))


def test_dynamodb_writes_are_answered_one_at_a_time_and_other_calls_side_by_side() -> None:
    # GIVEN the middleware in front of an app that records its concurrency
    writes, reads = SlowApp(), SlowApp()
    # WHEN eight DynamoDB writes, and then eight reads, arrive at once
    _concurrently(AtomicDynamoDbWrites(writes), "DynamoDB_20120810.UpdateItem")
    _concurrently(AtomicDynamoDbWrites(reads), "DynamoDB_20120810.GetItem")
    # THEN the writes were handled one at a time, the reads together
    assert writes.most_at_once == 1
    assert reads.most_at_once > 1


class KindRecordingApp:
    """A WSGI app that takes 20 ms a request and records whether a read ran while a write did."""

    def __init__(self) -> None:
        self.writing = 0
        self.read_during_a_write = False
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        write = environ["HTTP_X_AMZ_TARGET"].endswith("UpdateItem")
        with self._lock:
            self.writing += write
            self.read_during_a_write |= not write and self.writing > 0
        time.sleep(0.02)
        with self._lock:
            self.writing -= write
        return [b"{}"]


def test_a_dynamodb_read_never_runs_while_a_write_does() -> None:
    # GIVEN the middleware in front of an app that records reads overlapping writes (moto's
    # UpdateItem of a new item adds its key before its attributes: a read in between saw an
    # order record without its status)
    app = KindRecordingApp()
    middleware = AtomicDynamoDbWrites(app)
    targets = ["DynamoDB_20120810.UpdateItem", "DynamoDB_20120810.BatchGetItem", "DynamoDB_20120810.GetItem"] * 8
    # WHEN writes and reads arrive at once
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda target: middleware(_request(target), lambda *args: None), targets))
    # THEN no read ran alongside a write
    assert not app.read_during_a_write


OWNER = """
import sys, time
from automation_local.aws.emulator import Emulator
emulator = Emulator().start()
print(emulator.pid, flush=True)
time.sleep(600)
"""


def test_an_emulator_whose_owner_is_killed_exits_by_itself() -> None:
    # GIVEN an emulator started by a process (in a process group of its own, so a kill of
    # its owner's group does not reach it)
    owner = subprocess.Popen(
        [sys.executable, "-c", OWNER],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert owner.stdout is not None
    emulator_pid = int(owner.stdout.readline())
    assert running(emulator_pid)
    # WHEN its owner is killed without stopping it
    owner.kill()
    owner.wait()
    # THEN the emulator exits within seconds
    deadline = time.monotonic() + 15
    while running(emulator_pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not running(emulator_pid)


@pytest.fixture(scope="module")
def guarded_emulator() -> Iterator[Emulator]:
    """An emulator of this module's own: a reset that got through would wipe it, not the session's."""
    with Emulator() as running_emulator:
        yield running_emulator


def _secret(emulator: Emulator) -> str:
    name = f"webhook-{uuid.uuid4().hex[:8]}"
    emulator.client("secretsmanager").create_secret(Name=name, SecretString="the-webhook-secret")
    return name


def _send(
    emulator: Emulator, method: str, path: str, headers: dict[str, str], body: bytes = b""
) -> tuple[int, dict[str, str], bytes]:
    """(status, headers by lower-case name, body) of one request, sent as a page's fetch would send it."""
    connection = http.client.HTTPConnection(emulator.host, emulator.port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers)
        answer = connection.getresponse()
        return answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read()
    finally:
        connection.close()


def _get_secret_value(emulator: Emulator, secret_name: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    """GetSecretValue signed as an SDK signs it (moto takes any credentials, so a page can
    sign one too), with `headers` (Origin, Host) added."""
    body = json.dumps({"SecretId": secret_name}).encode()
    request = AWSRequest(
        "POST",
        f"{emulator.endpoint_url}/",
        data=body,
        headers={"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "secretsmanager.GetSecretValue"},
    )
    credentials = Credentials(CREDENTIALS["aws_access_key_id"], CREDENTIALS["aws_secret_access_key"])
    SigV4Auth(credentials, "secretsmanager", emulator.region).add_auth(request)
    return _send(emulator, "POST", "/", {**dict(request.headers.items()), **headers}, body)


def test_a_page_of_another_site_can_neither_read_a_secret_nor_reset_the_emulator(guarded_emulator: Emulator) -> None:
    # GIVEN the webhook's secret in the emulator
    secret_name = _secret(guarded_emulator)
    evil = {"Origin": "http://evil.example"}
    # WHEN a page of another site asks for it (a signed fetch, and the preflight a browser sends
    # first), and posts a reset of the emulator
    read = _get_secret_value(guarded_emulator, secret_name, **evil)
    preflight = _send(
        guarded_emulator,
        "OPTIONS",
        "/",
        {**evil, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "x-amz-target"},
    )
    reset = _send(guarded_emulator, "POST", "/moto-api/reset", evil)
    # THEN each is refused before moto sees it, with no CORS header letting the page read an answer
    for status, headers, body in (read, preflight, reset):
        assert status == 403
        assert "access-control-allow-origin" not in headers
        assert b"the-webhook-secret" not in body
    # AND the emulator was not reset: the secret is still there
    secretsmanager = guarded_emulator.client("secretsmanager")
    assert secretsmanager.get_secret_value(SecretId=secret_name)["SecretString"] == "the-webhook-secret"


def test_a_request_for_another_host_is_refused(guarded_emulator: Emulator) -> None:
    # GIVEN the webhook's secret in the emulator
    secret_name = _secret(guarded_emulator)
    # WHEN it is asked for under another name (a site's DNS rebound to 127.0.0.1: its page is
    # then same-origin, so no Origin tells it apart)
    rebound = _get_secret_value(guarded_emulator, secret_name, Host=f"attacker.example:{guarded_emulator.port}")
    # THEN it is refused, naming the emulator's own address
    assert rebound[0] == 403
    assert guarded_emulator.endpoint_url in json.loads(rebound[2])["error"]


def test_the_emulators_own_clients_are_answered_with_no_cors_header(guarded_emulator: Emulator) -> None:
    # GIVEN the webhook's secret in the emulator
    secret_name = _secret(guarded_emulator)
    # WHEN it is read by an SDK (no Origin), and by a request naming the emulator's own origin
    by_sdk = guarded_emulator.client("secretsmanager").get_secret_value(SecretId=secret_name)
    own_origin = _get_secret_value(guarded_emulator, secret_name, Origin=guarded_emulator.endpoint_url)
    # THEN both are answered, and moto's global CORS is off: no answer carries a CORS header
    assert by_sdk["SecretString"] == json.loads(own_origin[2])["SecretString"] == "the-webhook-secret"
    assert own_origin[0] == 200
    assert not [name for name in own_origin[1] if name.startswith("access-control-")]


def test_the_server_refuses_to_serve_with_motos_global_cors_on(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN moto imported without MOTO_DISABLE_GLOBAL_CORS (its CORS on)
    monkeypatch.setattr(server.moto_settings, "DISABLE_GLOBAL_CORS", False)
    # WHEN the emulator's server is started
    # THEN it exits at once, saying what is missing, before it serves anything
    with pytest.raises(SystemExit) as exited:
        server.main(["-p", "0"])
    assert exited.value.code == 2
