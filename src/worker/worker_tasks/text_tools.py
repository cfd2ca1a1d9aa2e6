"""Text helpers shared by text-processing and content-analysis."""

from __future__ import annotations

import re
from collections import Counter

from automation_shared.contracts import OrderMessage

from .outcome import TaskFailedError

# Apostrophes inside words: ASCII and typographic (U+2019).
WORD = re.compile(r"[^\W\d_]+(?:['\u2019-][^\W\d_]+)*", re.UNICODE)
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "for",
        "from",
        "has",
        "have",
        "in",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "that",
        "the",
        "this",
        "to",
        "was",
        "were",
        "will",
        "with",
        "der",
        "die",
        "das",
        "und",
        "ist",
        "nicht",
        "ein",
        "eine",
        "zu",
        "den",
        "mit",
        "von",
    ]
)


def text_of(order: OrderMessage) -> str:
    """The text to work on: `payload.parameters.text` (or `payload.text`)."""
    parameters = order.payload.parameters or {}
    extra = order.payload.model_extra or {}
    text = parameters.get("text", extra.get("text"))
    if not isinstance(text, str) or not text.strip():
        raise TaskFailedError(f"payload.parameters.text is required for {order.taskType.value}")
    return text


def words(text: str) -> list[str]:
    return WORD.findall(text)


def sentences(text: str) -> list[str]:
    return [s for s in SENTENCE_END.split(text.strip()) if s]


def keywords(text: str, count: int = 10) -> list[tuple[str, int]]:
    counted = Counter(w.lower() for w in words(text) if w.lower() not in STOP_WORDS and len(w) > 2)
    return counted.most_common(count)
