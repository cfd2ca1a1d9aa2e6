"""Turning a request body into validated orders, or into the exact list of what is wrong.

Nothing is enqueued unless every order of the request is valid: valid against the order
contract, asking no more time (`payload.timeout`) than this stack's worker can give a task
(automation_shared.task_budget), since such an order would time out on every attempt, and
within the sizes the stack keeps (automation_shared.limits: a field longer than its bound,
or an order larger than the order queue's message, is refused here, naming the field and
the bound, rather than failing after it was sent).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from automation_shared import limits
from automation_shared.contracts import OrderMessage
from automation_shared.messages import order_message
from automation_shared.order_records import order_id_for

MAX_BODY_BYTES = limits.REQUEST_BODY_MAX_BYTES
MAX_ORDERS_PER_REQUEST = limits.ORDERS_PER_REQUEST


@dataclass
class IntakeError(Exception):
    status: int
    title: str
    errors: list[dict[str, str]] = field(default_factory=list)


def _path(prefix: str, location: tuple[Any, ...]) -> str:
    path = prefix
    for part in location:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "(body)"


def _with_defaults(raw: dict[str, Any]) -> dict[str, Any]:
    """The client may leave out orderId (derived from its user and deduplicationId, so each
    request of the user with it names the same order; else a new UUIDv4) and timestamp (now)."""
    order = dict(raw)
    deduplication_id, user_id = order.get("deduplicationId"), order.get("userId")
    if "orderId" not in order:
        keyed = isinstance(deduplication_id, str) and isinstance(user_id, str)
        order["orderId"] = order_id_for(str(user_id), str(deduplication_id)) if keyed else str(uuid.uuid4())
    order.setdefault("timestamp", datetime.now(UTC).isoformat().replace("+00:00", "Z"))
    return order


def _timeout_error(order: OrderMessage, prefix: str, longest_task_seconds: int) -> dict[str, str] | None:
    timeout = order.payload.timeout
    if timeout is None or timeout <= longest_task_seconds:
        return None
    message = (
        f"at most {longest_task_seconds} s on this stack (the worker's timeout leaves no more for a task); "
        "raise the stack's WorkerTimeoutSeconds to allow longer tasks"
    )
    return {"path": _path(prefix, ("payload", "timeout")), "message": message}


def _size_errors(order: OrderMessage, prefix: str) -> list[dict[str, str]]:
    return [
        {"path": _path(prefix, location), "message": message}
        for location, message in limits.bounds_exceeded(order, order_message(order).size)
    ]


@dataclass(frozen=True)
class Intake:
    orders: list[OrderMessage]
    is_batch: bool  # the body was a JSON array
    # Some order came with neither orderId nor deduplicationId: nothing but the request's
    # signature tells a replay of it from a new order.
    anonymous: bool


def parse_orders(body: bytes, longest_task_seconds: int) -> Intake:
    """Validated orders of the body; raises IntakeError. `longest_task_seconds`: the most
    `payload.timeout` may ask (task_budget.longest_task_seconds)."""
    if len(body) > MAX_BODY_BYTES:
        raise IntakeError(413, f"Body larger than {MAX_BODY_BYTES} bytes")
    try:
        document = json.loads(body)
    except RecursionError as error:  # nested deeper than the parser recurses
        raise IntakeError(400, "Malformed JSON", [{"path": "(body)", "message": "nested too deeply"}]) from error
    except ValueError as error:
        # Not UTF-8, not JSON, or a number longer than int() converts (4,300 digits); the
        # first two are subclasses (UnicodeDecodeError, JSONDecodeError), the last is not.
        raise IntakeError(400, "Malformed JSON", [{"path": "(body)", "message": str(error)}]) from error
    is_batch = isinstance(document, list)
    raw_orders = document if is_batch else [document]
    if is_batch and not 1 <= len(raw_orders) <= MAX_ORDERS_PER_REQUEST:
        message = f"a batch holds 1 to {MAX_ORDERS_PER_REQUEST} orders, not {len(raw_orders)}"
        raise IntakeError(422, "Invalid orders", [{"path": "(body)", "message": message}])
    orders, errors = [], []
    for index, raw in enumerate(raw_orders):
        prefix = f"[{index}]" if is_batch else ""
        if not isinstance(raw, dict):
            errors.append({"path": prefix or "(body)", "message": "an order must be a JSON object"})
            continue
        try:
            order = OrderMessage.model_validate(_with_defaults(raw))
        except ValidationError as invalid:
            errors.extend({"path": _path(prefix, e["loc"]), "message": e["msg"]} for e in invalid.errors())
            continue
        if too_long := _timeout_error(order, prefix, longest_task_seconds):
            errors.append(too_long)
        errors.extend(_size_errors(order, prefix))
        orders.append(order)
    if errors:
        raise IntakeError(422, "Invalid orders", errors)
    anonymous = any("orderId" not in raw and "deduplicationId" not in raw for raw in raw_orders)
    return Intake(orders, is_batch, anonymous)
