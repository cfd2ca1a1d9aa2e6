"""Lambda SQS events from messages received through the SQS API, as Lambda's poller builds
them: the one record builder of the poller, the sample events (tools/sample_events.py) and
the benchmarks' probes."""

from __future__ import annotations

from typing import Any


def sqs_record(message: dict[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    """One `Records[]` entry from a ReceiveMessage message (requested with all attributes)."""
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": dict(message.get("Attributes", {})),
        "messageAttributes": {
            name: _message_attribute(value) for name, value in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


def _message_attribute(value: dict[str, Any]) -> dict[str, Any]:
    """As Lambda writes one: the value the attribute has (string or binary), then the lists."""
    written = {"stringValue": value["StringValue"]} if "StringValue" in value else {}
    if "BinaryValue" in value:
        written["binaryValue"] = value["BinaryValue"]
    return {**written, "stringListValues": [], "binaryListValues": [], "dataType": value["DataType"]}


def sqs_event(messages: list[dict[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    return {"Records": [sqs_record(m, queue_arn, region) for m in messages]}
