"""Message contracts of the order and result queues.

Exact to the JSON schemas of the original specification: the same required fields,
enums and bounds, and no unknown field at the top level (`additionalProperties: false`).
The nested objects (payload, retryPolicy, result, metadata, queueMetrics) stay open as
the original leaves them. Two deliberate tightenings, each a documented choice:
counters (`retryCount`, `maxRetries`) are integers >= 0 rather than any number, and an
optional field given as `null` is refused (JSON Schema types them as non-null). One
addition: `result.dataPointer`, where `result.data` is when it was too large for the
message (result_payloads.py); closed, unlike the objects around it.

Producers validate against these models before sending and the event source mappings
filter on the same enums (`routing.py`), so nothing a producer sends is dropped
by a filter. `schemas/*.schema.json` are generated from these models
(`make schemas`); a test fails when they are stale.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

UUID4_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"
PAYLOAD_KEY_PREFIX = "payloads/"
# `payloads/<orderId>/attempt-<n>.json` and nothing else: no `..`, no other prefix.
UUID_TEXT = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
PAYLOAD_KEY_PATTERN = rf"^payloads/{UUID_TEXT}/attempt-[0-9]{{1,2}}\.json$"


class TaskType(StrEnum):
    PLAYWRIGHT_SCRAPING = "playwright-scraping"
    URL_MONITORING = "url-monitoring"
    WEB_AUTOMATION = "web-automation"
    PERPLEXITY_SUMMARY = "perplexity-summary"
    CONTENT_ANALYSIS = "content-analysis"
    TEXT_PROCESSING = "text-processing"
    SCHEDULED_LINKEDIN = "scheduled-linkedin"
    SCHEDULED_GERMAN = "scheduled-german"
    SYSTEM_HEALTH = "system-health"


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    CRITICAL = "critical"


class ResultStatus(StrEnum):
    SUCCESS = "success"
    FAILURE = "failure"
    PARTIAL = "partial"
    TIMEOUT = "timeout"
    RATE_LIMITED = "rate-limited"
    CANCELLED = "cancelled"


class FollowUpAction(StrEnum):
    NOTIFY = "notify"
    REQUEUE = "requeue"
    ENHANCE = "enhance"
    ESCALATE = "escalate"
    ARCHIVE = "archive"


def _must_be_string(value: Any) -> Any:
    # pydantic would also take a unix number for a datetime; the schema says string.
    if not isinstance(value, str | datetime):
        raise ValueError("must be an RFC 3339 date-time string")
    return value


def _must_be_uuid(value: str) -> str:
    uuid.UUID(value)  # raises ValueError with a clear message
    return value


# JSON numbers only: no booleans, no numeric strings (strict), as JSON Schema's "number".
Number = Annotated[float, Field(strict=True)]
Counter = Annotated[int, Field(strict=True, ge=0, le=3)]
Timestamp = Annotated[AwareDatetime, BeforeValidator(_must_be_string)]
UuidString = Annotated[str, AfterValidator(_must_be_uuid), Field(json_schema_extra={"format": "uuid"})]
UriString = Annotated[str, Field(min_length=1, json_schema_extra={"format": "uri"})]
JsonObject = dict[str, Any]


class _NullsRefused(BaseModel):
    # Per field, not per object: a `null` is reported at its own path (`payload.timeout`,
    # not `payload`), and the object's other fields are still checked, so a client learns
    # every error of the order at once. A field left out is not validated (its default).
    @field_validator("*", mode="before")
    @classmethod
    def _refuse_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("null is not allowed: leave the field out")
        return value


class _Contract(_NullsRefused):
    """Top-level contract: unknown fields refused (`additionalProperties: false`)."""

    model_config = ConfigDict(extra="forbid")

    def to_json(self) -> str:
        """The message body as producers send it: optional fields left out, not null."""
        return self.model_dump_json(exclude_none=True)


class _OpenObject(_NullsRefused):
    """Nested object: the original schema leaves additional properties open."""

    model_config = ConfigDict(extra="allow")


class RetryPolicy(_OpenObject):
    maxRetries: Counter | None = None
    backoffMultiplier: Annotated[float, Field(strict=True, ge=1.0, le=5.0)] | None = None


class OrderPayload(_OpenObject):
    url: UriString | None = None
    parameters: JsonObject | None = None
    configuration: JsonObject | None = None
    timeout: Annotated[float, Field(strict=True, ge=30, le=900)] | None = None
    retryPolicy: RetryPolicy | None = None


class OrderMessage(_Contract):
    orderId: Annotated[str, Field(pattern=UUID4_PATTERN)]
    taskType: TaskType
    payload: OrderPayload
    userId: Annotated[str, Field(min_length=1)]
    timestamp: Timestamp
    priority: Priority = Priority.NORMAL
    retryCount: Counter | None = None
    deduplicationId: Annotated[str, Field(max_length=128)] | None = None
    correlationId: Annotated[str, Field(description="For tracking related orders")] | None = None


class ResultMetadata(_OpenObject):
    processingNode: str | None = None
    resourcesUsed: JsonObject | None = None
    errorDetails: JsonObject | None = None
    performanceMetrics: JsonObject | None = None


class PayloadS3Pointer(_NullsRefused):
    """Where a result's data is kept when it would make the message too large. The field
    names are the SQS extended client's `PayloadS3Pointer`'s, plus the object's size."""

    model_config = ConfigDict(extra="forbid")

    s3BucketName: Annotated[str, Field(min_length=3, max_length=63)]
    s3Key: Annotated[str, Field(pattern=PAYLOAD_KEY_PATTERN)]
    size: Annotated[int, Field(strict=True, ge=0, description="Bytes of the stored JSON")]


class ResultBody(_OpenObject):
    data: JsonObject | None = None
    summary: Annotated[str, Field(max_length=1000)] | None = None
    metadata: ResultMetadata | None = None
    # The bytes of `data` this message carries: the original's bound is the SQS message
    # size of its time, so larger data goes to S3 and the message names it instead.
    size: Annotated[float, Field(strict=True, le=256000, description="Result size in bytes")] | None = None
    dataPointer: (
        Annotated[
            PayloadS3Pointer,
            Field(description="Where `data` is kept (S3) when it was too large for the message; `data` is then absent"),
        ]
        | None
    ) = None

    @model_validator(mode="after")
    def _data_here_or_there(self) -> ResultBody:
        if self.data is not None and self.dataPointer is not None:
            raise ValueError("data and dataPointer are exclusive: the data is either in the message or in S3")
        return self


class QueueMetrics(_OpenObject):
    queueTime: Annotated[float, Field(strict=True, description="Time spent in order queue")] | None = None
    processingDelay: Annotated[float, Field(strict=True, description="Delay before processing started")] | None = None


class ResultMessage(_Contract):
    orderId: UuidString
    correlationId: Annotated[str, Field(description="Links to original order")] | None = None
    taskType: str
    status: ResultStatus
    result: ResultBody
    processingTime: Annotated[Number, Field(description="Processing time in milliseconds")]
    timestamp: Timestamp
    userId: str
    followUpAction: Annotated[FollowUpAction, Field(description="Action required by Feedback Lambda")] | None = None
    priority: Priority | None = None
    cost: Annotated[float, Field(strict=True, ge=0, description="Processing cost in USD")] | None = None
    queueMetrics: QueueMetrics | None = None
