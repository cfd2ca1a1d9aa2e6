"""The flow's live figures, per stage, as an operator reads them on AWS: the queues' counts
(SQS attributes), the webhook's requests (API Gateway's metrics), the mappings' invocations,
errors and filtered-out records (Lambda's metrics) and feedback's acts (its EMF metrics)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from automation_local.console.function_logs import MetricTotals
from automation_local.console.running import RunningBackbone
from automation_local.ops.queue_counts import queue_counts
from automation_shared.contracts import FollowUpAction

# Feedback counts each result it acts on as `FollowUp<Action>` (src/feedback/app.py).
ACTION_METRIC = "FollowUp{}"


def _webhook(backbone: RunningBackbone) -> dict[str, int]:
    answered = list(backbone.http_api.answered) if backbone.http_api else []
    return {
        "requests": len(answered),
        "accepted": sum(200 <= r.status < 300 for r in answered),
        "refused": sum(400 <= r.status < 500 for r in answered),
        "errors": sum(r.status >= 500 for r in answered),
    }


def flow(backbone: RunningBackbone, sqs: Any, metrics: MetricTotals) -> dict[str, Any]:
    """`webhook`, `queues` (by short name: visible, in flight, delayed, total), `functions`
    (each consumer's mapping figures, by short name) and `actions` (results acted on, by action)."""
    queues = {}
    for name, url in backbone.outputs.queues.items():
        counts = queue_counts(sqs, url)
        queues[name] = {**asdict(counts), "total": counts.total}
    functions = backbone.mapping_functions()
    emitted = metrics.totals().get("feedback", {})
    return {
        "webhook": _webhook(backbone),
        "queues": queues,
        "functions": {functions[mapping]: stats for mapping, stats in backbone.mapping_stats().items()},
        "actions": {a.value: int(emitted.get(ACTION_METRIC.format(a.value.title()), 0)) for a in FollowUpAction},
    }
