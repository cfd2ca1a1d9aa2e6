"""The local runtime with IAM enforced (issue 20, opt-in for now: `automation-local --iam`): each
function and its mapping's polls call with the function's execution role, the emulator judges every
call against the deployed stack's policies, and a call a role may not make gets AWS's error."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from botocore.exceptions import ClientError

from automation_local.aws import iam_gate
from automation_local.aws.iam_gate import INSECURE_TRANSPORT_HEADER
from automation_local.demo_load import run_demo_load
from automation_local.runtime import LocalRuntime

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def enforced() -> Iterator[LocalRuntime]:
    with LocalRuntime(iam=True) as running:
        yield running


def test_the_runtime_starts_with_iam_enforced_each_mapping_s_role_reading_its_queue(enforced: LocalRuntime) -> None:
    # GIVEN the runtime started with IAM enforced
    # WHEN the emulator's record of the start is read
    record = iam_gate.decisions(enforced.emulator.endpoint_url)
    # THEN nothing was refused, Lambda assumed each role by its trust policy, and each mapping's
    # role read its queue's attributes, as Lambda requires of it
    assert record["refusals"] == []
    assumed = {d["resource"].rsplit("/", 1)[1] for d in record["decisions"] if d["action"] == "sts:AssumeRole"}
    assert assumed == {"automation-dev-webhook-role", "automation-dev-worker-role", "automation-dev-feedback-role"}
    reads = {
        (d["principal"].rsplit("/", 1)[1], d["resource"].rsplit(":", 1)[1], d["statements"][0].split("#")[1])
        for d in record["decisions"]
        if d["action"] == "sqs:GetQueueAttributes" and ":role/" in d["principal"]
    }
    assert reads == {
        ("automation-dev-worker-role", "automation-dev-order-queue", "ConsumeOrders"),
        ("automation-dev-feedback-role", "automation-dev-result-queue", "ConsumeResults"),
    }


def test_a_small_flow_with_iam_enforced_has_no_refused_call_and_every_order_ends(enforced: LocalRuntime) -> None:
    # GIVEN the runtime with IAM enforced, and a clean record of its decisions
    iam_gate.clear_decisions(enforced.emulator.endpoint_url)
    # WHEN a demo load runs through it: orders that succeed, fail, are requeued and escalated
    summary = run_demo_load(enforced, orders=8, fail_rate=0.25, seed=11, timeout=300)
    record = iam_gate.decisions(enforced.emulator.endpoint_url)
    # THEN every order reached its final state, the one its plan says
    assert (summary.submitted, summary.lost, summary.unexpected) == (8, 0, 0)
    assert summary.completed > 0
    # AND every call was judged, each role calling as itself, and none was refused
    assert record["judging"] is True
    refused = [d for d in record["decisions"] if d["outcome"] != "allowed"]
    assert (refused, record["refusals"]) == ([], [])
    principals = {d["principal"] for d in record["decisions"]}
    assert {f"arn:aws:iam::123456789012:role/automation-dev-{f}-role" for f in ("webhook", "worker", "feedback")} <= (
        principals
    )
    # AND the encrypted queues' key was judged for the roles' sends and receives
    assert any(d["action"] == "kms:Decrypt" and ":role/" in (d["principal"] or "") for d in record["decisions"])


def test_the_webhook_role_receiving_from_the_order_queue_is_refused_as_sqs_refuses_it(
    enforced: LocalRuntime,
) -> None:
    # GIVEN an SQS client signed with the webhook role's session (the role only sends orders)
    sqs = enforced.emulator.client("sqs", credentials=enforced.role_credentials("webhook"), retries={"max_attempts": 1})
    # WHEN it receives from the order queue
    with pytest.raises(ClientError) as refused:
        sqs.receive_message(QueueUrl=enforced.outputs.order_queue_url, WaitTimeSeconds=0)
    # THEN SQS's refusal comes back: AccessDenied, HTTP 403, naming the role's session and the action
    error = refused.value.response
    assert error["Error"]["Code"] == "AccessDenied"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert "assumed-role/automation-dev-webhook-role/fn-webhook" in error["Error"]["Message"]
    assert "sqs:ReceiveMessage" in error["Error"]["Message"]
    # AND the emulator recorded the refusal, with the statement-less implicit deny
    refusals = iam_gate.decisions(enforced.emulator.endpoint_url)["refusals"]
    assert {
        "service": "sqs",
        "operation": "ReceiveMessage",
        "code": "AccessDenied",
        "status": 403,
        "principal": "arn:aws:iam::123456789012:role/automation-dev-webhook-role",
        "action": "sqs:ReceiveMessage",
        "resource": "arn:aws:sqs:us-east-1:123456789012:automation-dev-order-queue",
        "outcome": "implicit-deny",
        "statements": [],
    } in refusals


def test_a_send_marked_insecure_is_refused_by_the_queues_tls_only_statement(enforced: LocalRuntime) -> None:
    # GIVEN the local administrator's SQS client, its requests marked as plain http (the emulator's
    # loopback http otherwise counts as TLS)
    sqs = enforced.emulator.client("sqs", retries={"max_attempts": 1})
    sqs.meta.events.register(
        "before-sign.sqs.*", lambda request, **_: request.headers.add_header(INSECURE_TRANSPORT_HEADER, "true")
    )
    # WHEN it sends an order
    with pytest.raises(ClientError) as refused:
        sqs.send_message(QueueUrl=enforced.outputs.order_queue_url, MessageBody="{}")
    # THEN the queue policy's TLS-only Deny refuses it, whatever AdministratorAccess allows
    error = refused.value.response
    assert (error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"]) == ("AccessDenied", 403)
    assert "with an explicit deny in a resource-based policy" in error["Error"]["Message"]
    [refusal] = [
        r for r in iam_gate.decisions(enforced.emulator.endpoint_url)["refusals"] if r["operation"] == "SendMessage"
    ]
    assert refusal["statements"] == ["QueuesRefuseInsecureTransport#DenyNonTlsAccess"]
