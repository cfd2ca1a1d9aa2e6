"""`automation-local invoke`: one function, one event file, a fresh local stack."""

from __future__ import annotations

import json

import pytest

from automation_local.cli import main
from automation_local.cloudformation.project import REPO_ROOT

pytestmark = pytest.mark.slow


def test_invoke_runs_a_worker_event_and_prints_its_response(capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN the sample worker event whose order has an unknown task type
    # WHEN `invoke` runs the worker with it on a fresh local stack
    assert main(["invoke", "worker", str(REPO_ROOT / "events" / "worker-bad-unknown-task-type.json")]) == 0
    # THEN it prints the worker's response, which reports that record as failed
    printed = capsys.readouterr().out
    response = json.loads(printed[printed.index("{\n") :])
    assert [f["itemIdentifier"] for f in response["batchItemFailures"]] == [
        json.loads((REPO_ROOT / "events" / "worker-bad-unknown-task-type.json").read_text())["Records"][0]["messageId"]
    ]


def test_invoke_signs_a_webhook_event_with_the_stacks_secret(capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN the sample POST /orders event, which carries a placeholder signature
    # WHEN `invoke` runs the webhook with it on a fresh local stack
    assert main(["invoke", "webhook", str(REPO_ROOT / "events" / "webhook-post-order.json")]) == 0
    # THEN the order is accepted: the event was signed with the stack's secret
    printed = capsys.readouterr().out
    response = json.loads(printed[printed.index("{\n") :])
    assert response["statusCode"] == 202
