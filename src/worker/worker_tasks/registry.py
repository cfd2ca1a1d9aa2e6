"""Task type -> processor module. Adding a task type: the enum value, one module, one line here.

Modules are imported on first use, so a cold start pays only for the processors its
orders need.
"""

from __future__ import annotations

import importlib
from typing import Protocol

from automation_shared.contracts import OrderMessage, TaskType

from .outcome import TaskOutcome

PROCESSOR_MODULES: dict[TaskType, str] = {
    TaskType.URL_MONITORING: "url_monitoring",
    TaskType.PLAYWRIGHT_SCRAPING: "web_pages",
    TaskType.WEB_AUTOMATION: "web_pages",
    TaskType.TEXT_PROCESSING: "text_processing",
    TaskType.CONTENT_ANALYSIS: "content_analysis",
    TaskType.SYSTEM_HEALTH: "system_health",
    TaskType.PERPLEXITY_SUMMARY: "perplexity_summary",
    TaskType.SCHEDULED_LINKEDIN: "scheduled_posts",
    TaskType.SCHEDULED_GERMAN: "scheduled_posts",
}


class Processor(Protocol):
    def __call__(self, order: OrderMessage, deadline: float) -> TaskOutcome: ...


def processor_for(task_type: TaskType) -> Processor:
    module = importlib.import_module(f"{__package__}.{PROCESSOR_MODULES[task_type]}")
    return module.run  # type: ignore[no-any-return]
