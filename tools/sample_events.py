"""events/*.json: sample events for `sam local invoke` and the smoke test, written by `make events`.

One valid event per webhook route, per task type and per follow-up action, and the bad
ones (`<function>-bad-<case>.json`). Ids are fixed, so the files only change when the
contracts or this script do (a test compares them).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

from automation_local.apigateway.events import http_api_event
from automation_local.aws.identity import ACCOUNT_ID, REGION
from automation_local.cloudformation.project import REPO_ROOT
from automation_local.demo.orders import WEB_TASK_TYPES, task_parameters
from automation_local.lambda_.esm.sqs_records import sqs_event
from automation_shared.contracts import FollowUpAction, OrderMessage, ResultMessage, TaskType
from automation_shared.messages import OutgoingMessage, order_message, result_message
from automation_shared.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER

EVENTS_DIR = REPO_ROOT / "events"
QUEUE_ARN = f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:automation-dev-{{}}"
SENT_AT = 1795600800.0  # 2026-11-25T10:00:00Z: every sample event happens then
SENT_AT_MS = str(int(SENT_AT * 1000))
# A closed port: web tasks fail at once instead of reaching the internet; edit for a real check.
EXAMPLE_URL = "http://127.0.0.1:9/"
PLACEHOLDER_SIGNATURE = {
    TIMESTAMP_HEADER: "1795600800",
    SIGNATURE_HEADER: "sha256=<hmac of '<timestamp>.<METHOD>.<path>.<body>'>",
}


def _id(name: str) -> str:
    """A fixed UUIDv4-shaped id per name (orderIds must be version 4)."""
    return str(uuid.UUID(bytes=hashlib.sha256(name.encode()).digest()[:16], version=4))


def _order(task_type: TaskType) -> OrderMessage:
    parameters = task_parameters(task_type)
    payload: dict[str, Any] = {"timeout": 30, "parameters": parameters}
    if task_type in WEB_TASK_TYPES:
        payload["url"] = EXAMPLE_URL
    order_id = _id(f"order/{task_type.value}")
    return OrderMessage.model_validate(
        {
            "orderId": order_id,
            "taskType": task_type.value,
            "payload": payload,
            "userId": "user-42",
            "timestamp": "2026-11-25T10:00:00Z",
            "correlationId": order_id,
        }
    )


def _result(action: FollowUpAction | None) -> ResultMessage:
    document: dict[str, Any] = {
        "orderId": _id(f"result/{action.value if action else 'none'}"),
        "taskType": "url-monitoring",
        "status": "failure" if action in (FollowUpAction.REQUEUE, FollowUpAction.ESCALATE) else "success",
        "result": {"summary": "HTTP 200 in 120 ms", "data": {"statusCode": 200, "latencyMs": 120}},
        "processingTime": 120.5,
        "timestamp": "2026-11-25T10:00:01Z",
        "userId": "user-42",
        "priority": "normal",
    }
    if action:
        document["followUpAction"] = action.value
    return ResultMessage.model_validate(document)


def _sqs_event(message: OutgoingMessage, queue: str, name: str) -> dict[str, Any]:
    received = {  # the message as ReceiveMessage returns it, with all attributes
        "MessageId": _id(f"message/{name}"),
        "ReceiptHandle": "AQEB" + hashlib.sha256(name.encode()).hexdigest(),
        "Body": message.body,
        "Attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": SENT_AT_MS,
            "SenderId": "AROAEXAMPLE:automation-dev",
            "ApproximateFirstReceiveTimestamp": SENT_AT_MS,
        },
        "MessageAttributes": {k: {"StringValue": v, "DataType": "String"} for k, v in message.attributes.items()},
        "MD5OfBody": hashlib.md5(message.body.encode()).hexdigest(),  # noqa: S324 - SQS's own checksum
    }
    return sqs_event([received], QUEUE_ARN.format(queue), REGION)


def _webhook_post(body: bytes, signed: bool = True) -> dict[str, Any]:
    headers = {"content-type": "application/json", **(PLACEHOLDER_SIGNATURE if signed else {})}
    return http_api_event(
        "POST", "/orders", route_key="POST /orders", headers=headers, body=body, request_id="sample", now=SENT_AT
    )


def _bad_records(function: str, queue: str, bodies: dict[str, str]) -> dict[str, dict[str, Any]]:
    """`<function>-bad-<case>` events: one record each, whose body the consumer must refuse."""
    return {
        f"{function}-bad-{case}": _sqs_event(OutgoingMessage(id=case, body=body), queue, case)
        for case, body in bodies.items()
    }


def generate() -> dict[str, dict[str, Any]]:
    events: dict[str, dict[str, Any]] = {}
    new_order = {"taskType": "url-monitoring", "payload": {"url": EXAMPLE_URL, "timeout": 30}, "userId": "user-42"}
    events["webhook-post-order"] = _webhook_post(json.dumps(new_order).encode())
    events["webhook-post-batch"] = _webhook_post(json.dumps([new_order, {**new_order, "priority": "high"}]).encode())
    order_id = _id("order/url-monitoring")
    get = http_api_event(
        "GET",
        f"/orders/{order_id}",
        route_key="GET /orders/{orderId}",
        path_parameters={"orderId": order_id},
        headers=PLACEHOLDER_SIGNATURE,
        request_id="sample",
        now=SENT_AT,
    )
    events["webhook-get-order"] = get
    events["webhook-bad-unsigned"] = _webhook_post(json.dumps(new_order).encode(), signed=False)
    events["webhook-bad-malformed-json"] = _webhook_post(b'{"taskType": "url-monitoring",')
    events["webhook-bad-contract-violation"] = _webhook_post(json.dumps({**new_order, "priority": "urgent"}).encode())

    for task_type in TaskType:
        events[f"worker-{task_type.value}"] = _sqs_event(order_message(_order(task_type)), "order-queue", task_type)
    valid_order = _order(TaskType.TEXT_PROCESSING)
    events |= _bad_records(
        "worker",
        "order-queue",
        {
            "malformed-json": '{"orderId": ',
            "contract-violation": json.dumps({"orderId": _id("bad"), "taskType": "url-monitoring"}),
            "unknown-task-type": json.dumps({**json.loads(valid_order.to_json()), "taskType": "crypto-mining"}),
        },
    )

    for action in [*FollowUpAction, None]:
        name = action.value if action else "no-action"
        events[f"feedback-{name}"] = _sqs_event(result_message(_result(action), message_id=name), "result-queue", name)
    valid_result = _result(FollowUpAction.ARCHIVE)
    events |= _bad_records(
        "feedback",
        "result-queue",
        {
            "malformed-json": "{",
            "contract-violation": json.dumps({"orderId": _id("bad"), "status": "success"}),
            "unknown-follow-up-action": json.dumps({**json.loads(valid_result.to_json()), "followUpAction": "delete"}),
        },
    )
    return events


def rendered() -> dict[str, str]:
    return {f"{name}.json": json.dumps(event, indent=2) + "\n" for name, event in generate().items()}


def main() -> None:
    files = rendered()
    for stale in EVENTS_DIR.glob("*.json"):
        if stale.name not in files:
            stale.unlink()
    EVENTS_DIR.mkdir(exist_ok=True)
    for name, text in files.items():
        (EVENTS_DIR / name).write_text(text)
    print(f"wrote {len(files)} events to {EVENTS_DIR.relative_to(REPO_ROOT)}/")


if __name__ == "__main__":
    main()
