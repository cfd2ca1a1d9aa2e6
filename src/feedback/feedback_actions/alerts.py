"""escalate: the alert an operator reads, within what SNS takes in one message.

SNS refuses a message over 256 KiB, and a result may carry up to 256,000 bytes of data
inline: published as is, with the reason and indentation around it, such an escalation
would fail on every delivery and end in the result DLQ. The alert leaves the bulky data
out then and says so (the order's status record and the result DLQ's redrive keep it).
"""

from __future__ import annotations

import json
import os

from automation_shared.contracts import ResultMessage

SNS_MAX_MESSAGE_BYTES = 262_144
SUBJECT_MAX_CHARS = 100  # SNS's limit for an email subject


def subject(result: ResultMessage) -> str:
    return f"[{os.environ.get('ENVIRONMENT', 'dev')}] escalated {result.taskType} {result.status.value}"[
        :SUBJECT_MAX_CHARS
    ]


def message(result: ResultMessage, reason: str) -> str:
    document = {"reason": reason, "result": json.loads(result.to_json())}
    text = json.dumps(document, indent=2)
    if len(text.encode()) <= SNS_MAX_MESSAGE_BYTES:
        return text
    body = document["result"].get("result", {})
    size = len(json.dumps(body.pop("data", None)).encode())
    body["dataOmitted"] = f"{size} bytes of result data left out: too large for an alert"
    return json.dumps(document, indent=2)
