"""Every sample event in events/ runs through its function's handler in-process (no Docker).

`events/<function>-<case>.json` are the events users pass to `sam local invoke`; a case
named `bad-...` is a batch whose every record must be reported as a failure.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from automation_local.emulator import Emulator
from automation_local.lambda_runtime import invoke
from automation_local.local_stack import LocalStack
from automation_local.paths import REPO_ROOT
from tests.functions.handlers import context_for, loaded_handler

EVENTS = sorted((REPO_ROOT / "events").glob("*.json"))


def _function_of(event_file: Path) -> str:
    return event_file.stem.split("-", 1)[0]


def test_every_function_has_sample_events() -> None:
    assert {_function_of(path) for path in EVENTS} == {"webhook", "worker", "feedback"}


@pytest.mark.parametrize("event_file", EVENTS, ids=[p.stem for p in EVENTS])
def test_sample_event_gets_a_well_formed_response(
    emulator: Emulator, local_stack: LocalStack, event_file: Path
) -> None:
    # GIVEN a sample event and its function's handler, against the emulator stack
    function = _function_of(event_file)
    event: dict[str, Any] = json.loads(event_file.read_text())
    # WHEN the handler runs it
    with loaded_handler(emulator, function) as module:
        response = invoke(module, event, context_for(function))
    # THEN an HTTP event gets an HTTP response and a queue batch gets its failure list
    if "requestContext" in event:
        assert isinstance(response["statusCode"], int)
        assert "body" in response
    else:
        record_ids = {r["messageId"] for r in event["Records"]}
        assert set(response) == {"batchItemFailures"}
        failed = {f["itemIdentifier"] for f in response["batchItemFailures"]}
        assert failed == (record_ids if "-bad-" in event_file.stem else set())
