"""One item per order in the orders table (`order#<orderId>`): its status, read by GET
/orders/{id}, and the marks that make each step happen once. The worker's stored results
are items of their own (`result#<orderId>#<retryCount>`).

What the record holds: the order as last sent (`order`, so feedback can requeue it), its
`status` and `history` (every status with its time), the worker's claim on the attempt it
runs (`claimAttempt`, `claimLease`: epoch milliseconds), and the results feedback has acted
on (`acted`: a set of result keys). It expires with the table's TTL attribute.

Why one item and not Powertools Idempotency records beside a status record: each step of
an order is then one conditional write instead of three (the idempotency record's claim,
its completion, the status): the webhook writes the record once the order is sent; the
worker claims an attempt and marks the order processing in one write, and stores the
attempt's result in one more; feedback records its act and the order's new status in one
write. Each write's condition is what Powertools' records checked: an attempt is claimed
only if no invocation holds it (or its lease has passed), a result is acted on only once,
and a terminal state (notified, archived, escalated) is never replaced. `dead-lettered` is
not terminal: a redriven message takes the order on again.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from .contracts import OrderMessage

RETENTION_SECONDS = 30 * 24 * 3600  # how long an order's record (and its deduplicationId) is kept
# How long a message can still be delivered after it was sent: in its queue for the queue's
# retention (template.yaml: OrderQueueRetentionSeconds, ResultQueueRetentionSeconds, at most
# 14 days, SQS's longest), then in its DLQ (the DLQs' MessageRetentionPeriod, 1209600 s),
# which on a FIFO queue counts again from the move (a standard DLQ counts from the first send;
# the longer, FIFO bound serves both modes). What keeps a redelivery from doing its work twice
# (an attempt's stored result, the acts on the order's record) must outlive that; a redrive
# sends the message anew, and renews them (renew_for_redrive). tests/template/test_retention.py
# keeps these figures equal to the template's.
SQS_LONGEST_RETENTION_SECONDS = 14 * 24 * 3600
DEAD_LETTER_RETENTION_SECONDS = 14 * 24 * 3600
MESSAGE_LIFETIME_SECONDS = SQS_LONGEST_RETENTION_SECONDS + DEAD_LETTER_RETENTION_SECONDS
RESULT_RETENTION_SECONDS = MESSAGE_LIFETIME_SECONDS  # how long the worker keeps an attempt's result


class OrderState(StrEnum):
    QUEUED = "queued"
    PROCESSING = "processing"
    REQUEUED = "requeued"
    NOTIFIED = "notified"
    ESCALATED = "escalated"
    ARCHIVED = "archived"
    DEAD_LETTERED = "dead-lettered"
    REFUSED = "refused"  # a direct order past the stack's bounds: never run (its record says why)


# Where an order's flow ends: feedback's acts, or the worker's refusal. Nothing moves an
# order out of these.
TERMINAL_STATES = frozenset({OrderState.NOTIFIED, OrderState.ARCHIVED, OrderState.ESCALATED, OrderState.REFUSED})
# Final for whoever follows an order: terminal, or waiting in a DLQ for an operator.
FINAL_STATES = TERMINAL_STATES | {OrderState.DEAD_LETTERED}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _now_millis() -> int:
    return int(time.time() * 1000)


def record_key(order_id: str) -> str:
    return f"order#{order_id}"


def result_key(order_id: str, retry_count: int) -> str:
    return f"result#{order_id}#{retry_count}"


def _digest(*parts: str) -> bytes:
    # NUL cannot end a userId's part early: JSON strings may hold it, but then the next
    # part differs, and the digest with it.
    return hashlib.sha256("\0".join(parts).encode()).digest()


def dedup_key(user_id: str, deduplication_id: str) -> str:
    """The record that names the order a user sent with this deduplicationId (and an orderId
    of its own): a deduplicationId is the user's, never global (as FIFO's
    `DeduplicationScope: messageGroup` with the user as the group)."""
    return f"userkey#{_digest('deduplicationId', user_id, deduplication_id).hex()[:40]}"


def order_id_for(user_id: str, deduplication_id: str) -> str:
    """The order id of an order sent with a deduplicationId and no orderId: derived from the
    user and the deduplicationId (UUIDv4-shaped, as the contract asks), so every request of
    that user with it, the first one's retries included, names the same order, and another
    user's never does."""
    return str(uuid.UUID(bytes=_digest("deduplicationId", user_id, deduplication_id)[:16], version=4))


def order_identity(order: OrderMessage) -> str:
    """What makes two sends of one orderId the same order: its user and its deduplicationId
    (none is a value too). A record keeps the identity of the order that wrote it first, and
    refuses every other (OrderIdTakenError; the worker's claim, ClaimOutcome.FOREIGN)."""
    return _digest("identity", order.userId, order.deduplicationId or "").hex()[:32]


# Before deduplicationIds were scoped per user (issue 19), an order with a deduplicationId and
# no orderId was named by the key alone, and one with both ids had a pointer `dedup#<key>`.
# The webhook still finds those, for the same user only, so a client retrying across the
# deploy gets its first order back rather than a second run. They expire with the records
# (RETENTION_SECONDS): these two functions can go 30 days after every stack runs this code.
def legacy_order_id_for(deduplication_id: str) -> str:
    digest = hashlib.sha256(f"deduplicationId:{deduplication_id}".encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


def legacy_dedup_key(deduplication_id: str) -> str:
    return f"dedup#{deduplication_id}"


class OrderIdTakenError(Exception):
    """The orderId's record belongs to another order (another user's, or one sent with
    another deduplicationId)."""

    def __init__(self, order_id: str) -> None:
        super().__init__(f"orderId {order_id} names another order")
        self.order_id = order_id


def _history(state: OrderState, at: str) -> dict[str, Any]:
    return {"L": [{"S": f"{state.value} {at}"}]}


def _terminal_values() -> dict[str, Any]:
    return {f":terminal{i}": {"S": s.value} for i, s in enumerate(sorted(TERMINAL_STATES))}


NOT_TERMINAL = (
    "(attribute_not_exists(#status) OR NOT (#status IN ("
    + ", ".join(f":terminal{i}" for i in range(len(TERMINAL_STATES)))
    + ")))"
)


def _order_fields(order: OrderMessage) -> dict[str, Any]:
    """The attributes of a record that come from the order itself (its identity aside,
    which only the first write sets)."""
    return {
        "orderId": {"S": order.orderId},
        "taskType": {"S": order.taskType.value},
        "userId": {"S": order.userId},
        "retryCount": {"N": str(order.retryCount or 0)},
        "order": {"S": order.to_json()},
    }


def _expiration() -> dict[str, str]:
    return {"N": str(int(time.time()) + RETENTION_SECONDS)}


def _plain(value: dict[str, Any]) -> Any:
    """A DynamoDB attribute value as JSON (the types these records use)."""
    if "N" in value:
        return int(value["N"])
    if "L" in value:
        return [_plain(v) for v in value["L"]]
    if "SS" in value:
        return sorted(value["SS"])
    return value["S"]


class ClaimOutcome(StrEnum):
    FRESH = "fresh"  # nobody had run this attempt
    TAKEN_OVER = "taken-over"  # an invocation claimed it before and its lease has passed: it may have a result
    IN_PROGRESS = "in-progress"  # an invocation of this very message holds it (a redelivery within its lease)
    HELD_ELSEWHERE = "held-elsewhere"  # another message of the attempt holds it now: that one sends its result
    SUPERSEDED = "superseded"  # a later attempt of the order has been claimed: this message is stale
    FINISHED = "finished"  # the order has reached its end
    FOREIGN = "foreign"  # the orderId's record is another order's: this message was never accepted as it


@dataclass(frozen=True)
class Claim:
    outcome: ClaimOutcome
    lease_until_ms: int = 0
    record: dict[str, Any] | None = None  # a refused claim: the record as it refused it

    @property
    def held(self) -> bool:
        return self.outcome in (ClaimOutcome.FRESH, ClaimOutcome.TAKEN_OVER)


class OrderRecords:
    """The order records and the worker's stored results, through a DynamoDB client (boto3 low-level)."""

    def __init__(self, dynamodb: Any, table_name: str) -> None:
        self._dynamodb = dynamodb
        self._table = table_name

    # ------------------------------------------------------------------ reads
    def item(self, order_id: str) -> dict[str, Any] | None:
        """The record as DynamoDB holds it (strongly consistent)."""
        answer = self._dynamodb.get_item(
            TableName=self._table, Key={"id": {"S": record_key(order_id)}}, ConsistentRead=True
        )
        item: dict[str, Any] | None = answer.get("Item")
        return item

    def get(self, order_id: str) -> dict[str, Any] | None:
        """The record as GET /orders/{id} shows it: plain JSON, without the bookkeeping."""
        item = self.item(order_id)
        if item is None:
            return None
        plain = {name: _plain(value) for name, value in item.items()}
        for bookkeeping in (
            "id",
            "expiration",
            "claimAttempt",
            "claimLease",
            "claimMessage",
            "acted",
            "sig",
            "identity",
        ):
            plain.pop(bookkeeping, None)
        plain["history"] = [
            dict(zip(("status", "at"), entry.split(" ", 1), strict=True)) for entry in plain.get("history", [])
        ]
        return plain

    def accepted_before(self, keys: Collection[str]) -> dict[str, dict[str, str]]:
        """For the webhook: which of these keys (`order#...`, `userkey#...`, a request
        signature's) exist, each with the order id it names, its user and identity (where it
        has them), and the signature of the request that wrote it. One BatchGetItem per 100
        keys, strongly consistent."""
        found: dict[str, dict[str, str]] = {}
        pending = [{"id": {"S": key}} for key in dict.fromkeys(keys)]
        while pending:
            chunk, pending = pending[:100], pending[100:]
            request: dict[str, Any] = {
                self._table: {
                    "Keys": chunk,
                    "ConsistentRead": True,
                    "ProjectionExpression": "id, orderId, sig, userId, #identity",
                    "ExpressionAttributeNames": {"#identity": "identity"},
                }
            }
            while request:
                answer = self._dynamodb.batch_get_item(RequestItems=request)
                for item in answer["Responses"].get(self._table, []):
                    found[item["id"]["S"]] = {name: value["S"] for name, value in item.items() if name != "id"}
                request = answer.get("UnprocessedKeys") or {}
        return found

    # ------------------------------------------------------------------ the webhook
    def record_accepted(self, order: OrderMessage, signature: str = "") -> bool:
        """The order is in the queue: its record, with its identity and the signature of the
        request that sent it (webhook_api/replay.py), unless one exists: False if it is this
        order's (the worker may have started it already, or an earlier request with the same
        key wrote it), OrderIdTakenError if it is another order's (a request with the same
        orderId at the same moment came first: the worker refuses this one's message)."""
        now = _now()
        signed = {"sig": {"S": signature}} if signature else {}
        try:
            self._dynamodb.put_item(
                TableName=self._table,
                Item={
                    "id": {"S": record_key(order.orderId)},
                    **_order_fields(order),
                    "identity": {"S": order_identity(order)},
                    "status": {"S": OrderState.QUEUED.value},
                    "history": _history(OrderState.QUEUED, now),
                    "createdAt": {"S": now},
                    "updatedAt": {"S": now},
                    "expiration": _expiration(),
                    **signed,
                },
                ConditionExpression="attribute_not_exists(id)",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except self._dynamodb.exceptions.ConditionalCheckFailedException as exists:
            holder = exists.response.get("Item") or self.item(order.orderId) or {}
            if not self.same_order(holder, order):
                raise OrderIdTakenError(order.orderId) from exists
            return False
        return True

    @staticmethod
    def same_order(item: dict[str, Any], order: OrderMessage) -> bool:
        """Whether a record (as DynamoDB holds it) is this order's. A record written before
        identities were kept is compared by its user."""
        if "identity" in item:
            return bool(item["identity"]["S"] == order_identity(order))
        return "userId" not in item or item["userId"]["S"] == order.userId

    def record_deduplication(self, order: OrderMessage, signature: str = "") -> None:
        """For an order sent with both ids: its user's deduplicationId names it from now on."""
        try:
            self._dynamodb.put_item(
                TableName=self._table,
                Item={
                    "id": {"S": dedup_key(order.userId, str(order.deduplicationId))},
                    "orderId": {"S": order.orderId},
                    "userId": {"S": order.userId},
                    "identity": {"S": order_identity(order)},
                    "expiration": _expiration(),
                    **({"sig": {"S": signature}} if signature else {}),
                },
                ConditionExpression="attribute_not_exists(id)",
            )
        except self._dynamodb.exceptions.ConditionalCheckFailedException:
            return  # a request with the same key at the same moment: its order came first

    # ------------------------------------------------------------------ the worker
    def claim_attempt(self, order: OrderMessage, message_id: str, lease_millis: int) -> Claim:
        """Claims the order's attempt (`retryCount`) for the SQS message `message_id` and
        `lease_millis`, and marks the order processing, writing every field of its record (an
        order sent straight to the queue has none yet, and feedback requeues from it)."""
        now, now_ms = _now(), _now_millis()
        attempt = order.retryCount or 0
        lease = now_ms + lease_millis
        fields = _order_fields(order)
        names = {f"#f{i}": name for i, name in enumerate(fields)}
        values = {f":f{i}": value for i, value in enumerate(fields.values())}
        retry_count = next(placeholder for placeholder, name in names.items() if name == "retryCount")
        try:
            answer = self._dynamodb.update_item(
                TableName=self._table,
                Key={"id": {"S": record_key(order.orderId)}},
                UpdateExpression=(
                    "SET "
                    + ", ".join(f"#f{i} = :f{i}" for i in range(len(fields)))
                    + ", #status = :processing, #updatedAt = :now, #createdAt = if_not_exists(#createdAt, :now)"
                    # Renewed on each attempt: an order that waited in its queue (up to 14
                    # days) keeps its record for as long after it as a new one.
                    + ", #expiration = :expiration"
                    + ", #identity = if_not_exists(#identity, :identity)"
                    + ", #history = list_append(if_not_exists(#history, :empty), :entry)"
                    + ", claimAttempt = :attempt, claimLease = :lease, claimMessage = :message"
                ),
                # Attempts only move forward: a message of an attempt older than the record's
                # (a late copy) claims nothing, and neither does one the order has ended past,
                # nor one whose orderId the record keeps for another order.
                ConditionExpression=(
                    "(attribute_not_exists(claimAttempt) OR claimAttempt < :attempt"
                    " OR (claimAttempt = :attempt AND claimLease < :now_ms))"
                    f" AND (attribute_not_exists({retry_count}) OR {retry_count} <= :attempt)"
                    " AND (attribute_not_exists(#identity) OR #identity = :identity) AND " + NOT_TERMINAL
                ),
                ExpressionAttributeNames={
                    **names,
                    "#status": "status",
                    "#updatedAt": "updatedAt",
                    "#createdAt": "createdAt",
                    "#expiration": "expiration",
                    "#history": "history",
                    "#identity": "identity",
                },
                ExpressionAttributeValues={
                    **values,
                    ":processing": {"S": OrderState.PROCESSING.value},
                    ":now": {"S": now},
                    ":expiration": _expiration(),
                    ":identity": {"S": order_identity(order)},
                    ":empty": {"L": []},
                    ":entry": _history(OrderState.PROCESSING, now),
                    ":attempt": {"N": str(attempt)},
                    ":lease": {"N": str(lease)},
                    ":message": {"S": message_id},
                    ":now_ms": {"N": str(now_ms)},
                    **_terminal_values(),
                },
                ReturnValues="ALL_OLD",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except self._dynamodb.exceptions.ConditionalCheckFailedException as refused:
            holder = refused.response.get("Item") or self.item(order.orderId) or {}
            return Claim(self._why_refused(holder, order, message_id), record=holder)
        earlier = answer.get("Attributes", {}).get("claimAttempt")
        taken_over = earlier is not None and int(earlier["N"]) == attempt
        return Claim(ClaimOutcome.TAKEN_OVER if taken_over else ClaimOutcome.FRESH, lease)

    @classmethod
    def _why_refused(cls, item: dict[str, Any], order: OrderMessage, message_id: str) -> ClaimOutcome:
        attempt = order.retryCount or 0
        if not cls.same_order(item, order):
            return ClaimOutcome.FOREIGN
        if item.get("status", {}).get("S") in {s.value for s in TERMINAL_STATES}:
            return ClaimOutcome.FINISHED
        latest = max(int(item.get(name, {}).get("N", "-1")) for name in ("claimAttempt", "retryCount"))
        if latest > attempt:
            return ClaimOutcome.SUPERSEDED
        if item.get("claimMessage", {}).get("S") != message_id:
            return ClaimOutcome.HELD_ELSEWHERE
        return ClaimOutcome.IN_PROGRESS

    def refuse(self, order: OrderMessage, reason: str) -> None:
        """A direct order past the stack's bounds (limits.bounds_exceeded) is never run: its
        record says so and why, without the order itself (which may not fit an item), unless
        the orderId's record is another order's or has ended."""
        now = _now()
        try:
            self._dynamodb.update_item(
                TableName=self._table,
                Key={"id": {"S": record_key(order.orderId)}},
                UpdateExpression=(
                    "SET orderId = :order_id, taskType = :task_type, #status = :refused, reason = :reason,"
                    " #updatedAt = :now, #createdAt = if_not_exists(#createdAt, :now),"
                    " #expiration = if_not_exists(#expiration, :expiration),"
                    " #identity = if_not_exists(#identity, :identity),"
                    " #history = list_append(if_not_exists(#history, :empty), :entry)"
                ),
                ConditionExpression="(attribute_not_exists(#identity) OR #identity = :identity) AND " + NOT_TERMINAL,
                ExpressionAttributeNames={
                    "#status": "status",
                    "#updatedAt": "updatedAt",
                    "#createdAt": "createdAt",
                    "#expiration": "expiration",
                    "#identity": "identity",
                    "#history": "history",
                },
                ExpressionAttributeValues={
                    ":order_id": {"S": order.orderId},
                    ":task_type": {"S": order.taskType.value},
                    ":refused": {"S": OrderState.REFUSED.value},
                    ":reason": {"S": reason},
                    ":now": {"S": now},
                    ":expiration": _expiration(),
                    ":identity": {"S": order_identity(order)},
                    ":empty": {"L": []},
                    ":entry": _history(OrderState.REFUSED, now),
                    **_terminal_values(),
                },
            )
        except self._dynamodb.exceptions.ConditionalCheckFailedException:
            return  # another order's record, or this order ended before: nothing to say on it

    def release_attempt(self, order: OrderMessage, claim: Claim) -> None:
        """The claimed attempt never ran (no time left): its lease ends now, so the order
        feedback requeues for it (same retryCount) runs it at once."""
        try:
            self._dynamodb.update_item(
                TableName=self._table,
                Key={"id": {"S": record_key(order.orderId)}},
                UpdateExpression="SET claimLease = :zero",
                ConditionExpression="claimAttempt = :attempt AND claimLease = :ours",
                ExpressionAttributeValues={
                    ":zero": {"N": "0"},
                    ":attempt": {"N": str(order.retryCount or 0)},
                    ":ours": {"N": str(claim.lease_until_ms)},
                },
            )
        except self._dynamodb.exceptions.ConditionalCheckFailedException:
            return  # taken over meanwhile: nothing of ours to release

    def hold_for_retry(self, failed_attempt: OrderMessage, retry: OrderMessage) -> bool:
        """FIFO queues: the failed attempt's message stays in its group for the retry, which
        its next receive runs; the record says which attempt that is (the message's body
        stays the first attempt's). The write feedback's requeue makes in standard mode:
        the order's state and the retry. False if it was written before (a redelivery)."""
        now = _now()
        try:
            self._dynamodb.update_item(
                TableName=self._table,
                Key={"id": {"S": record_key(failed_attempt.orderId)}},
                UpdateExpression=(
                    "SET #status = :requeued, #updatedAt = :now, #order = :order, #retryCount = :retry,"
                    " #history = list_append(if_not_exists(#history, :empty), :entry)"
                ),
                ConditionExpression="#retryCount = :failed AND " + NOT_TERMINAL,
                ExpressionAttributeNames={
                    "#status": "status",
                    "#updatedAt": "updatedAt",
                    "#order": "order",
                    "#retryCount": "retryCount",
                    "#history": "history",
                },
                ExpressionAttributeValues={
                    ":requeued": {"S": OrderState.REQUEUED.value},
                    ":now": {"S": now},
                    ":order": {"S": retry.to_json()},
                    ":retry": {"N": str(retry.retryCount or 0)},
                    ":failed": {"N": str(failed_attempt.retryCount or 0)},
                    ":empty": {"L": []},
                    ":entry": _history(OrderState.REQUEUED, now),
                    **_terminal_values(),
                },
            )
        except self._dynamodb.exceptions.ConditionalCheckFailedException:
            return False
        return True

    @staticmethod
    def latest_attempt(item: dict[str, Any] | None) -> OrderMessage | None:
        """The attempt a record holds as its order's latest (FIFO queues: the one the order's
        message runs on its next receive), unless the order has ended."""
        if not item or "order" not in item or OrderRecords.has_ended(item):
            return None
        return OrderMessage.model_validate_json(item["order"]["S"])

    def stored_result(self, order_id: str, retry_count: int) -> str | None:
        """The result the worker stored for this attempt (its JSON), if any."""
        answer = self._dynamodb.get_item(
            TableName=self._table, Key={"id": {"S": result_key(order_id, retry_count)}}, ConsistentRead=True
        )
        item = answer.get("Item")
        return item["result"]["S"] if item else None

    def store_result(self, order_id: str, retry_count: int, result_json: str) -> str:
        """Keeps the attempt's result before it is sent (a redelivery sends it again rather
        than running the task again); returns the result stored, which is an earlier one if
        another invocation stored one first."""
        try:
            self._dynamodb.put_item(
                TableName=self._table,
                Item={
                    "id": {"S": result_key(order_id, retry_count)},
                    "result": {"S": result_json},
                    "expiration": {"N": str(int(time.time()) + RESULT_RETENTION_SECONDS)},
                },
                ConditionExpression="attribute_not_exists(id)",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except self._dynamodb.exceptions.ConditionalCheckFailedException as taken:
            earlier = taken.response.get("Item") or {}
            return str(earlier.get("result", {}).get("S") or self.stored_result(order_id, retry_count) or result_json)
        return result_json

    def renew_for_redrive(self, order_id: str) -> int:
        """A message of the order is about to be sent anew (a DLQ redrive): it can then be
        delivered for another MESSAGE_LIFETIME_SECONDS, so what keeps its redelivery from doing
        its work twice is kept that long from now: the order's record (feedback's acts, the
        worker's claims) and the result of each attempt it reached. Never shortens an
        expiration and never creates an item. Returns how many items it renewed."""
        record = self.item(order_id)
        if record is None:
            return 0
        now = int(time.time())
        latest = max(int(record.get(name, {}).get("N", "0")) for name in ("retryCount", "claimAttempt"))
        renewals = [(record_key(order_id), now + RETENTION_SECONDS)]
        renewals += [(result_key(order_id, attempt), now + RESULT_RETENTION_SECONDS) for attempt in range(latest + 1)]
        renewed = 0
        for key, until in renewals:
            try:
                self._dynamodb.update_item(
                    TableName=self._table,
                    Key={"id": {"S": key}},
                    UpdateExpression="SET #expiration = :until",
                    ConditionExpression=(
                        "attribute_exists(id) AND (attribute_not_exists(#expiration) OR #expiration < :until)"
                    ),
                    ExpressionAttributeNames={"#expiration": "expiration"},
                    ExpressionAttributeValues={":until": {"N": str(until)}},
                )
                renewed += 1
            except self._dynamodb.exceptions.ConditionalCheckFailedException:
                continue  # no such attempt's result, or kept longer already
        return renewed

    # ------------------------------------------------------------------ feedback
    @staticmethod
    def has_acted(item: dict[str, Any] | None, act_key: str) -> bool:
        return item is not None and act_key in item.get("acted", {}).get("SS", [])

    @staticmethod
    def has_ended(item: dict[str, Any] | None) -> bool:
        return item is not None and item.get("status", {}).get("S") in {s.value for s in TERMINAL_STATES}

    def record_act(self, order_id: str, act_key: str, state: OrderState, retry: OrderMessage | None = None) -> bool:
        """Feedback acted on a result: the act and the order's new state (with a requeued
        order, the attempt it sent) in one write. False if this result was acted on before.
        A terminal state is kept: the act is then recorded without the state."""
        now = _now()
        names = {
            "#status": "status",
            "#updatedAt": "updatedAt",
            "#history": "history",
            "#acted": "acted",
            "#expiration": "expiration",
        }
        values: dict[str, Any] = {
            ":state": {"S": state.value},
            ":now": {"S": now},
            ":expiration": _expiration(),
            ":empty": {"L": []},
            ":entry": _history(state, now),
            ":act": {"SS": [act_key]},
            ":act_key": {"S": act_key},
            **_terminal_values(),
        }
        assignments = [
            "#status = :state",
            "#updatedAt = :now",
            "#history = list_append(if_not_exists(#history, :empty), :entry)",
            # A result of an order with no record (sent straight to the result queue) makes
            # one: it expires as every record does.
            "#expiration = if_not_exists(#expiration, :expiration)",
        ]
        if retry is not None:
            names |= {"#order": "order", "#retryCount": "retryCount"}
            values |= {":order": {"S": retry.to_json()}, ":retryCount": {"N": str(retry.retryCount or 0)}}
            assignments += ["#order = :order", "#retryCount = :retryCount"]
        try:
            self._dynamodb.update_item(
                TableName=self._table,
                Key={"id": {"S": record_key(order_id)}},
                UpdateExpression="SET " + ", ".join(assignments) + " ADD #acted :act",
                ConditionExpression="NOT contains(#acted, :act_key) AND " + NOT_TERMINAL,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
            return True
        except self._dynamodb.exceptions.ConditionalCheckFailedException:
            pass
        try:  # acted on before, or the order had ended (another result): the act alone
            self._dynamodb.update_item(
                TableName=self._table,
                Key={"id": {"S": record_key(order_id)}},
                UpdateExpression="SET #expiration = if_not_exists(#expiration, :expiration) ADD #acted :act",
                ConditionExpression="NOT contains(#acted, :act_key)",
                ExpressionAttributeNames={"#acted": "acted", "#expiration": "expiration"},
                ExpressionAttributeValues={
                    ":act": {"SS": [act_key]},
                    ":act_key": {"S": act_key},
                    ":expiration": _expiration(),
                },
            )
            return True
        except self._dynamodb.exceptions.ConditionalCheckFailedException:
            return False

    # ------------------------------------------------------------------ dead letters
    def transition(
        self,
        order_id: str,
        state: OrderState,
        *,
        only_from: Collection[OrderState] = (),
        not_from: Collection[OrderState] = (),
    ) -> bool:
        """Sets the order's state and appends it to the history; with `only_from`, only if the
        record is in one of those states now; with `not_from`, only if it is in none of them.
        False when a condition kept the record as it was."""
        now = _now()
        values: dict[str, Any] = {
            ":status": {"S": state.value},
            ":now": {"S": now},
            ":empty": {"L": []},
            ":entry": _history(state, now),
            ":expiration": _expiration(),
        }
        conditions = []
        if only_from:
            allowed = {f":from{index}": {"S": earlier.value} for index, earlier in enumerate(only_from)}
            values.update(allowed)
            conditions.append(f"#status IN ({', '.join(allowed)})")
        if not_from:
            refused = {f":not{index}": {"S": earlier.value} for index, earlier in enumerate(sorted(not_from))}
            values.update(refused)
            conditions.append(f"(attribute_not_exists(#status) OR NOT (#status IN ({', '.join(refused)})))")
        condition = {"ConditionExpression": " AND ".join(conditions)} if conditions else {}
        try:
            self._dynamodb.update_item(
                TableName=self._table,
                Key={"id": {"S": record_key(order_id)}},
                # A DLQ message may name an order with no record (a direct order the contract
                # refused): the record this makes expires as every record does.
                UpdateExpression=(
                    "SET #status = :status, #updatedAt = :now,"
                    " #history = list_append(if_not_exists(#history, :empty), :entry),"
                    " #expiration = if_not_exists(#expiration, :expiration)"
                ),
                ExpressionAttributeNames={
                    "#status": "status",
                    "#updatedAt": "updatedAt",
                    "#history": "history",
                    "#expiration": "expiration",
                },
                ExpressionAttributeValues=values,
                **condition,
            )
        except self._dynamodb.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def mark_dead_lettered(self, order_id: str) -> bool:
        """Its message failed on its last allowed receive: the queue moves it to the DLQ next."""
        return self.transition(order_id, OrderState.DEAD_LETTERED, not_from=TERMINAL_STATES)

    def redriven(self, order_id: str) -> bool:
        """Its message is back in its source queue (a DLQ redrive): the order gets the state
        it had before it was dead-lettered. False if it was not dead-lettered."""
        record = self.get(order_id)
        if not record or record.get("status") != OrderState.DEAD_LETTERED.value:
            return False
        earlier = [entry["status"] for entry in record.get("history", []) if entry["status"] != "dead-lettered"]
        before = OrderState(earlier[-1]) if earlier else OrderState.QUEUED
        return self.transition(order_id, before, only_from=(OrderState.DEAD_LETTERED,))
