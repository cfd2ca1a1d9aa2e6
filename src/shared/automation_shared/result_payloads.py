"""Result data too large for the result queue: kept in S3, the message carries a pointer.

This is the extended-client pattern (Amazon SQS Extended Client Library for Java and
Python) applied to `result.data` only, not to the whole body. The libraries replace the
whole body by `["software.amazon.payloadoffloading.PayloadS3Pointer", {...}]`, and that
cannot work here: the feedback mapping's FilterCriteria match `followUpAction` in the
body, so a pointer body matches no filter and Lambda deletes it unseen (a lost result);
the pointer body is also not a ResultMessage any more. So the message stays a valid
ResultMessage (every field the filters, the idempotency key and the follow-up rules read
stays in it) and only the bulky `result.data` moves to S3, named in `result.dataPointer`.
Not the libraries themselves either: they wrap a boto3 client's send_message (not the
SendMessageBatch calls of `BatchedSender`), name objects by a random UUID (a redelivered
record would store a second copy) and delete the object when the consumer deletes the
message, which here the event source mapping does, not the client. Powertools for Python
has no large-message utility (aws-powertools/powertools-lambda-python#5157, not planned;
Java's `powertools-large-messages` reads the whole-body pointer only).

The objects live in the archive bucket under `payloads/` (same KMS key, TLS-only policy
and public-access block as the archive), named per order and attempt, so a redelivered
record or a rerun attempt overwrites the same object. A lifecycle rule expires them
(template.yaml, `ExpireResultPayloads`); the worker role may only put, the feedback role
only get, objects under the prefix.
"""

from __future__ import annotations

import json
from typing import Any

from .contracts import PAYLOAD_KEY_PREFIX, PayloadS3Pointer, ResultMessage

CONTENT_TYPE = "application/json"


class PayloadNotFoundError(Exception):
    """The pointer names an object that is not there (expired, or another bucket)."""


def payload_key(order_id: str, attempt: int) -> str:
    """One object per order and attempt: the same key whenever that attempt's result is built."""
    return f"{PAYLOAD_KEY_PREFIX}{order_id}/attempt-{attempt}.json"


def data_bytes(data: dict[str, Any]) -> bytes:
    """`result.data` as JSON, compact and in UTF-8, as pydantic writes it into the message."""
    return json.dumps(data, default=str, separators=(",", ":"), ensure_ascii=False).encode()


def store(s3: Any, bucket: str, key: str, data: bytes) -> PayloadS3Pointer:
    """Puts the data (encrypted by the bucket's default SSE-KMS key) and returns its pointer."""
    s3.put_object(Bucket=bucket, Key=key, Body=data, ContentType=CONTENT_TYPE)
    return PayloadS3Pointer(s3BucketName=bucket, s3Key=key, size=len(data))


def resolve(s3: Any, bucket: str, result: ResultMessage) -> ResultMessage:
    """The result with its data in place: as it was, or read back from where the pointer names.

    Only pointers into `bucket` are followed (the contract already keeps the key under the
    payload prefix), so a forged message cannot make the reader fetch another object."""
    pointer = result.result.dataPointer
    if pointer is None:
        return result
    if pointer.s3BucketName != bucket:
        raise PayloadNotFoundError(f"result data pointer names bucket {pointer.s3BucketName!r}, not {bucket!r}")
    try:
        stored = s3.get_object(Bucket=bucket, Key=pointer.s3Key)["Body"].read()
    except s3.exceptions.NoSuchKey as missing:
        raise PayloadNotFoundError(f"result data s3://{bucket}/{pointer.s3Key} is gone") from missing
    body = result.result.model_copy(update={"data": json.loads(stored), "dataPointer": None, "size": None})
    return result.model_copy(update={"result": body})
