"""perplexity-summary: a summary of `payload.url` (or `parameters.query`) from Perplexity."""

from __future__ import annotations

from automation_shared.contracts import OrderMessage, ResultStatus
from automation_shared.perplexity_client import complete

from .outcome import TaskFailedError, TaskOutcome


def run(order: OrderMessage, deadline: float) -> TaskOutcome:
    query = (order.payload.parameters or {}).get("query") or (
        f"Summarise the page {order.payload.url}" if order.payload.url else None
    )
    if not query:
        raise TaskFailedError("payload.url or payload.parameters.query is required for perplexity-summary")
    answer = complete(str(query), deadline)
    return TaskOutcome(ResultStatus.SUCCESS, answer[:1000], {"query": query, "answer": answer})
