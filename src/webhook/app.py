"""Webhook: POST /orders and GET /orders/{orderId} on the HTTP API.

Foundation stage: the routes exist and answer 501 until the next issue fills them in,
so nothing is accepted that would not be enqueued.
"""

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger()
app = APIGatewayHttpResolver()


def _not_implemented() -> Response:
    return Response(
        status_code=501,
        content_type=content_types.APPLICATION_JSON,
        body='{"title": "Not implemented yet"}',
    )


@app.post("/orders")
def create_orders() -> Response:
    return _not_implemented()


@app.get("/orders/<orderId>")
def get_order(orderId: str) -> Response:  # noqa: N803 - the route's path parameter name
    return _not_implemented()


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
