"""Every sample event in events/ runs through its function's handler in-process (no Docker),
against the emulator stack with the integrations' stand-ins.

`events/<function>-<case>.json` are the events users pass to `sam local invoke`. A
`bad-...` case must be refused: a 4xx from the webhook, every record reported as a
failure by a consumer. Webhook events carry a placeholder signature, so they are signed
here as a client would sign them (except the unsigned case).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from automation_local.apigateway.events import signed_event
from automation_local.aws.emulator import Emulator
from automation_local.cloudformation.stack import DeployedStack
from tests.functions.handlers import context_for, loaded_handler
from tools.sample_events import EVENTS_DIR, rendered

pytestmark = pytest.mark.slow

EVENTS = sorted(EVENTS_DIR.glob("*.json"))


def _function_of(event_file: Path) -> str:
    return event_file.stem.split("-", 1)[0]


def test_sample_events_are_what_the_generator_writes() -> None:
    # GIVEN the sample events checked in under events/
    # WHEN they are compared with what the generator writes now
    # THEN they are the same
    assert {p.name: p.read_text() for p in EVENTS} == rendered(), "events/ is stale: run `make events`"


@pytest.fixture(scope="module")
def handlers(
    emulator: Emulator, deployed_stack: DeployedStack, integration_urls: dict[str, str]
) -> Iterator[dict[str, ModuleType]]:
    with ExitStack() as stack:
        yield {
            f: stack.enter_context(loaded_handler(emulator, deployed_stack, f, **integration_urls))
            for f in ("webhook", "worker", "feedback")
        }


@pytest.mark.parametrize("event_file", EVENTS, ids=[p.stem for p in EVENTS])
def test_sample_event_gets_its_expected_response(
    emulator: Emulator, handlers: dict[str, ModuleType], event_file: Path
) -> None:
    # GIVEN a sample event and its function's handler, against the emulator stack
    function = _function_of(event_file)
    event: dict[str, Any] = json.loads(event_file.read_text())
    bad = "-bad-" in event_file.stem
    if function == "webhook" and "unsigned" not in event_file.stem:
        secret = emulator.client("secretsmanager").get_secret_value(SecretId="automation/dev/webhook-secret")
        event = signed_event(secret["SecretString"], event)
    # WHEN the handler runs it
    response = handlers[function].lambda_handler(event, context_for(function))
    # THEN the webhook answers 4xx to a bad request and 2xx (or 404 for an unknown id) otherwise
    if function == "webhook":
        status = response["statusCode"]
        assert (400 <= status < 500) if bad else (status < 300 or (status == 404 and "get" in event_file.stem))
        json.loads(response["body"])
    # AND a consumer reports every record of a bad batch and none of a good one
    else:
        record_ids = {r["messageId"] for r in event["Records"]}
        assert set(response) == {"batchItemFailures"}
        failed = {f["itemIdentifier"] for f in response["batchItemFailures"]}
        assert failed == (record_ids if bad else set())
