"""Runs the built worker on batches of 10 orders inside a Lambda-like interpreter (a probe).

Started by `benchmarks.worker_runs` as `python -S -E -B worker_batch.py <settings.json>`.
SQS and DynamoDB are `benchmarks.fakes`, reached through real boto3 clients; tasks are
either processors that return at once ("instant") or the real ones against `url` ("real").
The floor, timed on the same records in the same process: parse and validate the order,
serialise its result, and one conditional DynamoDB write through botocore against the same
fake: the least an exactly-once consumer does per record. Writes its figures as JSON to the
settings' "out" file (stdout carries the function's own logs and metrics).
"""

from __future__ import annotations

import json
import resource
import statistics
import sys
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BATCH = 10


class Context:
    """The Lambda context attributes Powertools and the worker read."""

    def __init__(self, timeout_seconds: float, memory_mb: int) -> None:
        self.function_name = "bench-worker"
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = memory_mb
        self.invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench-worker"
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = "/aws/lambda/bench-worker"
        self.log_stream_name = "bench"
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def peak_rss_mb() -> float:
    """This process's own peak RSS. On Linux ru_maxrss is not it: it survives execve, so a
    child started by a larger process (the bench, after the local runtime ran in it) reports
    its parent's peak; VmHWM belongs to the memory map the exec created."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def order(task_type: str, url: str) -> dict[str, Any]:
    return {
        "orderId": str(uuid.uuid4()),
        "taskType": task_type,
        "payload": {"url": url, "timeout": 30, "parameters": {"text": "Benchmarks measure; they do not guess."}},
        "userId": "bench-user",
        "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "priority": "normal",
        "retryCount": 0,
        "correlationId": str(uuid.uuid4()),
    }


def sqs_event(bodies: list[str]) -> dict[str, Any]:
    # The poller's own record builder (imported here, after sys.path has the repository).
    from automation_local.lambda_.esm.sqs_records import sqs_event as records_of

    now = str(int(time.time() * 1000))
    received = [
        {
            "MessageId": str(uuid.uuid4()),
            "ReceiptHandle": f"bench-{index}",
            "Body": body,
            "Attributes": {
                "ApproximateReceiveCount": "1",
                "SentTimestamp": now,
                "SenderId": "AIDABENCH",
                "ApproximateFirstReceiveTimestamp": now,
            },
            "MD5OfBody": "",
        }
        for index, body in enumerate(bodies)
    ]
    return records_of(received, "arn:aws:sqs:us-east-1:123456789012:bench-order-queue", "us-east-1")


def main() -> None:
    settings = json.loads(Path(sys.argv[1]).read_text())
    sys.path[0:0] = settings["path"]
    sys.path.append(settings["repo_root"])  # for benchmarks.fakes only, after everything Lambda has

    import boto3

    from benchmarks.fakes import AwsFake

    fake = AwsFake()
    make_client = boto3.client
    boto3.client = lambda service, *args, **kwargs: fake.client(make_client, service)  # the worker's clients
    floor_dynamodb = fake.client(make_client, "dynamodb")

    started = time.perf_counter()
    import app  # the built handler module, as Lambda imports it

    import_seconds = time.perf_counter() - started
    from automation_shared.contracts import OrderMessage, ResultMessage, ResultStatus

    if settings["tasks"] == "instant":

        def instant(order: OrderMessage, deadline: float) -> Any:
            return app.TaskOutcome(ResultStatus.SUCCESS, "done at once", {"bench": True})

        app.processor_for = lambda task_type: instant

    per_record, cpu_per_record, floor, failures, batch_seconds = [], [], [], 0, []
    for round_number in range(settings["warmup"] + settings["batches"]):
        bodies = [json.dumps(order(settings["task_type"], settings["url"])) for _ in range(BATCH)]
        event = sqs_event(bodies)
        context = Context(settings["timeout_seconds"], settings["memory_mb"])
        sends_before = fake.calls["SendMessageBatch"]
        started, cpu_started = time.perf_counter(), time.process_time()
        response = app.lambda_handler(event, context)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        failures += len(response.get("batchItemFailures", []))
        if round_number < settings["warmup"]:
            continue
        batch_seconds.append(elapsed)
        per_record.append(elapsed / BATCH)
        cpu_per_record.append(cpu / BATCH)
        sent = fake.sqs.sent[-BATCH:]
        if fake.calls["SendMessageBatch"] - sends_before != 1 or len(sent) != BATCH:
            raise SystemExit("the batch's results did not leave in one SendMessageBatch")
        # The floor for the same records: parse and validate the order, serialise a result,
        # and one conditional write per record (the least that makes a consumer exactly once).
        results = [ResultMessage.model_validate_json(entry["MessageBody"]) for entry in sent]
        started = time.perf_counter()
        for body, result in zip(bodies, results, strict=True):
            parsed = OrderMessage.model_validate_json(body)
            floor_dynamodb.put_item(
                TableName="bench-orders",
                Item={
                    "id": {"S": f"floor#{parsed.orderId}"},
                    "result": {"S": result.model_dump_json(exclude_none=True)},
                },
                ConditionExpression="attribute_not_exists(id)",
            )
        floor.append((time.perf_counter() - started) / BATCH)

    floor_writes = BATCH * settings["batches"]  # counted with the worker's calls: taken out below
    statuses = sorted({json.loads(entry["MessageBody"])["status"] for entry in fake.sqs.sent})
    Path(settings["out"]).write_text(
        json.dumps(
            {
                "import_seconds": import_seconds,
                "per_record_seconds": statistics.median(per_record),
                "cpu_per_record_seconds": statistics.median(cpu_per_record),
                "floor_seconds": statistics.median(floor),
                "batch_seconds": statistics.median(batch_seconds),
                "batch_failures": failures,
                "result_statuses": statuses,
                "aws_calls_per_record": {
                    name: count / (BATCH * (settings["warmup"] + settings["batches"]))
                    for name, count in (fake.calls - Counter({"PutItem": floor_writes})).items()
                },
                "peak_rss_mb": peak_rss_mb(),
            }
        )
    )


if __name__ == "__main__":
    main()
