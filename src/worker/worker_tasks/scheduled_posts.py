"""scheduled-linkedin and scheduled-german: scheduled content, written by Perplexity.

scheduled-linkedin drafts a LinkedIn post on `parameters.topic` and, when
`parameters.publish` is true, publishes it through LinkedIn's posts API with a token
from a secret. scheduled-german writes the day's German practice text (a short passage
with vocabulary) on `parameters.topic` at `parameters.level` (default B1).

A LinkedIn post is published at most once per order. LinkedIn's posts API takes no
idempotency key, and finding out whether a post was made (listing the author's posts)
needs the restricted r_member_social permission; so a publish whose outcome is unknown is
not retried, and the order is escalated for a person to check the author's feed. Unknown
means the request had begun to leave and no answer says it was refused: a timeout, a
connection dropped or an answer that cannot be read, a 5xx or 408, and the worker's bound
on the task firing while the POST is under way (its thread runs on and may still post).
Retried as any failure are those where LinkedIn certainly made no post: an answer of 429
(rate limited) or another 4xx, and a call that never left (the name did not resolve, the
connection or the TLS handshake failed). The escalated result's errorDetails carry the
draft and the author (the post to look for, or to publish by hand). The one window left is
the worker's invocation dying (not timing out: the task is bounded within it) after
LinkedIn took the post and before the attempt's result was stored: its redelivery runs the
task again, as for every call without an idempotency key (README, "Crash points").
"""

from __future__ import annotations

from automation_shared.contracts import OrderMessage, ResultStatus, TaskType
from automation_shared.http_client import ExternalCallError, api_access, raise_for_status, request
from automation_shared.perplexity_client import complete

from .outcome import OutcomeUnknownError, TaskFailedError, TaskOutcome, begin_unrepeatable_act

DEFAULT_LINKEDIN_BASE_URL = "https://api.linkedin.com"
LINKEDIN_POST = "LinkedIn post"


def _publish_to_linkedin(text: str, author: str, deadline: float) -> str:
    token, base_url = api_access(
        "LINKEDIN_ACCESS_TOKEN_SECRET_NAME", "LINKEDIN_API_BASE_URL", DEFAULT_LINKEDIN_BASE_URL
    )
    begin_unrepeatable_act(LINKEDIN_POST, author=author, draft=text)
    try:
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
    except ExternalCallError as failed:
        if failed.outcome_unknown:
            raise OutcomeUnknownError(
                LINKEDIN_POST, str(failed), failed.status, author=author, draft=text, **failed.details
            ) from failed
        raise
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
