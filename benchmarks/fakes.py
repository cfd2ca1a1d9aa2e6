"""In-process stand-ins for SQS and DynamoDB behind real boto3 clients (the probes' only AWS).

A client made by `AwsFake.client(service)` is boto3's own, with a `before-send` handler
that answers each request here instead of over the network: the call still goes through
botocore (parameter validation, serialisation, signing, response parsing), so a probe
measures what a function's calls cost in the function, and nothing of the network. The
fake services keep what a probe needs: SendMessageBatch; PutItem, GetItem, UpdateItem
(SET with if_not_exists / list_append, ADD to a set, ReturnValues) and conditional writes
that fail when the condition is `attribute_not_exists(id)` and the item exists. Only the
standard library and the runtime's botocore.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
import uuid
from collections import Counter
from typing import Any

from botocore.awsrequest import AWSResponse

CONDITION_FAILED = "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException"


class _Raw:
    """What AWSResponse reads a body from."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> list[bytes]:
        return [self._body]


class FakeError(Exception):
    def __init__(self, code: str, message: str, **fields: Any) -> None:
        super().__init__(message)
        self.body = {"__type": code, "message": message, **fields}


class FakeSqs:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, Any]], **_: Any) -> dict[str, Any]:  # noqa: N803
        self.sent.extend(Entries)
        return {
            "Successful": [
                {
                    "Id": entry["Id"],
                    "MessageId": str(uuid.uuid4()),
                    "MD5OfMessageBody": hashlib.md5(entry["MessageBody"].encode(), usedforsecurity=False).hexdigest(),
                }
                for entry in Entries
            ],
            "Failed": [],
        }

    def send_message(self, QueueUrl: str, MessageBody: str, **_: Any) -> dict[str, Any]:  # noqa: N803
        return {
            "MessageId": str(uuid.uuid4()),
            "MD5OfMessageBody": hashlib.md5(MessageBody.encode(), usedforsecurity=False).hexdigest(),
        }


class FakeDynamoDb:
    """One table keyed on `id`."""

    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {}

    def put_item(self, TableName: str, Item: dict[str, Any], **kwargs: Any) -> dict[str, Any]:  # noqa: N803
        key = Item["id"]["S"]
        existing = self.items.get(key)
        if _refused(kwargs.get("ConditionExpression"), existing):
            extra = {"Item": existing} if kwargs.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" else {}
            raise FakeError(CONDITION_FAILED, "The conditional request failed", **extra)
        self.items[key] = dict(Item)
        return {}

    def get_item(self, TableName: str, Key: dict[str, Any], **_: Any) -> dict[str, Any]:  # noqa: N803
        item = self.items.get(Key["id"]["S"])
        return {"Item": item} if item is not None else {}

    def update_item(
        self,
        TableName: str,  # noqa: N803
        Key: dict[str, Any],  # noqa: N803
        UpdateExpression: str,  # noqa: N803
        ExpressionAttributeNames: dict[str, str] | None = None,  # noqa: N803
        ExpressionAttributeValues: dict[str, Any] | None = None,  # noqa: N803
        **kwargs: Any,
    ) -> dict[str, Any]:
        existing = self.items.get(Key["id"]["S"])
        if _refused(kwargs.get("ConditionExpression"), existing):
            raise FakeError(CONDITION_FAILED, "The conditional request failed")
        old = dict(existing or {})
        item = self.items.setdefault(Key["id"]["S"], dict(Key))
        names, values = ExpressionAttributeNames or {}, ExpressionAttributeValues or {}
        sets, _, adds = UpdateExpression.removeprefix("SET ").partition(" ADD ")
        for assignment in _top_level(sets):
            name, value = (part.strip() for part in assignment.split("=", 1))
            item[names.get(name, name)] = _operand(value, item, names, values)
        if adds:
            name, value = adds.split()
            added = values[value]["SS"]
            item[names.get(name, name)] = {
                "SS": sorted(set(item.get(names.get(name, name), {}).get("SS", [])) | set(added))
            }
        return {"Attributes": old} if kwargs.get("ReturnValues") == "ALL_OLD" and old else {}


def _refused(condition: str | None, existing: dict[str, Any] | None) -> bool:
    """Only the condition the probes' first writes meet matters: a new item's key is free."""
    return (
        bool(condition)
        and condition.startswith("attribute_not_exists(id)")
        and existing is not None
        and not _expired(existing)
    )  # type: ignore[union-attr]


class AwsFake:
    """The fake services, and boto3 clients that reach them through botocore; counts calls."""

    def __init__(self) -> None:
        self.sqs = FakeSqs()
        self.dynamodb = FakeDynamoDb()
        self.calls: Counter[str] = Counter()

    def client(self, make_client: Any, service: str) -> Any:
        """`make_client`: the real boto3.client (the probe replaces boto3's with this)."""
        client = make_client(
            service,
            region_name="us-east-1",
            endpoint_url=f"https://{service}.fake.invalid",
            aws_access_key_id="bench",
            aws_secret_access_key="bench",  # noqa: S106 - a fake's credentials
        )
        client.meta.events.register("before-send", self._answer)
        return client

    def _answer(self, request: Any, **_: Any) -> AWSResponse:
        service, operation = request.headers["X-Amz-Target"].decode().split(".", 1)
        self.calls[operation] += 1
        fake = self.sqs if service == "AmazonSQS" else self.dynamodb
        method = getattr(fake, "".join(f"_{c.lower()}" if c.isupper() else c for c in operation).lstrip("_"))
        try:
            status, body = 200, method(**json.loads(request.body or b"{}"))
        except FakeError as error:
            status, body = 400, error.body
        return AWSResponse(
            request.url, status, {"Content-Type": "application/x-amz-json-1.0"}, _Raw(json.dumps(body).encode())
        )


# A comma outside parentheses (the SET clauses here nest one level: if_not_exists(a, b)).
_TOP_LEVEL_COMMA = re.compile(r",(?![^()]*\))")


def _top_level(text: str) -> list[str]:
    """`text` split at the commas outside parentheses (a regex: the fake answers at once)."""
    return _TOP_LEVEL_COMMA.split(text)


def _operand(text: str, item: dict[str, Any], names: dict[str, str], values: dict[str, Any]) -> Any:
    """A value of a SET clause: a placeholder, or the if_not_exists / list_append the order
    records use."""
    text = text.strip()
    for function in ("if_not_exists", "list_append"):
        if text.startswith(function + "("):
            first, second = (p.strip() for p in _top_level(text[len(function) + 1 : -1]))
            if function == "if_not_exists":
                return item.get(names.get(first, first)) or _operand(second, item, names, values)
            head, tail = _operand(first, item, names, values), _operand(second, item, names, values)
            return {"L": head["L"] + tail["L"]}
    if text.startswith(":"):
        return values[text]
    return item.get(names.get(text, text))


def _expired(item: dict[str, Any]) -> bool:
    expiration = item.get("expiration", {}).get("N")
    return expiration is not None and int(expiration) < time.time()
