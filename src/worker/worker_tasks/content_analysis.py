"""content-analysis: readability, tone and keywords of `parameters.text`."""

from __future__ import annotations

import re

from automation_shared.contracts import OrderMessage, ResultStatus

from .outcome import TaskOutcome
from .text_tools import keywords, sentences, text_of, words

POSITIVE = frozenset(
    [
        "good",
        "great",
        "excellent",
        "happy",
        "love",
        "success",
        "improve",
        "win",
        "fast",
        "clear",
        "easy",
        "gut",
        "super",
    ]
)
NEGATIVE = frozenset(
    [
        "bad",
        "poor",
        "fail",
        "failure",
        "slow",
        "broken",
        "error",
        "hate",
        "risk",
        "problem",
        "angry",
        "schlecht",
        "fehler",
    ]
)
VOWEL_GROUPS = re.compile(r"[aeiouyäöü]+", re.IGNORECASE)


def _syllables(word: str) -> int:
    return max(1, len(VOWEL_GROUPS.findall(word)))


def run(order: OrderMessage, deadline: float) -> TaskOutcome:
    text = text_of(order)
    all_words = words(text)
    word_count = max(1, len(all_words))
    sentence_count = max(1, len(sentences(text)))
    syllables = sum(_syllables(w) for w in all_words)
    # Flesch reading ease: higher is easier (60-70 is plain English).
    reading_ease = 206.835 - 1.015 * (word_count / sentence_count) - 84.6 * (syllables / word_count)
    lowered = [w.lower() for w in all_words]
    positive = sum(w in POSITIVE for w in lowered)
    negative = sum(w in NEGATIVE for w in lowered)
    tone = "positive" if positive > negative else "negative" if negative > positive else "neutral"
    data = {
        "readingEase": round(reading_ease, 1),
        "averageSentenceWords": round(word_count / sentence_count, 1),
        "tone": tone,
        "toneScore": round((positive - negative) / word_count, 3),
        "keywords": [{"word": w, "count": c} for w, c in keywords(text, 5)],
    }
    return TaskOutcome(ResultStatus.SUCCESS, f"{tone} tone, reading ease {data['readingEase']}", data)
