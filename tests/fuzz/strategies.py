"""Hypothesis strategies for what arrives from outside: JSON of any shape, hostile raw
bodies, and contract messages (orders, results) valid or with exactly one field broken."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from automation_local.cloudformation.template import load_template
from automation_shared.contracts import FollowUpAction, Priority, ResultStatus, TaskType
from automation_shared.task_budget import longest_task_seconds

# The longest payload.timeout the webhook of the test stack (template defaults) accepts.
WEBHOOK_LONGEST_TASK_SECONDS = longest_task_seconds(
    float(load_template()["Parameters"]["WorkerTimeoutSeconds"]["Default"])
)

# ------------------------------------------------------------------ any JSON, any bytes
json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)

# Inputs that break parsers rather than validators: depth, size, number length, encoding.
HOSTILE_TEXTS = [
    "[" * 100_000 + "]" * 100_000,  # nesting deeper than the recursion limit
    '{"a":' * 50_000 + "1" + "}" * 50_000,
    "1" * 5_000,  # more digits than int() converts by default (4,300)
    '{"retryCount": ' + "9" * 5_000 + "}",
    '"' + "x" * 200_000 + '"',  # a huge string within the webhook's body limit
    '{"userId": "\\ud800"}',  # a lone surrogate, escaped
    "NaN",
    '{"payload": {"timeout": Infinity}}',
    "\ufeff{}",  # a byte order mark before the document
]
hostile_texts = st.sampled_from(HOSTILE_TEXTS)
not_json_texts = st.text(max_size=60).filter(lambda text: not _parses(text))
bad_utf8 = st.binary(max_size=40).map(lambda tail: b"\xff\xfe\xc3" + tail)


def _parses(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def fresh_uuid() -> str:
    # A new id per example (not drawn from Hypothesis): the handlers are idempotent per
    # order, so a repeated id would rightly be skipped as already done.
    return str(uuid.uuid4())


# ------------------------------------------------------------------ one field broken
MISSING = object()


@dataclass(frozen=True)
class Mutation:
    """One field of a valid document replaced by `value`, or removed when it is MISSING."""

    field: str
    value: Any

    def apply(self, document: dict[str, Any]) -> dict[str, Any]:
        changed = dict(document)
        if self.value is MISSING:
            changed.pop(self.field, None)
        else:
            changed[self.field] = self.value
        return changed

    def __repr__(self) -> str:
        return f"Mutation({self.field!r}, {'MISSING' if self.value is MISSING else repr(self.value)})"


def _not_in(values: type[Any]) -> st.SearchStrategy[str]:
    allowed = {member.value for member in values}
    return st.text(max_size=20).filter(lambda text: text not in allowed)


not_a_string = (
    st.integers()
    | st.booleans()
    | st.lists(json_scalars, max_size=2)
    | st.dictionaries(st.text(max_size=4), json_scalars, max_size=2)
)
not_a_number = st.text(max_size=10) | st.booleans() | st.lists(st.integers(), max_size=2)
not_an_object = st.booleans() | st.integers() | st.floats() | st.text(max_size=10) | st.lists(json_scalars, max_size=2)
not_a_date = st.text(max_size=25) | st.integers() | st.just("2026-11-25T10:00:00")  # the last lacks a zone
not_a_uuid4 = st.text(max_size=40) | st.uuids(version=1).map(str) | st.integers()
bad_counters = st.integers(max_value=-1) | st.integers(min_value=4) | st.floats() | not_a_number

BROKEN_ORDER_FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "orderId": not_a_uuid4,
    "taskType": _not_in(TaskType) | not_a_string,
    "payload": not_an_object
    | st.builds(lambda timeout: {"timeout": timeout}, st.floats(max_value=29.9) | st.floats(min_value=900.1))
    | st.builds(lambda retries: {"retryPolicy": {"maxRetries": retries}}, bad_counters)
    | st.builds(lambda url: {"url": url}, st.just("") | not_a_string),
    "userId": st.just("") | not_a_string,
    "timestamp": not_a_date,
    "priority": _not_in(Priority) | not_a_string,
    "retryCount": bad_counters,
    "deduplicationId": st.text(min_size=129, max_size=140) | not_a_string,
    "correlationId": not_a_string,
}
BROKEN_RESULT_FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "orderId": st.text(max_size=20) | st.integers(),
    "taskType": not_a_string,
    "status": _not_in(ResultStatus) | not_a_string,
    "result": not_an_object
    | st.builds(lambda summary: {"summary": summary}, st.text(min_size=1001, max_size=1010) | not_a_string)
    | st.builds(lambda size: {"size": size}, st.floats(min_value=256_000.5) | not_a_number),
    "processingTime": not_a_number,
    "timestamp": not_a_date,
    "userId": not_a_string,
    "followUpAction": _not_in(FollowUpAction) | not_a_string,
    "priority": _not_in(Priority) | not_a_string,
    "cost": st.floats(max_value=-0.001) | not_a_number,
    "queueMetrics": not_an_object,
}


def mutations(broken_fields: dict[str, st.SearchStrategy[Any]], required: list[str]) -> st.SearchStrategy[Mutation]:
    """One field given a value of the wrong type or out of bounds, set to null, left out
    (required fields only), or an unknown field added."""
    wrong_values = [st.builds(Mutation, st.just(name), values) for name, values in broken_fields.items()]
    nulls = st.sampled_from(sorted(broken_fields)).map(lambda name: Mutation(name, None))
    missing = st.sampled_from(required).map(lambda name: Mutation(name, MISSING))
    unknown = st.builds(
        Mutation, st.text(min_size=1, max_size=10).filter(lambda n: n not in broken_fields), json_values
    )
    return st.one_of(*wrong_values, nulls, missing, unknown)


order_mutations = mutations(BROKEN_ORDER_FIELDS, required=["taskType", "payload", "userId"])
result_mutations = mutations(
    BROKEN_RESULT_FIELDS, required=["orderId", "taskType", "status", "result", "processingTime", "timestamp", "userId"]
)


def is_valid(model: type[BaseModel], document: Any) -> bool:
    """Whether the contract accepts the document: the oracle for what a handler must accept."""
    try:
        model.model_validate_json(document if isinstance(document, str) else json.dumps(document))
    except (ValidationError, ValueError):
        return False
    return True


# ------------------------------------------------------------------ valid messages
texts = st.text(max_size=80)
timestamps = st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=-5))])).map(datetime.isoformat)

# What a client posts to the webhook: orderId and timestamp may be left out; the timeout
# within what the contract allows and the stack's worker can give a task.
order_payloads = st.fixed_dictionaries(
    {},
    optional={
        "url": st.just("https://example.org/status"),
        "parameters": st.dictionaries(st.text(max_size=8), json_values, max_size=3),
        "timeout": st.floats(30, WEBHOOK_LONGEST_TASK_SECONDS),
        "retryPolicy": st.fixed_dictionaries(
            {}, optional={"maxRetries": st.integers(0, 3), "backoffMultiplier": st.floats(1, 5)}
        ),
    },
)
posted_orders = st.fixed_dictionaries(
    {
        "taskType": st.sampled_from([t.value for t in TaskType]),
        "payload": order_payloads,
        "userId": st.text(min_size=1, max_size=40),
    },
    optional={
        "priority": st.sampled_from([p.value for p in Priority]),
        "retryCount": st.integers(0, 3),
        "correlationId": texts,
    },
)


# Orders as the worker receives them: text-processing, which runs in process with no
# network, so every valid order has a result whatever its text.
queued_orders = st.fixed_dictionaries(
    {
        "orderId": st.builds(fresh_uuid),
        "taskType": st.just(TaskType.TEXT_PROCESSING.value),
        "payload": st.builds(lambda text: {"parameters": {"text": text}, "timeout": 30}, texts),
        "userId": st.text(min_size=1, max_size=40),
        "timestamp": timestamps,
    },
    optional={
        "priority": st.sampled_from([p.value for p in Priority]),
        "retryCount": st.integers(0, 3),
        "correlationId": texts,
        "deduplicationId": st.text(max_size=128),
    },
)

# Results as feedback receives them, with the follow-ups that need no outside service.
FOLLOW_UPS_WITHOUT_INTEGRATIONS = [FollowUpAction.ARCHIVE.value, FollowUpAction.ESCALATE.value]
results = st.fixed_dictionaries(
    {
        "orderId": st.builds(fresh_uuid),
        "taskType": texts,
        "status": st.sampled_from([s.value for s in ResultStatus]),
        "result": st.fixed_dictionaries(
            {},
            optional={
                "summary": st.text(max_size=200),
                "data": st.dictionaries(st.text(max_size=8), json_values, max_size=3),
                "size": st.floats(0, 256_000),
            },
        ),
        "processingTime": st.floats(0, 1e7),
        "timestamp": timestamps,
        "userId": texts,
    },
    optional={
        "followUpAction": st.sampled_from(FOLLOW_UPS_WITHOUT_INTEGRATIONS),
        "priority": st.sampled_from([p.value for p in Priority]),
        "cost": st.floats(0, 100),
        "correlationId": texts,
    },
)


def broken(
    valid: st.SearchStrategy[dict[str, Any]], mutation: st.SearchStrategy[Mutation], model: type[BaseModel]
) -> st.SearchStrategy[dict[str, Any]]:
    """Valid documents with one field broken; kept only if the contract refuses them, so
    "broken" always means what the contract says."""
    return st.builds(lambda document, change: change.apply(document), valid, mutation).filter(
        lambda document: not is_valid(model, document)
    )
