"""system-health: depth of every queue of this stack (the worker role may read all four)."""

from __future__ import annotations

import os
from functools import cache
from typing import Any

import boto3

from automation_shared.contracts import OrderMessage, ResultStatus

from .outcome import TaskOutcome

QUEUE_VARIABLES = {
    "order": "ORDER_QUEUE_URL",
    "result": "RESULT_QUEUE_URL",
    "orderDeadLetter": "ORDER_DLQ_URL",
    "resultDeadLetter": "RESULT_DLQ_URL",
}
ATTRIBUTES = {
    "ApproximateNumberOfMessages": "visible",
    "ApproximateNumberOfMessagesNotVisible": "inFlight",
    "ApproximateNumberOfMessagesDelayed": "delayed",
}


@cache
def _sqs() -> Any:
    return boto3.client("sqs")


def run(order: OrderMessage, deadline: float) -> TaskOutcome:
    queues: dict[str, dict[str, int]] = {}
    for name, variable in QUEUE_VARIABLES.items():
        attributes = _sqs().get_queue_attributes(QueueUrl=os.environ[variable], AttributeNames=list(ATTRIBUTES))
        queues[name] = {label: int(attributes["Attributes"].get(attr, 0)) for attr, label in ATTRIBUTES.items()}
    dead_letters = queues["orderDeadLetter"]["visible"] + queues["resultDeadLetter"]["visible"]
    summary = f"{queues['order']['visible']} orders waiting, {dead_letters} messages in dead-letter queues"
    status = ResultStatus.SUCCESS if dead_letters == 0 else ResultStatus.PARTIAL
    return TaskOutcome(status, summary, {"queues": queues, "deadLetterMessages": dead_letters})
