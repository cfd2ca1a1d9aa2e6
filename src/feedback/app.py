"""Feedback: consumes the result queue and reports each record it could not handle.

Foundation stage: records are validated against the contract; the next issue adds the
follow-up actions.
"""

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from automation_shared.contracts import ResultMessage

logger = Logger()
# A batch whose every record failed is still a partial response, never a crashed batch:
# only the reported records return to the queue, each on its own way to the DLQ.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def record_handler(record: SQSRecord) -> None:
    result = ResultMessage.model_validate_json(record.body)
    logger.info("result received", order_id=result.orderId, follow_up_action=result.followUpAction)


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
