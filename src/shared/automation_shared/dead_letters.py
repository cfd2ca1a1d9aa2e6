"""A record that failed: logged with its reason, and, on its last allowed receive, its
order marked `dead-lettered` (the queue moves it to its DLQ at the next receive).

Shared by the two queue consumers. The record's order id comes from its body even when
the contract refuses the body (a faulty producer's message still names its order).
"""

from __future__ import annotations

import json
import re
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from pydantic import ValidationError

from .order_records import OrderRecords

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

logger = Logger(child=True)  # logs through the function's own Logger (same service)


def order_id_in(body: str) -> str | None:
    """The `orderId` of a body, if it has a well-formed one."""
    try:
        document = json.loads(body)
    except ValueError:
        return None
    order_id = document.get("orderId") if isinstance(document, dict) else None
    return order_id if isinstance(order_id, str) and UUID.match(order_id) else None


def on_last_receive(record: SQSRecord, max_receive_count: int) -> bool:
    return int(record.attributes.approximate_receive_count) >= max_receive_count


def return_now(sqs: Any, queue_url: str, record: SQSRecord) -> None:
    """FIFO queues: a record no receive can take (its body refused) is made visible again at
    once, so it spends its receives and reaches the DLQ in moments rather than after
    maxReceiveCount visibility timeouts, while its user's later messages wait behind it."""
    try:
        sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=record.receipt_handle, VisibilityTimeout=0)
    except Exception as refused:  # it returns after the visibility timeout instead
        logger.warning("could not return the record at once", message_id=record.message_id, error=str(refused))


def record_failed(record: SQSRecord, failure: Exception, max_receive_count: int, records: OrderRecords) -> None:
    """What a consumer does with a record it reports as failed (it then re-raises)."""
    last = on_last_receive(record, max_receive_count)
    reason: Any = str(failure)
    if isinstance(failure, ValidationError):  # the contract refused the body: each field with its path
        reason = [{"path": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in failure.errors()]
    logger.warning(
        "record failed; it returns to its queue" + (" and moves to the DLQ (last receive)" if last else ""),
        message_id=record.message_id,
        receive_count=int(record.attributes.approximate_receive_count),
        error=type(failure).__name__,
        reason=reason,
    )
    order_id = order_id_in(record.body) if last else None
    if order_id:
        records.mark_dead_lettered(order_id)
