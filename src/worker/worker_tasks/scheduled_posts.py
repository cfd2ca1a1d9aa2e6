"""scheduled-linkedin and scheduled-german: scheduled content, written by Perplexity.

scheduled-linkedin drafts a LinkedIn post on `parameters.topic` and, when
`parameters.publish` is true, publishes it through LinkedIn's posts API with a token
from a secret. scheduled-german writes the day's German practice text (a short passage
with vocabulary) on `parameters.topic` at `parameters.level` (default B1).
"""

from __future__ import annotations

from automation_shared.contracts import OrderMessage, ResultStatus, TaskType
from automation_shared.http_client import api_access, raise_for_status, request
from automation_shared.perplexity_client import complete

from .outcome import TaskFailedError, TaskOutcome

DEFAULT_LINKEDIN_BASE_URL = "https://api.linkedin.com"


def _publish_to_linkedin(text: str, author: str, deadline: float) -> str:
    token, base_url = api_access(
        "LINKEDIN_ACCESS_TOKEN_SECRET_NAME", "LINKEDIN_API_BASE_URL", DEFAULT_LINKEDIN_BASE_URL
    )
    response = request(
        f"{base_url}/rest/posts",
        deadline,
        method="POST",
        headers={
            "Authorization": f"Bearer {token}",
            "LinkedIn-Version": "202401",
            "X-Restli-Protocol-Version": "2.0.0",
        },
        json_body={
            "author": author,
            "commentary": text,
            "visibility": "PUBLIC",
            "lifecycleState": "PUBLISHED",
            "distribution": {"feedDistribution": "MAIN_FEED"},
        },
    )
    raise_for_status(response, "LinkedIn")
    return response.headers.get("x-restli-id", "")


def run(order: OrderMessage, deadline: float) -> TaskOutcome:
    settings = order.payload.parameters or {}
    topic = settings.get("topic")
    if not isinstance(topic, str) or not topic:
        raise TaskFailedError(f"payload.parameters.topic is required for {order.taskType.value}")
    if order.taskType is TaskType.SCHEDULED_GERMAN:
        level = settings.get("level", "B1")
        text = complete(
            f"Write a short German text at CEFR level {level} about {topic}, then list 5 words "
            "from it with English translations.",
            deadline,
        )
        return TaskOutcome(ResultStatus.SUCCESS, text[:1000], {"topic": topic, "level": level, "text": text})
    text = complete(f"Write a LinkedIn post (at most 1200 characters) about {topic}.", deadline)
    data: dict[str, object] = {"topic": topic, "draft": text, "published": False}
    if settings.get("publish") is True:
        author = settings.get("author")
        if not isinstance(author, str):
            raise TaskFailedError("payload.parameters.author (a LinkedIn URN) is required to publish")
        data |= {"published": True, "postId": _publish_to_linkedin(text, author, deadline)}
    return TaskOutcome(ResultStatus.SUCCESS, text[:1000], data)
