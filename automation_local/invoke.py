"""`automation-local invoke FUNCTION EVENT`: one function, once, with one event file, in its
own sandbox against a local stack: `sam local invoke` for people without Docker.

Webhook events are signed with the stack's secret first (a stored signature would have
expired), as a client would sign them.
"""

from __future__ import annotations

import json
from pathlib import Path

from automation_shared.signing import SIGNATURE_HEADER

from . import local_account
from .emulator import Emulator
from .http_events import signed_event
from .local_stack import LocalStack
from .sandbox import Invocation
from .stack_functions import sandbox_for


def invoke_event_file(
    emulator: Emulator, stack: LocalStack, function: str, event_file: Path, built: bool = False
) -> Invocation:
    event = json.loads(event_file.read_text())
    if function == "webhook" and event.get("headers", {}).get(SIGNATURE_HEADER):
        event = signed_event(local_account.webhook_secret(emulator, stack), event)
    local_account.seed(emulator, stack.ssm_prefix)
    with local_account.LocalIntegrations() as integrations:
        sandbox = sandbox_for(emulator, stack, function, integrations.environment, built)
        try:
            return sandbox.invoke(event)
        finally:
            sandbox.stop()
