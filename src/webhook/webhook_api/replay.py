"""Each request signature is accepted once.

A signed request is valid for MAX_CLOCK_SKEW_SECONDS either side of its timestamp; within
that window a captured request could be sent again, and an order without `orderId` or
`deduplicationId` would be queued again. What remembers a signature:

- the records of the orders a request accepted carry its signature (`sig`), so a second
  request with it finds them in the read it makes anyway (webhook_api/acceptance.py) and is
  refused: the usual request (new orders with ids) writes nothing more than its orders;
- otherwise (a GET; an order with no id, whose replay would be a new order; a request that
  recorded no order of its own, all duplicates or refused by SQS) a record `signature#<hex>`
  of its own: a conditional PutItem before the work where a replay must not even start (GET,
  orders without ids), after it where the work itself was harmless to repeat.

Not Powertools Idempotency: it would answer a replay with the first answer (a 202 that
enqueues nothing), but a replay must be refused outright, and it needs no response stored.
The record expires (`expiration`, the table's TTL attribute) once its timestamp would be
refused as stale anyway; TTL deletes lazily, so the condition also treats an expired
record as absent.
"""

from __future__ import annotations

import time
from typing import Any

from automation_shared.signing import MAX_CLOCK_SKEW_SECONDS


class ReplayedRequestError(Exception):
    """This signature has been used before."""


def signature_key(signature: str) -> str:
    return f"signature#{signature.removeprefix('sha256=')}"


class SignatureLedger:
    def __init__(self, dynamodb: Any, table_name: str) -> None:
        self._dynamodb = dynamodb
        self._table = table_name

    def accept_once(self, signature: str, timestamp: int) -> None:
        """Records the signature's first use; raises ReplayedRequestError on any later one."""
        now = int(time.time())
        try:
            self._dynamodb.put_item(
                TableName=self._table,
                Item={
                    "id": {"S": signature_key(signature)},
                    # Past the last moment the timestamp is accepted (timestamp + skew).
                    "expiration": {"N": str(max(now, timestamp) + MAX_CLOCK_SKEW_SECONDS + 60)},
                },
                ConditionExpression="attribute_not_exists(id) OR expiration < :now",
                ExpressionAttributeValues={":now": {"N": str(now)}},
            )
        except self._dynamodb.exceptions.ConditionalCheckFailedException as used:
            raise ReplayedRequestError("this signature has been used before: sign every request anew") from used
