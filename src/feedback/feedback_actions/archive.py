"""archive: results as JSON Lines in the archive bucket, partitioned by the result's hour (UTC).

The results a feedback invocation archives are written together, one object per hour
partition (`year=YYYY/month=MM/day=DD/hour=HH/<batch>.jsonl`, one result a line) rather
than one object per result: an S3 PUT costs as much as 8 DynamoDB writes, and most
results are archived. The object's name is a digest of the results it holds, so a batch
written again as it was (a redelivery after the invocation died) replaces its object; a
redelivered result in another batch lands in another object: archiving is at least once
(readers keep one line per `orderId`, the newest `timestamp`), like every act whose call
the invocation died after.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC
from typing import Any

from automation_shared.batched_sender import BatchGathering
from automation_shared.contracts import ResultMessage

CONTENT_TYPE = "application/x-ndjson"


def partition(result: ResultMessage) -> str:
    at = result.timestamp.astimezone(UTC)
    return f"year={at:%Y}/month={at:%m}/day={at:%d}/hour={at:%H}"


def archive_key(results: Sequence[ResultMessage]) -> str:
    """The object of results of one hour: named by a digest of what it holds."""
    digest = hashlib.sha256("\n".join(sorted(r.to_json() for r in results)).encode()).hexdigest()[:32]
    return f"{partition(results[0])}/{digest}.jsonl"


class ArchiveWriter(BatchGathering[ResultMessage]):
    """The archive entries of one invocation's records, written once every record is in."""

    def __init__(self, s3: Any, bucket: str, expected: int) -> None:
        super().__init__(expected)
        self._s3 = s3
        self._bucket = bucket
        self.key_of: dict[int, str] = {}  # id() of an archived result -> the object holding it

    def _write(self, items: Sequence[ResultMessage]) -> set[int]:
        by_hour: dict[str, list[int]] = defaultdict(list)
        for index, result in enumerate(items):
            by_hour[partition(result)].append(index)
        failed: set[int] = set()
        for indexes in by_hour.values():
            results = [items[i] for i in indexes]
            key = archive_key(results)
            body = "".join(result.to_json() + "\n" for result in results).encode()
            try:
                self._s3.put_object(Bucket=self._bucket, Key=key, Body=body, ContentType=CONTENT_TYPE)
            except Exception:  # the records of this object fail and return; the others stand
                failed.update(indexes)
                continue
            self.key_of.update({id(result): key for result in results})
        return failed
