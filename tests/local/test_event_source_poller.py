"""EventSourcePoller: Lambda's SQS mapping semantics, on the emulator's queues, with a probe function.

The probe records every batch it gets (in a file) and reports as failed each record whose
body is "fail"; a body "raise" makes the whole invocation fail; "sleep" outlives the timeout.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError

from automation_local.aws.emulator import Emulator
from automation_local.lambda_.esm.poller import EventSourcePoller, MappingConfiguration
from automation_local.lambda_.functions import FunctionConfig
from automation_local.lambda_.sandbox import FunctionSandbox

PROBE = """
import json, os, time
def lambda_handler(event, context):
    bodies = [r["body"] for r in event["Records"]]
    with open(os.environ["PROBE_LOG"], "a") as log:
        log.write(json.dumps({"bodies": bodies, "pid": os.getpid(), "at": time.time()}) + "\\n")
    if "raise" in bodies:
        raise RuntimeError("the whole batch fails")
    if "sleep" in bodies:
        time.sleep(5)
    time.sleep(float(os.environ.get("PROBE_SECONDS", "0")))
    return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in event["Records"] if r["body"] == "fail"]}
"""


@pytest.fixture
def probe_code(tmp_path: Path) -> Path:
    code = tmp_path / "probe"
    code.mkdir()
    (code / "app.py").write_text(PROBE)
    return code


@pytest.fixture
def queue(emulator: Emulator) -> tuple[str, str]:
    """A fresh queue (url, arn) with a short visibility timeout."""
    sqs = emulator.client("sqs")
    url = sqs.create_queue(QueueName=f"probe-{uuid.uuid4().hex[:8]}", Attributes={"VisibilityTimeout": "30"})[
        "QueueUrl"
    ]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


Poll = Callable[..., EventSourcePoller]


@pytest.fixture
def poller(emulator: Emulator, queue: tuple[str, str], probe_code: Path, tmp_path: Path) -> Iterator[Poll]:
    started: list[EventSourcePoller] = []

    def start(
        batch_size: int = 10,
        window: int = 0,
        concurrency: int = 2,
        filters: dict[str, Any] | None = None,
        probe_seconds: float = 0.0,
        sqs_client: Callable[[], Any] | None = None,
    ) -> EventSourcePoller:
        configuration = MappingConfiguration(
            function_name="probe",
            queue_arn=queue[1],
            queue_url=queue[0],
            batch_size=batch_size,
            batching_window_seconds=window,
            filter_criteria=filters,
            reports_batch_item_failures=True,
            maximum_concurrency=concurrency,
            enabled=True,
        )
        environment = {"PROBE_LOG": str(tmp_path / "batches.jsonl"), "PROBE_SECONDS": str(probe_seconds)}
        running = EventSourcePoller(
            configuration,
            sqs_client=sqs_client or (lambda: emulator.client("sqs")),
            new_sandbox=lambda: FunctionSandbox(
                FunctionConfig("probe", "probe", probe_code, environment=environment, timeout_seconds=2, memory_mb=128)
            ),
            region=emulator.region,
        ).start()
        started.append(running)
        return running

    yield start
    for running in started:
        running.stop()


def send(emulator: Emulator, queue: tuple[str, str], *bodies: str) -> None:
    sqs = emulator.client("sqs")
    for start in range(0, len(bodies), 10):
        entries = [{"Id": str(i), "MessageBody": b} for i, b in enumerate(bodies[start : start + 10])]
        sqs.send_message_batch(QueueUrl=queue[0], Entries=entries)


def batches(tmp_path: Path) -> list[dict[str, Any]]:
    log = tmp_path / "batches.jsonl"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def wait_for(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.2)


def depth(emulator: Emulator, queue: tuple[str, str]) -> dict[str, int]:
    attributes = emulator.client("sqs").get_queue_attributes(
        QueueUrl=queue[0], AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return {
        "visible": int(attributes["ApproximateNumberOfMessages"]),
        "in_flight": int(attributes["ApproximateNumberOfMessagesNotVisible"]),
    }


def test_only_the_reported_failures_stay_in_the_queue(emulator: Emulator, queue: tuple[str, str], poller: Poll) -> None:
    # GIVEN five messages, two of which the function will report as failed
    send(emulator, queue, "ok", "fail", "ok", "fail", "ok")
    # WHEN the mapping delivers them
    running = poller(batch_size=10, window=1)
    wait_for(lambda: running.stats.as_dict()["deleted"] == 3)
    # THEN the three successes are deleted and the two failures wait for their visibility timeout
    stats = running.stats.as_dict()
    assert stats["reported_failures"] == 2 and stats["invocation_errors"] == 0
    assert depth(emulator, queue) == {"visible": 0, "in_flight": 2}


def test_an_invocation_error_leaves_the_whole_batch(
    emulator: Emulator, queue: tuple[str, str], poller: Poll, tmp_path: Path
) -> None:
    # GIVEN three messages, one of which makes the whole invocation fail
    send(emulator, queue, "ok", "raise", "ok")
    # WHEN the poller hands them to the function as one batch
    running = poller(batch_size=10, window=1)
    wait_for(lambda: running.stats.as_dict()["invocation_errors"] == 1)
    # THEN the invocation error is counted, nothing is deleted, and all three stay in flight
    # (to return when their visibility timeout ends)
    assert running.stats.as_dict()["deleted"] == 0
    assert depth(emulator, queue) == {"visible": 0, "in_flight": 3}


def test_a_timed_out_invocation_leaves_the_whole_batch(
    emulator: Emulator, queue: tuple[str, str], poller: Poll
) -> None:
    # GIVEN two messages, one of which makes the function outlive its timeout
    send(emulator, queue, "ok", "sleep")
    # WHEN the poller hands them to the function as one batch
    running = poller(batch_size=10, window=1)
    wait_for(lambda: running.stats.as_dict()["invocation_errors"] == 1)
    # THEN the timeout is counted as an invocation error, nothing is deleted, and both stay in flight
    assert running.stats.as_dict()["deleted"] == 0
    assert depth(emulator, queue)["in_flight"] == 2


def test_non_matching_messages_are_deleted_uninvoked_and_counted(
    emulator: Emulator, queue: tuple[str, str], poller: Poll, tmp_path: Path
) -> None:
    # GIVEN a filter that admits only JSON bodies of kind "wanted"
    filters = {"Filters": [{"Pattern": json.dumps({"body": {"kind": ["wanted"]}})}]}
    send(emulator, queue, json.dumps({"kind": "wanted"}), json.dumps({"kind": "other"}), "plain text")
    running = poller(batch_size=10, window=1, filters=filters)
    wait_for(lambda: running.stats.as_dict()["deleted"] == 3)
    # THEN the function saw only the match, the other two are gone and counted as filtered out
    assert [b["bodies"] for b in batches(tmp_path)] == [[json.dumps({"kind": "wanted"})]]
    assert running.stats.as_dict()["filtered_out"] == 2
    assert depth(emulator, queue) == {"visible": 0, "in_flight": 0}


def test_the_batching_window_gathers_up_to_the_batch_size(
    emulator: Emulator, queue: tuple[str, str], poller: Poll, tmp_path: Path
) -> None:
    # GIVEN a batch size of 15 (over one receive's 10) and a 2 s window, one poller
    running = poller(batch_size=15, window=2, concurrency=1)
    # WHEN 12 messages arrive in two bursts inside the window
    send(emulator, queue, *["ok"] * 6)
    time.sleep(0.5)
    send(emulator, queue, *["ok"] * 6)
    wait_for(lambda: running.stats.as_dict()["deleted"] == 12)
    # THEN they reach the function as one invocation
    assert [len(b["bodies"]) for b in batches(tmp_path)] == [12]


def test_at_most_maximum_concurrency_invocations_run_at_once(
    emulator: Emulator, queue: tuple[str, str], poller: Poll, tmp_path: Path
) -> None:
    # GIVEN a slow function (1 s per batch), batches of one, MaximumConcurrency 2
    running = poller(batch_size=1, window=0, concurrency=2, probe_seconds=1.0)
    send(emulator, queue, *["ok"] * 6)
    wait_for(lambda: running.stats.as_dict()["deleted"] == 6, timeout=30)
    # THEN two sandboxes served them, never more than two invocations overlapping
    logged = batches(tmp_path)
    assert len({b["pid"] for b in logged}) == 2
    starts = sorted(b["at"] for b in logged)
    assert all(later - earlier >= 0.9 for earlier, later in zip(starts, starts[2:], strict=False))


class FailingFirst:
    """An SQS client whose first `failures` ReceiveMessage calls fail as an endpoint that went
    away for longer than botocore's retries would fail them; the rest reach the emulator."""

    def __init__(self, sqs: Any, failures: int) -> None:
        self._sqs = sqs
        self.failures_left = failures

    def receive_message(self, **request: Any) -> Any:
        if self.failures_left > 0:
            self.failures_left -= 1
            raise EndpointConnectionError(endpoint_url="http://127.0.0.1:1")
        return self._sqs.receive_message(**request)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sqs, name)


def test_a_poller_outlives_emulator_errors_logs_and_counts_them(
    emulator: Emulator, queue: tuple[str, str], poller: Poll, caplog: pytest.LogCaptureFixture
) -> None:
    # GIVEN a mapping of two pollers whose first three receives each fail
    clients: list[FailingFirst] = []

    def failing_client() -> FailingFirst:
        clients.append(FailingFirst(emulator.client("sqs"), failures=3))
        return clients[-1]

    send(emulator, queue, "ok", "ok", "ok")
    # WHEN they poll
    with caplog.at_level("WARNING", logger="automation_local.lambda_.esm.poller"):
        running = poller(concurrency=2, sqs_client=failing_client)
        # THEN each backs off and keeps polling: the messages are delivered and deleted
        wait_for(lambda: running.stats.as_dict()["deleted"] == 3)
    # AND every failed step was counted and logged, and both pollers still run
    assert running.stats.as_dict()["poll_errors"] == 6
    assert sum("poll step failed (EndpointConnectionError" in r.getMessage() for r in caplog.records) == 6
    assert running.threads_alive == 2
