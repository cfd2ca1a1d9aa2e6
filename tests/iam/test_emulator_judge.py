"""The judge the emulator's gate runs (iam/emulator_judge.py): the stack's policies through JSON and
back unchanged, the local callers named (the administrator behind the default credentials, the
Lambda service assuming a role), and each decision as the gate records it."""

from __future__ import annotations

import json
from functools import cache

import pytest

from automation_local.aws.emulator import CREDENTIALS
from automation_local.aws.iam_gate import GateRequest, Verdict
from automation_local.iam import emulator_judge
from automation_local.iam.requests import EmulatorRequest
from automation_local.iam.template_policies import StackPolicies, template_stack_policies
from tests.iam.captured import captured

pytestmark = pytest.mark.fast

ACCOUNT = "123456789012"
ORDER_QUEUE_URL = f"http://127.0.0.1:4566/{ACCOUNT}/automation-dev-order-queue"
ORDER_QUEUE_ARN = f"arn:aws:sqs:us-east-1:{ACCOUNT}:automation-dev-order-queue"
WORKER_ROLE = f"arn:aws:iam::{ACCOUNT}:role/automation-dev-worker-role"


@cache
def stack() -> StackPolicies:
    return template_stack_policies()


def judge() -> emulator_judge.EmulatorJudge:
    # The configuration crosses a process boundary as JSON, as the runtime posts it.
    return emulator_judge.judge_from(json.loads(json.dumps(emulator_judge.configuration(stack()))))


def judged(request: EmulatorRequest) -> Verdict:
    return judge()(GateRequest(request.method, request.path, request.headers, request.body, request.secure_transport))


def test_the_stack_s_policies_survive_the_trip_to_the_emulator_as_json() -> None:
    # GIVEN the template's policies as deployed
    policies = stack()
    # WHEN they are written as the runtime posts them and read as the emulator reads them
    read = emulator_judge.stack_policies_of(json.loads(json.dumps(emulator_judge.configuration(policies))))
    # THEN nothing changed
    assert read == policies


def test_the_default_credentials_are_the_local_administrator_judged_by_the_key_and_queue_policies() -> None:
    # GIVEN a send to the order queue signed with the emulator's default credentials
    request = captured(
        "sqs", "send_message", access_key=CREDENTIALS["aws_access_key_id"], QueueUrl=ORDER_QUEUE_URL, MessageBody="{}"
    )
    # WHEN the emulator's judge judges it
    verdict = judged(request)
    # THEN it is the local administrator's, allowed by AdministratorAccess, and the key's use by
    # the key policy's delegation to IAM
    assert verdict.refusal is None
    assert [(d.principal, d.action, d.statements) for d in verdict.decisions] == [
        (emulator_judge.LOCAL_ADMINISTRATOR, "sqs:SendMessage", ("local-administrator/AdministratorAccess#0",)),
        *[
            (
                emulator_judge.LOCAL_ADMINISTRATOR,
                action,
                ("local-administrator/AdministratorAccess#0", "EncryptionKey#AccountAdministersKeyThroughIam"),
            )
            for action in ("kms:GenerateDataKey", "kms:Decrypt")
        ],
    ]


def test_the_lambda_service_assumes_a_function_s_role_by_its_trust_policy() -> None:
    # GIVEN the runtime's AssumeRole of the worker's role, signed as the Lambda service
    request = captured(
        "sts",
        "assume_role",
        access_key=emulator_judge.LAMBDA_SERVICE_ACCESS_KEY,
        RoleArn=WORKER_ROLE,
        RoleSessionName="fn-worker",
    )
    # WHEN the emulator's judge judges it
    verdict = judged(request)
    # THEN the role's trust policy allowed it, for lambda.amazonaws.com
    assert verdict.refusal is None
    [decision] = verdict.decisions
    assert (decision.principal, decision.action, decision.resource) == (
        "lambda.amazonaws.com",
        "sts:AssumeRole",
        WORKER_ROLE,
    )
    assert [s.split("#")[0] for s in decision.statements] == ["WorkerRole/AssumeRolePolicyDocument"]


def test_a_key_no_one_holds_is_recorded_as_an_unknown_caller_for_each_call_it_needed() -> None:
    # GIVEN a receive from the order queue signed with a key no principal holds
    request = captured("sqs", "receive_message", access_key="AKIANOBODY", QueueUrl=ORDER_QUEUE_URL)
    # WHEN the emulator's judge judges it
    verdict = judged(request)
    # THEN SQS's answer to an unknown key is given, and the calls are recorded with no principal
    assert verdict.refusal is not None
    assert (verdict.refusal.code, verdict.refusal.status_line) == ("InvalidClientTokenId", "403 Forbidden")
    assert [(d.principal, d.action, d.outcome) for d in verdict.decisions] == [
        (None, "sqs:ReceiveMessage", "unknown-caller"),
        (None, "kms:Decrypt", "unknown-caller"),
    ]
    assert (verdict.service, verdict.operation) == ("sqs", "ReceiveMessage")
    assert verdict.decisions[0].resource == ORDER_QUEUE_ARN
