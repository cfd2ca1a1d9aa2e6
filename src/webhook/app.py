"""Webhook: `POST /orders` (one order or up to 10) and `GET /orders/{orderId}` on the HTTP API.

Every route is authenticated (HMAC-SHA256 over `<timestamp>.<METHOD>.<path>.<raw body>`,
each signature accepted once), input is validated against the order contract (and the
worker's time budget) before anything is sent, and acceptance is idempotent on
`deduplicationId` (or `orderId`).
"""

from __future__ import annotations

import base64
import json
import os
import re

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import BotoCoreError, ClientError

from automation_shared.handler_setup import botocore_tracer, order_records
from automation_shared.signing import SignatureError, verify
from automation_shared.task_budget import longest_task_seconds
from webhook_api.acceptance import OrderIdConflictError, Outcome, accept
from webhook_api.intake import IntakeError, parse_orders
from webhook_api.problems import problem
from webhook_api.replay import ReplayedRequestError, SignatureLedger

SECRET_CACHE_SECONDS = 300  # a rotated secret is picked up within 5 minutes
ORDER_ID = re.compile(r"^[0-9a-fA-F-]{36}$")

ORDER_QUEUE_URL = os.environ["ORDER_QUEUE_URL"]
ORDERS_TABLE_NAME = os.environ["ORDERS_TABLE_NAME"]
WEBHOOK_SECRET_NAME = os.environ["WEBHOOK_SECRET_NAME"]
# The longest payload.timeout the stack's worker can honour (task_budget).
LONGEST_TASK_SECONDS = longest_task_seconds(float(os.environ["WORKER_TIMEOUT_SECONDS"]))

logger = Logger()
tracer = botocore_tracer()
metrics = Metrics()
app = APIGatewayHttpResolver()
sqs = boto3.client("sqs")
dynamodb = boto3.client("dynamodb")
records = order_records(dynamodb)
signatures = SignatureLedger(dynamodb, ORDERS_TABLE_NAME)


def _raw_body() -> bytes:
    event = app.current_event
    body = event.body or ""
    return base64.b64decode(body) if event.is_base64_encoded else body.encode()


def authenticate(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response:
    try:
        body = _raw_body()
    except ValueError:  # binascii.Error or non-ASCII: API Gateway encodes correctly, other callers may not
        return problem(400, "Malformed body", "isBase64Encoded is set but the body is not base64")
    secret = parameters.get_secret(WEBHOOK_SECRET_NAME, max_age=SECRET_CACHE_SECONDS)
    event = app.current_event
    try:
        signature, timestamp = verify(
            str(secret), dict(event.headers), event.request_context.http.method, event.raw_path, body
        )
    except SignatureError as refused:
        return unauthenticated(refused)
    app.append_context(signature=signature, signature_timestamp=timestamp)
    return next_middleware(app)


def unauthenticated(refused: Exception) -> Response:
    metrics.add_metric(name="UnauthenticatedRequests", unit=MetricUnit.Count, value=1)
    return problem(401, "Unauthenticated", str(refused))


app.use(middlewares=[authenticate])


@app.exception_handler([BotoCoreError, ClientError, GetParameterError])
def aws_refused(refused: Exception) -> Response:
    """AWS refused or could not be reached (throttled, a service error, a timeout): a 503,
    which a client may retry as it is (a retry of orders with ids names the same orders),
    never a 500 that looks like a fault of the request."""
    logger.warning("an AWS call failed; answered 503", error=str(refused))
    metrics.add_metric(name="AwsCallsRefused", unit=MetricUnit.Count, value=1)
    response = problem(503, "Service unavailable, retry later", str(refused))
    response.headers["Retry-After"] = "1"
    return response


@app.post("/orders")
def create_orders() -> Response:
    try:
        intake = parse_orders(_raw_body(), LONGEST_TASK_SECONDS)
    except IntakeError as invalid:
        metrics.add_metric(name="OrdersRejected", unit=MetricUnit.Count, value=1)
        return problem(invalid.status, invalid.title, errors=invalid.errors)
    signature, timestamp = app.context["signature"], app.context["signature_timestamp"]
    try:
        if intake.anonymous:  # its replay would be a new order: refused before anything is sent
            signatures.accept_once(signature, timestamp)
        acceptance = accept(
            intake.orders,
            records=records,
            sqs=sqs,
            queue_url=ORDER_QUEUE_URL,
            signature=signature,
            signature_recorded=intake.anonymous,
        )
        if not acceptance.recorded and not intake.anonymous:
            # No record carries this signature (every order a duplicate, or refused by SQS): a
            # record of its own, so a replay of it is refused too (and of two copies of the
            # request sent at once, the second).
            signatures.accept_once(signature, timestamp)
    except ReplayedRequestError as replayed:
        return unauthenticated(replayed)
    except OrderIdConflictError as conflict:
        metrics.add_metric(name="OrdersRejected", unit=MetricUnit.Count, value=1)
        return order_id_conflict(conflict.indexes, intake.is_batch)
    accepted = acceptance.accepted
    results = [{"orderId": a.order_id, "status": a.outcome.value} for a in accepted]
    metrics.add_metric(
        name="OrdersQueued", unit=MetricUnit.Count, value=sum(a.outcome is Outcome.QUEUED for a in accepted)
    )
    not_accepted = [a for a in accepted if a.outcome in (Outcome.FAILED, Outcome.CONFLICT)]
    if len(not_accepted) == len(accepted):
        if any(a.outcome is Outcome.CONFLICT for a in accepted):  # another request took the orderId first
            return order_id_conflict(
                [i for i, a in enumerate(accepted) if a.outcome is Outcome.CONFLICT], intake.is_batch
            )
        return problem(503, "Not accepted, retry later", orders=results)  # SQS refused every order: safe to retry
    body = {"orders": results} if intake.is_batch else results[0]
    # 207: some orders of the batch were not accepted (to retry, or conflicting), each named with its status.
    status_code = 207 if not_accepted else 202
    return Response(status_code=status_code, content_type=content_types.APPLICATION_JSON, body=json.dumps(body))


def order_id_conflict(indexes: list[int], is_batch: bool) -> Response:
    message = (
        "names another order (another user's, or one sent with another deduplicationId):"
        " leave orderId out, or choose a new one"
    )
    errors = [{"path": f"[{index}].orderId" if is_batch else "orderId", "message": message} for index in indexes]
    return problem(409, "Order id taken", errors=errors)


@app.get("/orders/<orderId>")
def get_order(orderId: str) -> Response:  # noqa: N803 - the route's path parameter
    try:
        signatures.accept_once(app.context["signature"], app.context["signature_timestamp"])
    except ReplayedRequestError as replayed:
        return unauthenticated(replayed)
    if not ORDER_ID.match(orderId):
        return problem(400, "Invalid order id", errors=[{"path": "orderId", "message": "must be a UUID"}])
    record = records.get(orderId.lower())
    if record is None:
        return problem(404, "Order not found")
    record.pop("order", None)
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=json.dumps(record))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
