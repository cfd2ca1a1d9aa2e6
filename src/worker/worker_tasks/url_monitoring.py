"""url-monitoring: status, latency and a hash of the content of `payload.url`."""

from __future__ import annotations

import hashlib

from automation_shared.contracts import OrderMessage, ResultStatus
from automation_shared.http_client import request

from .outcome import TaskFailedError, TaskOutcome


def run(order: OrderMessage, deadline: float) -> TaskOutcome:
    if not order.payload.url:
        raise TaskFailedError("payload.url is required for url-monitoring")
    response = request(order.payload.url, deadline)
    data = {
        "statusCode": response.status,
        "latencyMs": round(response.elapsed_ms, 1),
        "contentSha256": hashlib.sha256(response.body).hexdigest(),
        "contentLength": len(response.body),
        "finalUrl": response.url,
    }
    if response.status == 429:
        return TaskOutcome(ResultStatus.RATE_LIMITED, f"{order.payload.url} rate limited", data)
    healthy = response.status < 400
    summary = f"{order.payload.url}: HTTP {response.status} in {data['latencyMs']} ms"
    return TaskOutcome(ResultStatus.SUCCESS if healthy else ResultStatus.FAILURE, summary, data)
