"""Every size and count the stack enforces, each derived from an AWS limit it must fit.

The AWS limits (as of 2026):

- an SQS message is at most 1 MiB, body and attributes together (raised from 256 KiB in
  August 2025; Lambda's SQS event source delivers such messages since January 2026);
- a DynamoDB item is at most 400 KB, attribute names and values together;
- a synchronous Lambda invocation's event is at most 6 MB (an SQS event source's batch
  of up to 10 messages is one event).

What follows from them:

- **An order message is at most 256 KiB** (the order queue's `MaximumMessageSize`, so SQS
  itself refuses a larger direct send). Every order is copied into its record (its body,
  so feedback can requeue it, plus its history, claims and acts): 256 KiB leaves more than
  140 KB of the 400 KB item for them. A batch of 10 such messages is 2.5 MiB, 5 MiB if
  every byte of the bodies were escaped once more in the event's JSON: within 6 MB.
- **A result message is at most 256 KiB** (the result queue's `MaximumMessageSize`): it is
  stored (`result#...`) before it is sent, so it too must fit an item; result data beyond
  that goes to S3 (result_payloads.py), and the message carries a pointer.
- **The free-text fields the stack keys on are bounded** beyond the contract (whose JSON
  Schema stays the original's): `userId` is a FIFO and fair-queue `MessageGroupId` (128
  characters at most), a message attribute and a key of every record; `correlationId` is a
  message attribute and on every log line; `payload.url` is fetched by the worker. A
  client past one of them gets a 422 naming the field and the bound, before anything is
  sent (webhook_api/intake.py), as for `payload.timeout` beyond the worker's budget.
- **A request to the webhook is at most 1 MiB** and holds at most 10 orders (one
  SendMessageBatch): the HTTP API takes 10 MB and Lambda 6 MB, so neither refuses it first.

README.md, "Limits", lists each with where it is enforced and what a client gets past it;
tests/pure/test_limits.py checks the event derivation, tests/functions/test_order_records.py
the item one (a record of an order at every bound, through a long life, on the emulator).
"""

from __future__ import annotations

from .contracts import OrderMessage

SQS_MESSAGE_MAX_BYTES = 1024 * 1024
DYNAMODB_ITEM_MAX_BYTES = 400 * 1024
LAMBDA_EVENT_MAX_BYTES = 6 * 1024 * 1024
SQS_BATCH_MAX_ENTRIES = 10

ORDER_MESSAGE_MAX_BYTES = 256 * 1024  # the order queue's MaximumMessageSize (template.yaml)
RESULT_MESSAGE_MAX_BYTES = 256 * 1024  # the result queue's MaximumMessageSize (template.yaml)
REQUEST_BODY_MAX_BYTES = 1024 * 1024
ORDERS_PER_REQUEST = SQS_BATCH_MAX_ENTRIES

# Characters, as the contract counts a string's length.
USER_ID_MAX_CHARS = 128  # SQS's MessageGroupId bound
CORRELATION_ID_MAX_CHARS = 128
URL_MAX_CHARS = 2048  # what browsers, CDNs and most HTTP servers take in a request line


def bounds_exceeded(order: OrderMessage, message_bytes: int) -> list[tuple[tuple[str, ...], str]]:
    """Each bound of the stack the order goes past, with its field's location (`()` for the
    order as a whole) and what the bound is: for the webhook's 422 and the worker's refusal
    of a direct order. `message_bytes`: the order's size as a queue message (the webhook's
    message to send; the message the worker received)."""
    fields: tuple[tuple[tuple[str, ...], str | None, int, str], ...] = (
        (("userId",), order.userId, USER_ID_MAX_CHARS, "it is the queues' message group id"),
        (("correlationId",), order.correlationId, CORRELATION_ID_MAX_CHARS, "a message attribute, on every log line"),
        (("payload", "url"), order.payload.url, URL_MAX_CHARS, "the longest URL the worker fetches"),
    )
    exceeded: list[tuple[tuple[str, ...], str]] = [
        (location, f"at most {bound} characters on this stack ({why}), not {len(value)}")
        for location, value, bound, why in fields
        if value is not None and len(value) > bound
    ]
    if message_bytes > ORDER_MESSAGE_MAX_BYTES:
        message = (
            f"at most {ORDER_MESSAGE_MAX_BYTES} bytes as a queue message on this stack (an order is kept in its"
            f" record, a DynamoDB item), not {message_bytes}: put large inputs in S3 and pass their location"
        )
        exceeded.append(((), message))
    return exceeded
