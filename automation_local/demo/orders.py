"""Task parameters that make a valid, meaningful order of each task type, shared by the
sample events and the demo load."""

from __future__ import annotations

from typing import Any

from automation_shared.contracts import TaskType

# Task types that read `payload.url`; the others need no page.
WEB_TASK_TYPES = (TaskType.URL_MONITORING, TaskType.PLAYWRIGHT_SCRAPING, TaskType.WEB_AUTOMATION)

_PARAMETERS: dict[TaskType, dict[str, Any]] = {
    TaskType.TEXT_PROCESSING: {"text": "Orders arrive through the webhook. The worker runs them."},
    TaskType.CONTENT_ANALYSIS: {"text": "A clear and fast service. Users love it."},
    TaskType.PERPLEXITY_SUMMARY: {"query": "What is a dead-letter queue?"},
    TaskType.SCHEDULED_LINKEDIN: {"topic": "serverless queues"},
    TaskType.SCHEDULED_GERMAN: {"topic": "das Wetter", "level": "A2"},
}


def task_parameters(task_type: TaskType) -> dict[str, Any]:
    return dict(_PARAMETERS.get(task_type, {}))
