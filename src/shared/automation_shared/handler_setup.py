"""What every function's module sets up the same way, once: the tracer, the batch
processor of the two queue consumers, and the order records on the stack's table.

Each handler module still holds its own module-level `tracer`, `processor` and `records`
(Powertools' examples' shape, and what tests patch); only how they are made lives here.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Tracer

from automation_shared.order_records import OrderRecords

if TYPE_CHECKING:  # the webhook consumes no queue: it never imports the batch utility
    from aws_lambda_powertools.utilities.batch import AsyncBatchProcessor, SqsFifoPartialProcessor


def botocore_tracer() -> Tracer:
    """Powertools' Tracer patching botocore only: of what patch_all() would patch, the only
    library the functions use (sqlite3, requests and the database drivers never are),
    without importing the others."""
    return Tracer(patch_modules=["botocore"])


def sqs_record_processor() -> AsyncBatchProcessor:
    """The consumers' batch processor. The body is parsed in each `record_handler` rather
    than by the processor's `model=`: every record must reach the handler, so the batch's
    shared sender knows when all its messages are in (a refused body is a failed record)."""
    from aws_lambda_powertools.utilities.batch import AsyncBatchProcessor, EventType

    return AsyncBatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def fifo_record_processor() -> SqsFifoPartialProcessor:
    """The consumers' processor on FIFO queues: records one after another, and after a
    failed one the rest of its message group in the batch reported failed unprocessed
    (`skip_group_on_error`: other users' records go on), so no later record of a user
    passes an earlier one (README, "FIFO mode"). The FIFO mappings give both consumers
    batches of one, since each receive of the failed record would spend one of the skipped
    records' receives; the skip keeps the order should a batch ever hold more."""
    from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor

    processor = SqsFifoPartialProcessor(skip_group_on_error=True)
    # As the standard processor: a batch whose every record failed (a FIFO worker's batch of
    # one, held for its retry) is reported record by record, not raised as a function error
    # (which the Errors alarm counts). Its constructor does not take the option.
    processor.raise_on_entire_batch_failure = False
    return processor


def order_records(dynamodb: Any) -> OrderRecords:
    """The order records on the table the stack names in ORDERS_TABLE_NAME."""
    return OrderRecords(dynamodb, os.environ["ORDERS_TABLE_NAME"])
