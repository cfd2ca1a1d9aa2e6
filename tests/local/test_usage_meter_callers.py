"""The usage meter tells callers apart when they call with role sessions (IAM enforced): a request
signed with a session's key is metered for the session's name (`fn-<function>`, `esm-<mapping>`),
read from the emulator's STS sessions in the same process."""

from __future__ import annotations

import io
import json
from collections.abc import Iterable
from typing import Any

import boto3
import pytest
from moto import mock_aws

from automation_local.aws.usage_meter import USAGE_PATH, UsageMeter, metered_caller, session_caller

pytestmark = pytest.mark.fast

SESSIONS = {"ASIAWORKER": "fn-worker", "ASIAPOLLER": "esm-WorkerOrderQueueMapping", "ASIAOTHER": "operator"}


def _request(access_key_id: str, path: str = "/", method: str = "POST") -> dict[str, Any]:
    return {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "HTTP_AUTHORIZATION": f"AWS4-HMAC-SHA256 Credential={access_key_id}/20261208/us-east-1/ssm/aws4_request",
        "CONTENT_LENGTH": "0",
        "wsgi.input": io.BytesIO(b""),
    }


def _service(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    start_response("200 OK", [])
    return [b"{}"]


def _usage(meter: UsageMeter) -> dict[str, Any]:
    answer = meter(_request("any", USAGE_PATH, "GET"), lambda status, headers: None)
    return dict(json.loads(b"".join(answer)))


def test_a_key_named_for_a_caller_is_that_caller_and_a_session_key_its_session_s_name() -> None:
    # GIVEN sessions named for a function, a mapping and an operator
    # WHEN keys are named
    # THEN a key named fn-/esm- is itself, a session's key its session's name if that names a
    # metered caller, and any other key none
    assert metered_caller("fn-webhook", SESSIONS.get) == "fn-webhook"
    assert metered_caller("ASIAWORKER", SESSIONS.get) == "fn-worker"
    assert metered_caller("ASIAPOLLER", SESSIONS.get) == "esm-WorkerOrderQueueMapping"
    assert metered_caller("ASIAOTHER", SESSIONS.get) is None
    assert metered_caller("testing", SESSIONS.get) is None


def test_the_meter_counts_a_session_s_calls_under_its_name_and_leaves_other_keys_out() -> None:
    # GIVEN a meter over a service, knowing the sessions above
    looked_up: list[str] = []

    def session_name_of(key: str) -> str | None:
        looked_up.append(key)
        return SESSIONS.get(key)

    meter = UsageMeter(_service, lambda environ: "ssm:GetParameter", session_name_of)
    # WHEN the worker's session calls twice, the operator's once, and a fn- key once
    for key in ("ASIAWORKER", "ASIAWORKER", "ASIAOTHER", "fn-feedback"):
        b"".join(meter(_request(key), lambda status, headers: None))
    # THEN the worker's two calls are metered as fn-worker's, the fn- key's as its own, the operator's not at all
    usage = _usage(meter)
    assert set(usage) == {"fn-worker", "fn-feedback"}
    assert usage["fn-worker"]["calls"] == {"ssm:GetParameter": 2}
    # AND the worker's session was looked up once (its name is kept), the operator's each time
    assert looked_up == ["ASIAWORKER", "ASIAOTHER"]


def test_the_session_s_name_is_read_from_the_emulator_s_sts_sessions() -> None:
    # GIVEN moto's STS in this process, as in the emulator's, with a role's session named fn-worker
    with mock_aws():
        iam = boto3.client("iam", region_name="us-east-1")
        role = iam.create_role(RoleName="worker-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        sts = boto3.client("sts", region_name="us-east-1")
        key = sts.assume_role(RoleArn=role, RoleSessionName="fn-worker")["Credentials"]["AccessKeyId"]
        # WHEN its key and an unknown one are looked up
        # THEN the session's key names it, the other none
        assert (session_caller(key), session_caller("AKIANOBODY")) == ("fn-worker", None)
