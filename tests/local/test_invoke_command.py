"""`automation-local invoke`: one function, one event file, a fresh local stack."""

from __future__ import annotations

import json

import pytest

from automation_local.cli import main
from automation_local.cloudformation.project import REPO_ROOT

pytestmark = pytest.mark.slow


def test_invoke_runs_a_worker_event_and_prints_its_response(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["invoke", "worker", str(REPO_ROOT / "events" / "worker-bad-unknown-task-type.json")]) == 0
    printed = capsys.readouterr().out
    response = json.loads(printed[printed.index("{\n") :])
    assert [f["itemIdentifier"] for f in response["batchItemFailures"]] == [
        json.loads((REPO_ROOT / "events" / "worker-bad-unknown-task-type.json").read_text())["Records"][0]["messageId"]
    ]


def test_invoke_signs_a_webhook_event_with_the_stacks_secret(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["invoke", "webhook", str(REPO_ROOT / "events" / "webhook-post-order.json")]) == 0
    printed = capsys.readouterr().out
    response = json.loads(printed[printed.index("{\n") :])
    assert response["statusCode"] == 202
