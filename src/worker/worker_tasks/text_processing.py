"""text-processing: counts, keywords and an extractive summary of `parameters.text`."""

from __future__ import annotations

from automation_shared.contracts import OrderMessage, ResultStatus

from .outcome import TaskOutcome
from .text_tools import keywords, sentences, text_of, words

WORDS_PER_MINUTE = 230


def run(order: OrderMessage, deadline: float) -> TaskOutcome:
    text = text_of(order)
    all_words = words(text)
    all_sentences = sentences(text)
    summary_length = int((order.payload.parameters or {}).get("summarySentences", 2))
    data = {
        "characters": len(text),
        "words": len(all_words),
        "sentences": len(all_sentences),
        "readingTimeSeconds": round(len(all_words) / WORDS_PER_MINUTE * 60),
        "keywords": [{"word": w, "count": c} for w, c in keywords(text)],
        "summary": " ".join(all_sentences[:summary_length]),
    }
    return TaskOutcome(ResultStatus.SUCCESS, f"{len(all_words)} words, {len(all_sentences)} sentences", data)
