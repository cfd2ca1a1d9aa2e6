"""`automation-local invoke FUNCTION EVENT`: one function, once, with one event file, in its
own sandbox against a local stack: `sam local invoke` for people without Docker.

Webhook events are signed with the stack's secret first (a stored signature would have
expired), as a client would sign them.
"""

from __future__ import annotations

import json
from pathlib import Path

from automation_local.apigateway.events import signed_event
from automation_local.aws.emulator import Emulator
from automation_local.cloudformation.stack import DeployedStack
from automation_local.lambda_.functions import stack_functions
from automation_local.lambda_.sandbox import FunctionSandbox, Invocation
from automation_local.outside import account
from automation_shared.signing import SIGNATURE_HEADER


def invoke_event_file(emulator: Emulator, stack: DeployedStack, function: str, event_file: Path) -> Invocation:
    event = json.loads(event_file.read_text())
    if event.get("headers", {}).get(SIGNATURE_HEADER):  # a signed webhook request
        event = signed_event(account.webhook_secret(emulator, stack), event)
    account.seed(emulator, stack)
    with account.LocalIntegrations() as integrations:
        sandbox = FunctionSandbox(stack_functions(emulator, stack)[function].with_environment(integrations.environment))
        try:
            return sandbox.invoke(event)
        finally:
            sandbox.stop()
