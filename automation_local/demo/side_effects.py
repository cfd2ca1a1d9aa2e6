"""Side effects of a run counted where they land, to show none happened twice: Telegram
messages at its stand-in, archived results in the archive bucket, page reads at the
target site."""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

from automation_local.demo.plan import FAILING_ORDER_RETRY_POLICY, Fate, PlannedOrder
from automation_local.outside.standins import RecordedRequest

# Feedback's Telegram text names the order in parentheses (feedback_actions.telegram).
ORDER_IN_TEXT = re.compile(r"\(([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\)")
ARCHIVE_PREFIX = "year="
# Page reads a web task's order should cause: one per attempt its plan gives it.
PLANNED_READS = {
    Fate.SUCCEEDS: 1,
    Fate.RETRIED: 2,
    Fate.ESCALATED: 1 + int(FAILING_ORDER_RETRY_POLICY["maxRetries"]),
}


def _beyond(counts: Counter[str], allowed: dict[str, int]) -> int:
    """How many side effects there were beyond what each order allows."""
    return sum(max(0, count - allowed.get(order_id, 1)) for order_id, count in counts.items())


def notifications(telegram_requests: list[RecordedRequest]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for request in telegram_requests:
        match = ORDER_IN_TEXT.search(str(request.json().get("text", "")))
        if match:
            counts[match.group(1)] += 1
    return counts


def archived_results(s3: Any, bucket: str) -> dict[str, list[dict[str, Any]]]:
    """Every archived result by order id, with the key of the object holding it: the
    `year=.../<batch>.jsonl` objects, one result a line (feedback_actions.archive; the
    bucket's `payloads/` hold large results' data, not archives)."""
    found: dict[str, list[dict[str, Any]]] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=ARCHIVE_PREFIX):
        for item in page.get("Contents", []):
            body = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read().decode()
            # JSON Lines end at "\n" only: str.splitlines() would also cut a result at a
            # U+2028 or U+0085 inside one of its strings.
            for line in filter(None, body.split("\n")):
                result = json.loads(line)
                found.setdefault(result["orderId"], []).append({**result, "archiveKey": item["Key"]})
    return found


def archived(s3: Any, bucket: str) -> Counter[str]:
    """Archived results per order."""
    return Counter({order_id: len(results) for order_id, results in archived_results(s3, bucket).items()})


def page_reads(site_requests: list[RecordedRequest]) -> Counter[str]:
    """Reads per order: the demo plan's pages are `/<folder>/<orderId>`."""
    return Counter(request.path.split("?")[0].rsplit("/", 1)[-1] for request in site_requests)


def duplicates(
    planned: list[PlannedOrder],
    telegram_requests: list[RecordedRequest],
    site_requests: list[RecordedRequest],
    archive_counts: Counter[str],
) -> dict[str, int]:
    """Side effects beyond one per order (notifications, archives), and page reads beyond
    the attempts each order's plan gives it (`repeated_task_runs`: a task whose first run
    never got its result recorded runs again, as at-least-once delivery allows; not a
    completion twice)."""
    reads_allowed = {o.order_id: PLANNED_READS.get(o.fate, 0) for o in planned}
    return {
        "notifications": _beyond(notifications(telegram_requests), {}),
        "archives": _beyond(archive_counts, {}),
        "repeated_task_runs": _beyond(page_reads(site_requests), reads_allowed),
    }
