"""An SQS event source mapping of the stack, emulated as Lambda runs one.

Lambda's pollers are not in the emulator (and moto's own mappings need Docker), so this
reads each mapping's configuration from the deployed stack and does what Lambda does:

- `ScalingConfig.MaximumConcurrency` pollers, each with its own function sandbox, so at
  most that many invocations run at once (one per sandbox, as in Lambda);
- `BatchSize` and `MaximumBatchingWindowInSeconds`: a poller gathers messages until the
  batch is full or the window since its first message has passed (with a window of 0 it
  invokes with whatever one receive returned);
- `FilterCriteria`: a message that matches no filter is deleted without an invocation and
  counted as filtered out, as on AWS;
- `FunctionResponseTypes: [ReportBatchItemFailures]`: every record the response does not
  name is deleted; an invocation error or timeout deletes nothing. Records left in the
  queue return after its visibility timeout, and the queue's redrive policy moves them to
  the DLQ after `maxReceiveCount` receives: that part is the emulator's own queue.

Each polling thread is a loop around one poll step (as LocalStack's `EsmWorker` loop
around `Poller.poll_events`): the step gathers a batch, drops the filtered-out messages,
invokes and deletes; the loop catches whatever a step raises (an emulator error that
outlasted botocore's retries, say), logs it, counts it in the mapping's stats and backs
off before the next step, as Lambda's pollers back off from a failing queue, so one bad
answer never ends a poller and the mapping keeps its concurrency.

Not emulated: the 6 MB invocation payload limit (messages are at most 256 KiB and batches
here at most 100 of them), and Lambda's scaling up from five pollers (all start at once).
"""

from __future__ import annotations

import logging
import math
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import batched
from typing import Any

from automation_local.aws.emulator import Emulator
from automation_local.cloudformation.stack import DeployedStack
from automation_local.lambda_.esm.filtering import matches_filter_criteria
from automation_local.lambda_.esm.sqs_records import sqs_record
from automation_local.lambda_.sandbox import FunctionSandbox, Invocation

# An idle poller long-polls this long, so a stop is noticed within it.
IDLE_WAIT_SECONDS = 1
SQS_MAX_MESSAGES_PER_RECEIVE = 10
# After a failed poll step the loop waits this long, doubled per failure in a row (with
# jitter), up to the cap; a step that works resets it.
FIRST_BACKOFF_SECONDS = 0.5
MAX_BACKOFF_SECONDS = 10.0

log = logging.getLogger(__name__)


@dataclass
class MappingStats:
    """What a mapping did, for the progress display and the run's summary."""

    received: int = 0
    filtered_out: int = 0
    invocations: int = 0
    invocation_errors: int = 0
    reported_failures: int = 0
    deleted: int = 0
    poll_errors: int = 0  # poll steps that raised (each logged, then backed off from)
    longest_invocation_ms: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, **counts: int) -> None:
        with self._lock:
            for name, value in counts.items():
                setattr(self, name, getattr(self, name) + value)

    def saw_invocation(self, duration_ms: float) -> None:
        with self._lock:
            self.longest_invocation_ms = max(self.longest_invocation_ms, round(duration_ms))

    def as_dict(self) -> dict[str, int]:
        with self._lock:
            return {name: getattr(self, name) for name in self.__dataclass_fields__ if not name.startswith("_")}


@dataclass(frozen=True)
class MappingConfiguration:
    """The parts of an `AWS::Lambda::EventSourceMapping` that shape delivery."""

    function_name: str
    queue_arn: str
    queue_url: str
    batch_size: int
    batching_window_seconds: int
    filter_criteria: dict[str, Any] | None
    reports_batch_item_failures: bool
    maximum_concurrency: int
    enabled: bool

    @classmethod
    def from_api(cls, mapping: dict[str, Any], queue_url: str, enabled: bool) -> MappingConfiguration:
        """From a `GetEventSourceMapping` answer."""
        return cls(
            function_name=mapping["FunctionArn"].rsplit(":", 1)[-1],
            queue_arn=mapping["EventSourceArn"],
            queue_url=queue_url,
            batch_size=int(mapping.get("BatchSize", 10)),
            batching_window_seconds=int(mapping.get("MaximumBatchingWindowInSeconds", 0)),
            filter_criteria=mapping.get("FilterCriteria"),
            reports_batch_item_failures="ReportBatchItemFailures" in mapping.get("FunctionResponseTypes", []),
            # Without a ScalingConfig Lambda may use up to 1,000 concurrent invocations; five
            # pollers stand for its starting point here.
            maximum_concurrency=int(mapping.get("ScalingConfig", {}).get("MaximumConcurrency", 5)),
            enabled=enabled,
        )


def stack_mappings(emulator: Emulator, stack: DeployedStack) -> dict[str, MappingConfiguration]:
    """Every SQS event source mapping of the stack, as deployed, by logical id."""
    awslambda = emulator.client("lambda")
    sqs = emulator.client("sqs")
    mappings = {}
    for logical_id, resource_type in stack.resource_types.items():
        if resource_type != "AWS::Lambda::EventSourceMapping":
            continue
        mapping = awslambda.get_event_source_mapping(UUID=stack.resources[logical_id])
        queue_name = mapping["EventSourceArn"].rsplit(":", 1)[-1]
        mappings[logical_id] = MappingConfiguration.from_api(
            mapping,
            queue_url=sqs.get_queue_url(QueueName=queue_name)["QueueUrl"],
            enabled=stack.mappings_enabled.get(mapping["UUID"], False),
        )
    return mappings


def failed_ids(invocation: Invocation, record_ids: list[str], reports_failures: bool) -> set[str]:
    """Records to leave in the queue after an invocation, as Lambda reads its response."""
    if invocation.error is not None:
        return set(record_ids)
    if not reports_failures:
        return set()
    response = invocation.response
    if response is None or response == {}:
        return set()
    failures = response.get("batchItemFailures") if isinstance(response, dict) else None
    if not isinstance(failures, list):
        return set(record_ids)  # a malformed response fails the whole batch
    named = {item.get("itemIdentifier") for item in failures if isinstance(item, dict)}
    if not named <= set(record_ids):
        return set(record_ids)  # an unknown or empty identifier also fails the whole batch
    return {i for i in named if i}


class _LazySandbox:
    """A polling thread's sandbox, started at its first invocation (a cold start) and kept."""

    def __init__(self, new_sandbox: Callable[[], FunctionSandbox]) -> None:
        self._new_sandbox = new_sandbox
        self._sandbox: FunctionSandbox | None = None

    def get(self) -> FunctionSandbox:
        if self._sandbox is None:
            self._sandbox = self._new_sandbox()
        return self._sandbox

    def stop(self) -> None:
        if self._sandbox is not None:
            self._sandbox.stop()
            self._sandbox = None


class EventSourcePoller:
    """`MaximumConcurrency` polling threads for one mapping; `start()` and `stop()`."""

    def __init__(
        self,
        configuration: MappingConfiguration,
        *,
        sqs_client: Callable[[], Any],
        new_sandbox: Callable[[], FunctionSandbox],
        region: str,
    ) -> None:
        self.configuration = configuration
        self.stats = MappingStats()
        self._sqs_client = sqs_client
        self._new_sandbox = new_sandbox
        self._region = region
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> EventSourcePoller:
        for index in range(self.configuration.maximum_concurrency):
            thread = threading.Thread(
                target=self._poll, name=f"{self.configuration.function_name}-poller-{index}", daemon=True
            )
            thread.start()
            self._threads.append(thread)
        return self

    @property
    def threads_alive(self) -> int:
        """Polling threads running now (the mapping's concurrency while it polls)."""
        return sum(thread.is_alive() for thread in self._threads)

    def signal_stop(self) -> None:
        """Asks every polling thread to stop once its current receive or invocation ends."""
        self._stopping.set()

    def stop(self) -> None:
        """Stops polling; invocations under way finish first (their sandboxes then stop)."""
        self.signal_stop()
        for thread in self._threads:
            thread.join()
        self._threads.clear()

    def _poll(self) -> None:
        """One polling thread: poll steps until asked to stop, none of whose errors ends it."""
        sqs = self._sqs_client()
        sandbox = _LazySandbox(self._new_sandbox)
        failures_in_a_row = 0
        try:
            while not self._stopping.is_set():
                try:
                    self.poll_step(sqs, sandbox)
                    failures_in_a_row = 0
                except Exception as error:
                    if self._stopping.is_set():
                        return  # the emulator may be going away with the runtime: not an error
                    failures_in_a_row += 1
                    self.stats.add(poll_errors=1)
                    backoff = min(MAX_BACKOFF_SECONDS, FIRST_BACKOFF_SECONDS * 2 ** (failures_in_a_row - 1))
                    log.warning(
                        "%s: poll step failed (%s: %s); retrying in %.1f s",
                        threading.current_thread().name,
                        type(error).__name__,
                        error,
                        backoff,
                    )
                    self._stopping.wait(backoff * random.uniform(0.5, 1.0))  # noqa: S311 - jitter, not a secret
        finally:
            sandbox.stop()

    def poll_step(self, sqs: Any, sandbox: _LazySandbox) -> None:
        """Gather a batch, drop what the filters refuse, invoke with the rest, delete what succeeded."""
        batch = self._gather(sqs)
        if not batch:
            return
        matching = self._drop_filtered_out(sqs, batch)
        if matching:
            self._invoke(sqs, sandbox.get(), matching)

    def _gather(self, sqs: Any) -> list[dict[str, Any]]:
        configuration = self.configuration
        batch: list[dict[str, Any]] = []
        window_ends: float | None = None
        while len(batch) < configuration.batch_size and not self._stopping.is_set():
            if window_ends is None:
                wait = IDLE_WAIT_SECONDS
            else:
                wait = min(20, math.ceil(window_ends - time.monotonic()))
                if wait <= 0:
                    break
            messages = sqs.receive_message(
                QueueUrl=configuration.queue_url,
                MaxNumberOfMessages=min(SQS_MAX_MESSAGES_PER_RECEIVE, configuration.batch_size - len(batch)),
                WaitTimeSeconds=wait,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            batch.extend(messages)
            if batch and window_ends is None:
                if configuration.batching_window_seconds == 0:
                    break
                window_ends = time.monotonic() + configuration.batching_window_seconds
            if not batch:
                return []  # idle: let the caller check for a stop
        self.stats.add(received=len(batch))
        return batch

    def _delete(self, sqs: Any, records: list[dict[str, Any]]) -> None:
        for chunk in batched(records, SQS_MAX_MESSAGES_PER_RECEIVE, strict=False):
            answer = sqs.delete_message_batch(
                QueueUrl=self.configuration.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": r["receiptHandle"]} for i, r in enumerate(chunk)],
            )
            self.stats.add(deleted=len(answer.get("Successful", [])))

    def _drop_filtered_out(self, sqs: Any, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        matching: list[dict[str, Any]] = []
        filtered_out: list[dict[str, Any]] = []
        for message in messages:
            record = sqs_record(message, self.configuration.queue_arn, self._region)
            matches = matches_filter_criteria(self.configuration.filter_criteria, record)
            (matching if matches else filtered_out).append(record)
        if filtered_out:
            self._delete(sqs, filtered_out)
            self.stats.add(filtered_out=len(filtered_out))
        return matching

    def _invoke(self, sqs: Any, sandbox: FunctionSandbox, records: list[dict[str, Any]]) -> None:
        invocation = sandbox.invoke({"Records": records})
        ids = [r["messageId"] for r in records]
        failed = failed_ids(invocation, ids, self.configuration.reports_batch_item_failures)
        self.stats.saw_invocation(invocation.duration_ms)
        self.stats.add(
            invocations=1,
            invocation_errors=int(invocation.error is not None),
            reported_failures=len(failed) if invocation.error is None else 0,
        )
        self._delete(sqs, [r for r in records if r["messageId"] not in failed])
