"""The emulator server's own middleware: DynamoDB writes answered one at a time (DynamoDB
applies a conditional write to an item atomically; moto does not lock)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

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
