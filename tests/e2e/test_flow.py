"""The whole flow on the local runtime, driven from outside: signed HTTP requests to the local
HTTP API, messages written to the queues, outcomes read from the table, queues, archive and
the stand-ins. Each test waits for the pollers; none calls a handler itself."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from automation_local.cli import main
from automation_local.demo.orders import WEB_TASK_TYPES, task_parameters
from automation_local.demo.side_effects import archived_results
from automation_local.demo_load import tracker_of
from automation_local.runtime import LocalRuntime
from automation_shared import limits
from automation_shared.contracts import TaskType

from .conftest import http, queue_depth, wait_for, wait_until_final

pytestmark = pytest.mark.slow


def order(task_type: TaskType, url: str | None = None, follow_up: str | None = "archive", **extra: object) -> dict:
    payload: dict = {"parameters": task_parameters(task_type)}
    if url:
        payload["url"] = url
    if follow_up:
        payload["configuration"] = {"followUpAction": follow_up}
    return {
        "orderId": str(uuid.uuid4()),
        "taskType": task_type.value,
        "userId": "user-e2e",
        "timestamp": "2026-11-25T10:00:00Z",
        "payload": payload,
        **extra,
    }


def archived_result(runtime: LocalRuntime, order_id: str) -> dict:
    assert runtime.stack is not None
    bucket = runtime.stack.outputs["ArchiveBucketName"]
    [result] = archived_results(runtime.emulator.client("s3"), bucket)[order_id]
    return result


def test_a_signed_order_goes_through_webhook_worker_feedback_and_one_requeue(runtime: LocalRuntime) -> None:
    # GIVEN an order for a page that fails the first time it is asked
    document = order(TaskType.URL_MONITORING, f"{runtime.site.base_url}/fail-once/{uuid.uuid4()}", follow_up="notify")
    # WHEN it is POSTed, signed, to the local HTTP API
    status, answer = http(runtime, "POST", "/orders", document)
    assert (status, answer) == (202, {"orderId": document["orderId"], "status": "queued"})
    # THEN the first attempt fails, feedback requeues it, the second succeeds and is notified
    states = wait_until_final(runtime, [document["orderId"]])
    assert states[document["orderId"]].status == "notified"
    assert states[document["orderId"]].retry_count == 1
    assert len(runtime.site.requests_to(document["payload"]["url"].removeprefix(runtime.site.base_url))) == 2
    notices = [r for r in runtime.integrations.telegram.requests if document["orderId"] in r.json()["text"]]
    assert len(notices) == 1 and notices[0].json()["text"].startswith("SUCCESS url-monitoring")
    # AND its status reads back through GET /orders/{orderId}
    status, record = http(runtime, "GET", f"/orders/{document['orderId']}")
    assert status == 200 and record["status"] == "notified" and record["retryCount"] == 1


def test_every_task_type_reaches_its_processor(runtime: LocalRuntime) -> None:
    # GIVEN one order of each task type, archived when done
    documents = [
        order(t, f"{runtime.site.base_url}/ok/{uuid.uuid4()}" if t in WEB_TASK_TYPES else None) for t in TaskType
    ]
    status, answer = http(runtime, "POST", "/orders", documents)
    assert status == 202 and [o["status"] for o in answer["orders"]] == ["queued"] * len(TaskType)
    # WHEN they have run
    states = wait_until_final(runtime, [d["orderId"] for d in documents])
    # THEN each was archived with a successful result of its own type
    for document in documents:
        assert states[document["orderId"]].status == "archived"
        result = archived_result(runtime, document["orderId"])
        assert (result["taskType"], result["status"]) == (document["taskType"], "success"), result


def test_an_unknown_task_type_written_to_the_queue_is_filtered_out_and_counted(runtime: LocalRuntime) -> None:
    worker_mapping = runtime.pollers["WorkerOrderQueueMapping"]
    before = worker_mapping.stats.as_dict()
    # GIVEN a message of a task type the mapping's filter does not admit, sent past the webhook
    stray = {**order(TaskType.TEXT_PROCESSING), "taskType": "fax-sending"}
    runtime.emulator.client("sqs").send_message(QueueUrl=runtime.outputs.order_queue_url, MessageBody=json.dumps(stray))
    # THEN the mapping deletes it without invoking the worker and counts it
    wait_for(lambda: worker_mapping.stats.as_dict()["filtered_out"] == before["filtered_out"] + 1, what="filtered")
    after = worker_mapping.stats.as_dict()
    assert after["invocations"] == before["invocations"]
    assert queue_depth(runtime, "order") == 0
    assert queue_depth(runtime, "order-dlq") == 0


def test_a_poison_record_fails_alone_reaches_the_dlq_after_max_receives_and_redrive_brings_it_back(
    runtime: LocalRuntime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert runtime.stack is not None
    worker_mapping = runtime.pollers["WorkerOrderQueueMapping"]
    before = worker_mapping.stats.as_dict()
    # GIVEN one batch of three valid orders and one the contract refuses
    valid = [order(TaskType.TEXT_PROCESSING) for _ in range(3)]
    poison = {**order(TaskType.TEXT_PROCESSING), "payload": "not an object"}
    runtime.emulator.client("sqs").send_message_batch(
        QueueUrl=runtime.outputs.order_queue_url,
        Entries=[{"Id": str(i), "MessageBody": json.dumps(d)} for i, d in enumerate([*valid, poison])],
    )
    # THEN the valid ones complete: only the poison record returns to the queue
    states = wait_until_final(runtime, [d["orderId"] for d in valid])
    assert {s.status for s in states.values()} == {"archived"}
    # AND after maxReceiveCount (3) receives, each reported as failed, it is in the DLQ
    max_receives = int(runtime.stack.parameters["OrderQueueMaxReceiveCount"])
    wait_for(lambda: queue_depth(runtime, "order-dlq") == 1, what="dead-lettered")
    assert worker_mapping.stats.as_dict()["reported_failures"] - before["reported_failures"] == max_receives
    assert tracker_of(runtime).states([poison["orderId"]])[poison["orderId"]].status == "dead-lettered"

    # WHEN an operator redrives the order DLQ with the command, against the emulator's endpoint
    for name, value in runtime.emulator.client_environment().items():
        monkeypatch.setenv(name, value)
    assert main(["redrive", "order", "--stack-name", runtime.stack.stack_name, "--journal-dir", str(tmp_path)]) == 0
    report = json.loads(capsys.readouterr().out.splitlines()[-1])
    # THEN the emulator's missing StartMessageMoveTask is said, and the message moved by hand
    assert report["method"] == "receive-send-delete" and report["moved"] == 1
    assert queue_depth(runtime, "order-dlq") == 0
    # AND the worker receives it again from its source queue
    failures = worker_mapping.stats.as_dict()["reported_failures"]
    wait_for(lambda: worker_mapping.stats.as_dict()["reported_failures"] > failures, timeout=20, what="redelivered")
    [journal] = tmp_path.iterdir()
    assert len(journal.read_text().splitlines()) == 1, "the journal is kept, with the message sent"


def test_a_body_over_the_webhook_limit_gets_413_and_enqueues_nothing(runtime: LocalRuntime) -> None:
    # GIVEN a signed order whose text makes the body 1.1 MB, over the webhook's 1 MiB (the
    # function's own limit: API Gateway's HTTP API would let up to 10 MB through)
    document = order(TaskType.TEXT_PROCESSING, follow_up=None)
    document["payload"]["parameters"] = {"text": "A sentence to count. " * 55_000}
    # WHEN it is POSTed through the local HTTP API server
    status, answer = http(runtime, "POST", "/orders", document)
    # THEN the answer is 413 with a problem saying the limit, and the order is nowhere
    assert status == 413
    assert answer["title"] == f"Body larger than {limits.REQUEST_BODY_MAX_BYTES} bytes" and answer["status"] == 413
    assert http(runtime, "GET", f"/orders/{document['orderId']}")[0] == 404


def test_a_result_too_large_for_a_message_is_archived_in_full_from_s3(runtime: LocalRuntime) -> None:
    # GIVEN a scraping order for a page whose result data is about 320 KB
    document = order(TaskType.PLAYWRIGHT_SCRAPING, f"{runtime.site.base_url}/large/{uuid.uuid4()}")
    # WHEN it goes through webhook, worker and feedback
    assert http(runtime, "POST", "/orders", document)[0] == 202
    assert wait_until_final(runtime, [document["orderId"]])[document["orderId"]].status == "archived"
    # THEN the archive holds the whole data (every long heading), read back from where the worker put it
    archived = archived_result(runtime, document["orderId"])
    assert "dataPointer" not in archived["result"]
    headings = archived["result"]["data"]["headings"]
    assert len(headings) == 20 and all(len(heading) > 16_000 for heading in headings)
    assert runtime.stack is not None
    payload = runtime.emulator.client("s3").head_object(
        Bucket=runtime.stack.outputs["ArchiveBucketName"], Key=f"payloads/{document['orderId']}/attempt-0.json"
    )
    assert payload["ContentLength"] > 256 * 1024


def test_unknown_routes_answer_404_like_api_gateway(runtime: LocalRuntime) -> None:
    # GIVEN the local HTTP API
    # WHEN signed requests are sent to a path and a method it has no route for
    # THEN each is answered 404 Not Found, as API Gateway answers
    assert http(runtime, "GET", "/nowhere") == (404, {"message": "Not Found"})
    assert http(runtime, "DELETE", "/orders") == (404, {"message": "Not Found"})
