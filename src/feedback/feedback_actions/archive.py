"""archive: the result as JSON in the archive bucket, partitioned by the result's hour (UTC)."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from automation_shared.contracts import ResultMessage


def archive_key(result: ResultMessage) -> str:
    at = result.timestamp.astimezone(UTC)
    return f"year={at:%Y}/month={at:%m}/day={at:%d}/hour={at:%H}/{result.orderId}.json"


def archive(s3: Any, bucket: str, result: ResultMessage) -> str:
    key = archive_key(result)
    s3.put_object(Bucket=bucket, Key=key, Body=result.to_json().encode(), ContentType="application/json")
    return key
