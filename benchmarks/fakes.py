"""In-process stand-ins for the worker's SQS and DynamoDB clients (the probes' only AWS).

They answer the calls the worker makes (SendMessageBatch; PutItem, GetItem, UpdateItem,
DeleteItem with the conditional put Powertools Idempotency relies on) at once and count
them, so a probe measures the worker's own work per record and nothing of the network.
Only the standard library and the runtime's botocore (for ClientError, as boto3 raises it).
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections import Counter
from typing import Any

from botocore.exceptions import ClientError


class _Exceptions:
    ConditionalCheckFailedException = ClientError


class FakeSqs:
    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.sent: list[dict[str, Any]] = []

    def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N803
        self.calls["SendMessageBatch"] += 1
        if not 1 <= len(Entries) <= 10:
            raise ValueError(f"SendMessageBatch takes 1 to 10 entries, got {len(Entries)}")
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
        self.calls["SendMessage"] += 1
        return {"MessageId": str(uuid.uuid4())}


class FakeDynamoDb:
    """One table keyed on `id`; a conditional put fails while an unexpired item holds the key."""

    exceptions = _Exceptions

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.items: dict[str, dict[str, Any]] = {}

    def put_item(self, TableName: str, Item: dict[str, Any], **kwargs: Any) -> dict[str, Any]:  # noqa: N803
        self.calls["PutItem"] += 1
        key = Item["id"]["S"]
        existing = self.items.get(key)
        if kwargs.get("ConditionExpression") and existing is not None and not _expired(existing):
            error: dict[str, Any] = {
                "Code": "ConditionalCheckFailedException",
                "Message": "The conditional request failed",
            }
            response: dict[str, Any] = {"Error": error}
            if kwargs.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD":
                response["Item"] = existing
            raise ClientError(response, "PutItem")  # type: ignore[arg-type]
        self.items[key] = dict(Item)
        return {}

    def get_item(self, TableName: str, Key: dict[str, Any], **_: Any) -> dict[str, Any]:  # noqa: N803
        self.calls["GetItem"] += 1
        item = self.items.get(Key["id"]["S"])
        return {"Item": item} if item is not None else {}

    def update_item(
        self,
        TableName: str,  # noqa: N803
        Key: dict[str, Any],  # noqa: N803
        UpdateExpression: str,  # noqa: N803
        ExpressionAttributeNames: dict[str, str] | None = None,  # noqa: N803
        ExpressionAttributeValues: dict[str, Any] | None = None,  # noqa: N803
        **_: Any,
    ) -> dict[str, Any]:
        self.calls["UpdateItem"] += 1
        item = self.items.setdefault(Key["id"]["S"], dict(Key))
        names, values = ExpressionAttributeNames or {}, ExpressionAttributeValues or {}
        for assignment in _top_level(UpdateExpression.removeprefix("SET "), ","):
            name, value = (part.strip() for part in assignment.split("=", 1))
            item[names.get(name, name)] = _operand(value, item, names, values)
        return {}

    def delete_item(self, TableName: str, Key: dict[str, Any], **_: Any) -> dict[str, Any]:  # noqa: N803
        self.calls["DeleteItem"] += 1
        self.items.pop(Key["id"]["S"], None)
        return {}


def _top_level(text: str, separator: str) -> list[str]:
    """`text` split at the separators outside parentheses."""
    parts, depth, current = [], 0, ""
    for character in text:
        depth += {"(": 1, ")": -1}.get(character, 0)
        if character == separator and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += character
    return [*parts, current]


def _operand(text: str, item: dict[str, Any], names: dict[str, str], values: dict[str, Any]) -> Any:
    """A value of a SET clause: a placeholder, or the if_not_exists / list_append the
    status records use."""
    text = text.strip()
    for function in ("if_not_exists", "list_append"):
        if text.startswith(function + "("):
            first, second = (p.strip() for p in _top_level(text[len(function) + 1 : -1], ","))
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
