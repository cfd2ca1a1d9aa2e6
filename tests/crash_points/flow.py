"""Driving orders through the emulator stack one invocation at a time, as Lambda would, with
one invocation killed on purpose.

Clients POST to the webhook (signed, and signed anew for each retry); the order and result
queues are polled as their event source mappings poll them (the stack's filters, batch
item failures, deletes), each batch invoking its function in a fresh fork of the function's
zygote. After an invocation that died or failed, time passes: the claims it held lapse (as
their leases run out) and its messages become visible again (as their visibility timeout
runs out), so the next receive delivers them again, same message id, receive count + 1.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from automation_local.apigateway.events import http_api_event
from automation_local.aws.emulator import Emulator
from automation_local.cloudformation.stack import DeployedStack
from automation_local.lambda_.esm.filtering import matches_filter_criteria
from automation_local.lambda_.esm.poller import MappingConfiguration, failed_ids, stack_mappings
from automation_local.lambda_.esm.sqs_records import sqs_record
from automation_local.lambda_.functions import deployed_functions
from automation_local.lambda_.sandbox import Invocation as SandboxInvocation
from tests.crash_points.zygote import FunctionZygote, Invocation
from tests.functions.webhook_client import SigningClock

# What the webhook asks to retry: some orders of the batch refused (207), the key being
# accepted by another request (409), nothing accepted (503).
RETRY_STATUSES = (207, 409, 503)
MAX_INVOCATIONS = 40  # per scenario: a flow that has not settled by then never will
QUEUE_COUNTS = [
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
]


@dataclass
class Kill:
    """Which invocation dies, and after how many calls: the first of `function` for which
    `picks(event)` holds."""

    function: str
    after_calls: int
    picks: Callable[[dict[str, Any]], bool]
    done: Invocation | None = None  # the killed invocation, once it happened

    def applies(self, function: str, event: dict[str, Any]) -> bool:
        return self.done is None and function == self.function and self.picks(event)


@dataclass
class InvocationLog:
    function: str
    event: dict[str, Any]
    invocation: Invocation
    killed_on_purpose: bool


@dataclass
class Flow:
    emulator: Emulator
    stack: DeployedStack
    zygotes: dict[str, FunctionZygote]
    secret: str
    # Seconds the Lambda context gives an invocation of `function` with `event`, given the
    # events of its earlier invocations (those not killed).
    timeouts: Callable[[str, dict[str, Any], list[dict[str, Any]]], float] = lambda function, event, earlier: 30.0
    log: list[InvocationLog] = field(default_factory=list)
    clock: SigningClock = field(default_factory=SigningClock)

    @functools.cached_property
    def sqs(self) -> Any:
        return self.emulator.client("sqs")

    @functools.cached_property
    def dynamodb(self) -> Any:
        return self.emulator.client("dynamodb")

    # ------------------------------------------------------------------ invoking
    def invoke(self, function: str, event: dict[str, Any], kill: Kill | None) -> Invocation:
        if len(self.log) >= MAX_INVOCATIONS:
            raise RuntimeError(f"the flow did not settle within {MAX_INVOCATIONS} invocations")
        killing = kill is not None and kill.applies(function, event)
        invocation = self.zygotes[function].invoke(
            event,
            kill_after=kill.after_calls if killing and kill else None,
            timeout_seconds=self.timeouts(
                function,
                event,
                [log.event for log in self.log if log.function == function and log.invocation.outcome != "killed"],
            ),
        )
        if killing and kill:
            kill.done = invocation
        self.log.append(InvocationLog(function, event, invocation, killing))
        if invocation.outcome != "ok":
            self.time_passes()
        return invocation

    def time_passes(self) -> None:
        """Every claim a dead invocation may have left has lapsed (the worker's claim on an
        attempt, `claimLease` of the order's record): what waiting out its lease does."""
        table = self.stack.outputs["OrdersTableName"]
        for page in self.dynamodb.get_paginator("scan").paginate(
            TableName=table, FilterExpression="attribute_exists(claimLease)", ProjectionExpression="id"
        ):
            for item in page["Items"]:
                self.dynamodb.update_item(
                    TableName=table,
                    Key={"id": item["id"]},
                    UpdateExpression="SET claimLease = :past",
                    ExpressionAttributeValues={":past": {"N": "1"}},
                )

    # ------------------------------------------------------------------ the webhook, as a client
    def _signed(self, method: str, path: str, body: bytes) -> dict[str, str]:
        return self.clock.headers(self.secret, method, path, body)  # a client signs each request anew

    def post(self, document: Any, kill: Kill | None = None) -> tuple[int, Any]:
        """POST /orders until answered 2xx (retrying, re-signed, what a client retries)."""
        body = json.dumps(document).encode()
        while True:
            headers = {"content-type": "application/json", **self._signed("POST", "/orders", body)}
            event = http_api_event("POST", "/orders", route_key="POST /orders", headers=headers, body=body)
            invocation = self.invoke("webhook", event, kill)  # time passes after a dead one
            if invocation.outcome != "ok":
                continue
            status, answer = invocation.response["statusCode"], json.loads(invocation.response["body"])
            if status not in RETRY_STATUSES:
                return status, answer
            self.time_passes()  # "retry later": a claim held by a request that died must lapse

    def get(self, order_id: str) -> tuple[int, Any]:
        path = f"/orders/{order_id}"
        event = http_api_event(
            "GET",
            path,
            route_key="GET /orders/{orderId}",
            path_parameters={"orderId": order_id},
            headers=self._signed("GET", path, b""),
        )
        invocation = self.invoke("webhook", event, None)
        assert invocation.outcome == "ok", invocation.error
        return invocation.response["statusCode"], json.loads(invocation.response["body"])

    # ------------------------------------------------------------------ the queues, as Lambda polls them
    def mappings(self) -> list[tuple[str, MappingConfiguration]]:
        by_name = {deployed: name for name, deployed in deployed_functions(self.stack).items()}
        return [(by_name[m.function_name], m) for m in stack_mappings(self.emulator, self.stack).values()]

    def settle(self, kill: Kill | None = None) -> None:
        """Polls both queues until neither holds a message."""
        sqs = self.sqs
        mappings = self.mappings()
        while any(self.depth(m.queue_url) for _, m in mappings):
            for function, mapping in mappings:
                self._poll_once(sqs, function, mapping, kill)

    def _poll_once(self, sqs: Any, function: str, mapping: MappingConfiguration, kill: Kill | None) -> None:
        messages = sqs.receive_message(
            QueueUrl=mapping.queue_url,
            MaxNumberOfMessages=min(10, mapping.batch_size),
            WaitTimeSeconds=0,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            return
        records = [sqs_record(m, mapping.queue_arn, self.emulator.region) for m in messages]
        dropped = [r for r in records if not matches_filter_criteria(mapping.filter_criteria, r)]
        records = [r for r in records if r not in dropped]
        self._delete(sqs, mapping, dropped)
        if not records:
            return
        invocation = self.invoke(function, {"Records": records}, kill)
        outcome = SandboxInvocation(
            response=invocation.response, error=None if invocation.outcome == "ok" else invocation.outcome
        )
        failed = failed_ids(outcome, [r["messageId"] for r in records], mapping.reports_batch_item_failures)
        self._delete(sqs, mapping, [r for r in records if r["messageId"] not in failed])
        for record in records:  # the rest come back once their visibility timeout has passed
            if record["messageId"] in failed:
                sqs.change_message_visibility(
                    QueueUrl=mapping.queue_url, ReceiptHandle=record["receiptHandle"], VisibilityTimeout=0
                )

    @staticmethod
    def _delete(sqs: Any, mapping: MappingConfiguration, records: list[dict[str, Any]]) -> None:
        if records:
            sqs.delete_message_batch(
                QueueUrl=mapping.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": r["receiptHandle"]} for i, r in enumerate(records)],
            )

    def depth(self, queue_url: str) -> int:
        return self.depth_of(self.sqs, queue_url)

    @staticmethod
    def depth_of(sqs: Any, queue_url: str) -> int:
        """Messages visible, in flight or delayed."""
        attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=QUEUE_COUNTS)
        return sum(int(v) for v in attributes["Attributes"].values())
