"""Crash-point exploration: every path of paths.py, with its function killed after each call.

For a path, a reference run (nothing killed) counts the calls C of the invocation the path
kills; then for every N from 0 to C the same path runs again on fresh orders, that
invocation dying right after its N-th call (N = 0: before its first), and everything is
redelivered as SQS would until it settles (flow.py). After each run the order must have
reached exactly one final state, which GET /orders/{id} shows; no queue holds a message;
no order was minted twice; and each side effect happened exactly as often as the path
says, except one more time for the kinds that are at least once by nature, and only when
the kill fell after that very call and before the invocation recorded it (its next write
to the orders table): an external call with no idempotency key (Telegram, LinkedIn,
Perplexity, the target site, an SNS publish, an SQS send of a requeued order, the PUT of a
batch's archive object), done again
by the redelivery because nothing said it was done. A task run again reads its page again:
where the page answers differently the second time (a `fail-once` page), the path says
what the order does then (`Path.after_rerun`).
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from automation_local.aws.emulator import Emulator
from automation_local.cloudformation.stack import DeployedStack
from automation_local.demo.side_effects import archived_results
from automation_local.outside.account import LocalIntegrations
from automation_local.outside.standins import ScriptedSite
from automation_shared.order_records import TERMINAL_STATES
from tests.crash_points.flow import Flow, Kill
from tests.crash_points.paths import (
    ALERTS,
    ARCHIVES,
    EFFECTS,
    LINKEDIN,
    PAGE_READS,
    PERPLEXITY,
    REQUEUES,
    TELEGRAM,
    Path,
)
from tests.crash_points.zygote import FunctionZygote, Invocation

QUEUES = ("OrderQueueUrl", "ResultQueueUrl", "OrderDeadLetterQueueUrl", "ResultDeadLetterQueueUrl")


@dataclass
class Violation:
    path: str
    kill_after: int | None  # None: the reference run, nothing killed
    killed_after: str  # the call the kill followed ("" before the first, or none)
    message: str

    def __str__(self) -> str:
        where = "reference run" if self.kill_after is None else f"killed after call {self.kill_after}"
        after = f" ({self.killed_after})" if self.killed_after else ""
        return f"{self.path}, {where}{after}: {self.message}"


@dataclass
class Exploration:
    queue_type: str = "standard"
    points: dict[str, int] = field(default_factory=dict)  # path -> crash points explored
    calls: dict[str, list[str]] = field(default_factory=dict)  # path -> the killed invocation's calls
    violations: list[Violation] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.points.values())


@dataclass
class Stage:
    """What the exploration runs against: the stack, the functions' zygotes, the stand-ins."""

    emulator: Emulator
    stack: DeployedStack
    zygotes: dict[str, FunctionZygote]
    integrations: LocalIntegrations
    site: ScriptedSite
    alert_inbox_url: str
    secret: str


# What records an act (the invocation's idempotency record or status), closing its window.
TABLE_WRITES = ("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem")
# For each effect that is at least once by nature: is this call the one that does it?
AT_LEAST_ONCE: dict[str, Callable[[str, str], bool]] = {
    # An archive object of a batch: a redelivery may put the result in another batch's object.
    ARCHIVES: lambda call, _: call.startswith("s3:PUT ") and "/year%3D" in call,
    TELEGRAM: lambda call, _: call.endswith("/sendMessage"),
    ALERTS: lambda call, _: call == "sns:Publish",
    # Standard queues: feedback sends the retry; FIFO queues: the worker holds the message in its group.
    REQUEUES: lambda call, function: (
        (function, call) in {("feedback", "sqs:SendMessageBatch"), ("worker", "sqs:ChangeMessageVisibility")}
    ),
    PAGE_READS: lambda call, function: function == "worker" and call.startswith("http GET "),
    LINKEDIN: lambda call, _: call.endswith("/rest/posts"),
    PERPLEXITY: lambda call, _: call.endswith("/chat/completions"),
}


class Explorer:
    def __init__(self, stage: Stage) -> None:
        self.stage = stage
        self._sqs = stage.emulator.client("sqs")
        self._s3 = stage.emulator.client("s3")
        self._dynamodb = stage.emulator.client("dynamodb")
        self._fifo = stage.stack.fifo

    def explore(self, paths: list[Path]) -> Exploration:
        exploration = Exploration(queue_type=self.stage.stack.queue_type)
        for path in paths:
            reference, violations = self.run(path, None)
            exploration.violations += violations
            calls = reference.done.calls if reference.done else []
            exploration.calls[path.name] = calls
            for kill_after in range(len(calls) + 1):
                exploration.violations += self.run(path, kill_after)[1]
            exploration.points[path.name] = len(calls) + 1
        return exploration

    # ------------------------------------------------------------------ one scenario
    def run(self, path: Path, kill_after: int | None) -> tuple[Kill, list[Violation]]:
        stage = self.stage
        token = uuid.uuid4().hex
        marks = self._marks()
        documents = path.orders(lambda folder, name="": f"{stage.site.base_url}/{folder}/{token}{name}")
        flow = Flow(
            stage.emulator,
            stage.stack,
            stage.zygotes,
            stage.secret,
            timeouts=lambda function, event, earlier: _default(path.timeout(function, event, earlier), 30.0),
        )
        # The reference run kills nothing, but records the invocation it would kill.
        kill = Kill(path.killed, kill_after if kill_after is not None else 10**9, path.picks)
        problems: list[str] = []
        try:
            order_ids = self._arrive(flow, path, documents, kill, problems)
            flow.settle(kill)
            problems += self._check(flow, path, kill, kill_after, order_ids, token, marks)
        except Exception as error:  # the flow itself broke: a violation, and the next scenario starts clean
            problems.append(f"{type(error).__name__}: {error}")
        finally:
            self._clean()
        killed_after = ""
        if kill_after and kill.done is not None and len(kill.done.calls) >= kill_after:
            killed_after = kill.done.calls[kill_after - 1]
        return kill, [Violation(path.name, kill_after, killed_after, p) for p in problems]

    def _arrive(
        self, flow: Flow, path: Path, documents: list[dict[str, Any]], kill: Kill, problems: list[str]
    ) -> list[str]:
        if path.straight_to_queue:
            for document in documents:
                fifo = {"MessageGroupId": document["userId"], "MessageDeduplicationId": document["orderId"]}
                self._sqs.send_message(
                    QueueUrl=self.stage.stack.outputs["OrderQueueUrl"],
                    MessageBody=json.dumps(document),
                    **(fifo if self._fifo else {}),
                )
            return [d["orderId"] for d in documents]
        requests: list[Any] = [documents] if path.batch else list(documents)
        if path.posted_before:
            first = [flow.post(r)[1] for r in requests]
        answers = [flow.post(r, kill) for r in requests]
        order_ids = []
        for status, answer in answers:
            orders = answer.get("orders", [answer]) if isinstance(answer, dict) else []
            if status != 202 or any(o.get("status") not in ("queued", "duplicate") for o in orders):
                problems.append(f"the webhook's last answer was {status} {answer}")
            order_ids += [o.get("orderId") for o in orders]
        if path.posted_before:
            earlier = [o["orderId"] for a in first for o in a.get("orders", [a])]
            if earlier != order_ids:
                problems.append(f"the retried request was answered with other order ids: {order_ids} != {earlier}")
        return order_ids

    # ------------------------------------------------------------------ what must hold
    def _marks(self) -> dict[str, int]:
        integrations = self.stage.integrations
        return {
            TELEGRAM: len(integrations.telegram.requests),
            LINKEDIN: len(integrations.linkedin.requests),
            PERPLEXITY: len(integrations.perplexity.requests),
            PAGE_READS: len(self.stage.site.requests),
        }

    def _effects(self, flow: Flow, order_ids: list[str], token: str, marks: dict[str, int]) -> Counter[str]:
        integrations = self.stage.integrations
        counts: Counter[str] = Counter()
        archived = archived_results(self._s3, self.stage.stack.outputs["ArchiveBucketName"])
        counts[ARCHIVES] = sum(len(archived.get(order_id, [])) for order_id in order_ids)
        telegram = integrations.telegram.requests[marks[TELEGRAM] :]
        counts[TELEGRAM] = sum(any(i in r.body.decode() for i in order_ids) for r in telegram)
        counts[LINKEDIN] = sum(r.path == "/rest/posts" for r in integrations.linkedin.requests[marks[LINKEDIN] :])
        counts[PERPLEXITY] = len(integrations.perplexity.requests[marks[PERPLEXITY] :])
        counts[PAGE_READS] = sum(token in r.path for r in self.stage.site.requests[marks[PAGE_READS] :])
        if self._fifo:  # the worker holds a failed order's message for its retry: the record says so, once
            records = self._order_records()
            counts[REQUEUES] = sum(
                entry["S"].startswith("requeued ")
                for order_id in order_ids
                for entry in records.get(order_id, {}).get("history", {}).get("L", [])
            )
        else:  # feedback sends the retry
            counts[REQUEUES] = sum(
                AT_LEAST_ONCE[REQUEUES](call, log.function) for log in flow.log for call in log.invocation.calls
            )
        while messages := self._sqs.receive_message(
            QueueUrl=self.stage.alert_inbox_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
        ).get("Messages", []):
            counts[ALERTS] += sum(any(i in m["Body"] for i in order_ids) for m in messages)
            self._sqs.delete_message_batch(
                QueueUrl=self.stage.alert_inbox_url,
                Entries=[{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(messages)],
            )
        return counts

    def _check(
        self,
        flow: Flow,
        path: Path,
        kill: Kill,
        kill_after: int | None,
        order_ids: list[str],
        token: str,
        marks: dict[str, int],
    ) -> list[str]:
        problems = []
        if kill_after is not None and (kill.done is None or kill.done.outcome != "killed"):
            problems.append(f"the kill point was not reached: the invocation made {_calls(kill.done)}")
        if kill_after is None and kill.done is None:
            problems.append(f"no {path.killed} invocation matched the path")
        minted = self._order_records()
        if sorted(minted) != sorted(order_ids):
            problems.append(f"status records {sorted(minted)} for orders {sorted(order_ids)}: an order minted twice")
        for order_id in order_ids:
            record = minted.get(order_id, {})
            history = [entry["S"].split(" ", 1)[0] for entry in record.get("history", {}).get("L", [])]
            status = record.get("status", {}).get("S")
            if status != path.final:
                problems.append(f"order {order_id} ended {status!r}, not {path.final!r} (history {history})")
            if sum(state in TERMINAL_STATES for state in history) != 1:
                problems.append(f"order {order_id} reached {history} : not exactly one final state")
            answer = flow.get(order_id)
            if answer[0] != 200 or answer[1].get("status") != path.final:
                problems.append(f"GET /orders/{order_id} answered {answer}")
        counts = self._effects(flow, order_ids, token, marks)
        unrecorded = _unrecorded_calls(kill.done) if kill_after else []
        effects, counted_already = (path.fifo_effects if self._fifo and path.fifo_effects else path.effects), set()
        if path.after_rerun is not None and any(AT_LEAST_ONCE[PAGE_READS](c, path.killed) for c in unrecorded):
            effects, counted_already = path.after_rerun, {PAGE_READS}  # it ran again, its page answered otherwise
        for effect in EFFECTS:
            expected = effects.get(effect, 0) * len(order_ids)
            again = effect in AT_LEAST_ONCE and effect not in counted_already
            again = again and any(AT_LEAST_ONCE[effect](c, path.killed) for c in unrecorded)
            allowed = expected + int(again) * len(order_ids)
            if not expected <= counts[effect] <= allowed:
                within = f" to {allowed}" if allowed > expected else ""
                problems.append(f"{effect}: {counts[effect]}, expected {expected}{within}")
        for output in QUEUES:
            if depth := flow.depth(self.stage.stack.outputs[output]):
                problems.append(f"{output.removesuffix('Url')} holds {depth} message(s)")
        return problems

    def _order_records(self) -> dict[str, dict[str, Any]]:
        table = self.stage.stack.outputs["OrdersTableName"]
        records = {}
        for page in self._dynamodb.get_paginator("scan").paginate(TableName=table):
            for item in page["Items"]:
                if item["id"]["S"].startswith("order#"):
                    records[item["id"]["S"].removeprefix("order#")] = item
        return records

    def _clean(self) -> None:
        """Each scenario starts with an empty table, bucket and queues."""
        outputs = self.stage.stack.outputs
        table = outputs["OrdersTableName"]
        for page in self._dynamodb.get_paginator("scan").paginate(TableName=table, ProjectionExpression="id"):
            for start in range(0, len(page["Items"]), 25):
                self._dynamodb.batch_write_item(
                    RequestItems={
                        table: [{"DeleteRequest": {"Key": item}} for item in page["Items"][start : start + 25]]
                    }
                )
        bucket = outputs["ArchiveBucketName"]
        for page in self._s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
            versions = page.get("Versions", []) + page.get("DeleteMarkers", [])
            if versions:
                self._s3.delete_objects(
                    Bucket=bucket,
                    Delete={"Objects": [{"Key": v["Key"], "VersionId": v["VersionId"]} for v in versions]},
                )
        for output in QUEUES:  # only after a violation: a settled flow leaves them empty
            if Flow.depth_of(self._sqs, outputs[output]):
                self._sqs.purge_queue(QueueUrl=outputs[output])


def _unrecorded_calls(killed: Invocation | None) -> list[str]:
    """The calls a killed invocation made after its last write to the orders table: done,
    but not recorded as done when it died."""
    calls = killed.calls if killed is not None else []
    last_write = max((i for i, call in enumerate(calls) if call in TABLE_WRITES), default=-1)
    return calls[last_write + 1 :]


def _default(value: float | None, default: float) -> float:
    return default if value is None else value


def _calls(invocation: Invocation | None) -> str:
    return "no invocation" if invocation is None else f"{len(invocation.calls)} calls, {invocation.outcome}"
