"""The emulator's IAM gate answers what it judges with (GET /_emulator/iam), so a report can be made
of a runtime already up: `{}` before the runtime posts the stack's policies, the posted ones after."""

from __future__ import annotations

import json

import pytest

from automation_local.aws.iam_gate import IAM_PATH
from tests.local.test_iam_gate import call, gate

pytestmark = pytest.mark.fast


def test_the_gate_answers_the_configuration_it_judges_with() -> None:
    # GIVEN a gate not judging yet
    app, service, _judges = gate()
    # WHEN its configuration is read before and after one is posted
    before = call(app, "GET", IAM_PATH)
    posted = {"roles": {"WorkerRole": "arn:aws:iam::123456789012:role/worker"}}
    call(app, "POST", IAM_PATH, json.dumps(posted).encode())
    after = call(app, "GET", IAM_PATH)
    # THEN it is empty before, the posted one after, and no read reached the service
    assert (before[0], json.loads(before[1])) == ("200 OK", {})
    assert (after[0], json.loads(after[1])) == ("200 OK", posted)
    assert service.bodies == []
