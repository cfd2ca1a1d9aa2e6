"""The least-privilege report (iam/permissions_report.py) over a configuration and a record of the
test's own: each role's calls, each statement used or not, an unused grant explained by the table
of undriven paths or failing the report, a refused call failing it, a Deny never failing it."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from rich.console import Console

from automation_local.iam.permissions_report import (
    UNDRIVEN_STATEMENTS,
    permissions_report,
    print_report,
    shown_resource,
    undriven_path,
)

pytestmark = pytest.mark.fast

ROLE = "arn:aws:iam::123456789012:role/automation-dev-worker-role"
ADMIN = "arn:aws:iam::123456789012:user/local-administrator"
QUEUE = "arn:aws:sqs:us-east-1:123456789012:automation-dev-order-queue"
DLQ = "arn:aws:sqs:us-east-1:123456789012:automation-dev-order-dlq"
KEY = "arn:aws:kms:us-east-1:123456789012:key/k"
BUCKET = "arn:aws:s3:::automation-dev-archive"
SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:automation/dev/perplexity-api-key-AbCdEf"


def _statement(sid: str, actions: Any, resource: str, effect: str = "Allow", **extra: Any) -> dict[str, Any]:
    return {"Sid": sid, "Effect": effect, "Action": actions, "Resource": resource, **extra}


QUEUE_POLICY = {
    "name": "QueuesRefuseInsecureTransport",
    "kind": "resource",
    "document": {
        "Statement": [
            _statement(
                "DenyNonTlsAccess",
                "sqs:*",
                QUEUE,
                "Deny",
                Principal="*",
                Condition={"Bool": {"aws:SecureTransport": "false"}},
            ),
            _statement("DenyPurge", "sqs:PurgeQueue", QUEUE, "Deny", Principal="*"),
        ]
    },
}
CONFIGURATION: dict[str, Any] = {
    "roles": {"WorkerRole": ROLE},
    "identity": {
        ROLE: [
            {
                "name": "WorkerRole/DualQueueWorkerAccess",
                "kind": "identity",
                "document": {
                    "Statement": [
                        _statement("ConsumeOrders", ["sqs:ReceiveMessage", "sqs:DeleteMessage"], QUEUE),
                        _statement("Archive", "s3:PutObject", f"{BUCKET}/year=*"),
                        _statement("ReadIntegrationKeys", "secretsmanager:GetSecretValue", SECRET),
                        _statement("WriteOwnLogs", ["logs:CreateLogStream", "logs:PutLogEvents"], "arn:aws:logs:*"),
                        _statement("SpareGrant", "s3:GetObject", f"{BUCKET}/*"),
                    ]
                },
            }
        ]
    },
    "resource": {QUEUE: [QUEUE_POLICY], DLQ: [QUEUE_POLICY]},
    "key": {
        KEY: {
            "name": "EncryptionKey",
            "kind": "key",
            "document": {
                "Statement": [
                    {"Sid": "AccountAdministersKeyThroughIam", "Effect": "Allow", "Action": "kms:*", "Resource": "*"}
                ]
            },
        }
    },
}


def _decision(principal: str, action: str, resource: str, statements: list[str], count: int = 1, **extra: Any) -> dict:
    return {
        "principal": principal,
        "action": action,
        "resource": resource,
        "outcome": "allowed",
        "statements": statements,
        "count": count,
        **extra,
    }


ACCESS = "WorkerRole/DualQueueWorkerAccess"
RECORD: dict[str, Any] = {
    "decisions": [
        _decision(ROLE, "sqs:ReceiveMessage", QUEUE, [f"{ACCESS}#ConsumeOrders"], 40),
        _decision(ROLE, "s3:PutObject", f"{BUCKET}/year=2026/month=12/a.jsonl", [f"{ACCESS}#Archive"]),
        _decision(ROLE, "s3:PutObject", f"{BUCKET}/year=2026/month=12/b.jsonl", [f"{ACCESS}#Archive"]),
        _decision(ROLE, "secretsmanager:GetSecretValue", SECRET, [f"{ACCESS}#ReadIntegrationKeys"], 2),
        _decision(ROLE, "kms:Decrypt", KEY, ["EncryptionKey#AccountAdministersKeyThroughIam"], 7),
        _decision(ADMIN, "sqs:SendMessage", QUEUE, ["local-administrator/AdministratorAccess#0"], 3),
    ],
    "refusals": [],
}


def _with_refusal() -> dict[str, Any]:
    refused = _decision(ROLE, "sqs:SendMessage", DLQ, [], 2) | {"outcome": "implicit-deny"}
    refusal = {"service": "sqs", "operation": "SendMessage", "code": "AccessDenied", "status": 403, **refused}
    return {"decisions": [*RECORD["decisions"], refused], "refusals": [refusal]}


def test_each_role_lists_what_it_used_and_each_statement_it_holds_used_or_not() -> None:
    # GIVEN a run's record against a worker role's policy
    # WHEN the report is made
    report = permissions_report(CONFIGURATION, RECORD)
    # THEN the role lists each (action, resource) it used, an S3 object by its folder
    [role] = report.roles
    assert [(c.action, c.resource, c.calls, c.resources) for c in role.used] == [
        ("kms:Decrypt", KEY, 7, 1),
        ("s3:PutObject", f"{BUCKET}/year=2026/*", 2, 2),
        ("secretsmanager:GetSecretValue", SECRET, 2, 1),
        ("sqs:ReceiveMessage", QUEUE, 40, 1),
    ]
    # AND each statement with its calls; a used one with the actions no call used
    states = {s.sid: (s.state, s.calls, s.unused_actions) for s in role.statements}
    assert states == {
        "ConsumeOrders": ("used", 40, ["sqs:DeleteMessage"]),
        "Archive": ("used", 2, []),
        "ReadIntegrationKeys": ("used", 2, []),
        "WriteOwnLogs": ("unused, explained", 0, []),
        "SpareGrant": ("UNUSED, unexplained", 0, []),
    }
    # AND the resource and key policies once each (the queue policy attached to both queues),
    # the local administrator's own policy not at all
    shared = {s.ref: (s.state, s.attached_to) for s in report.resource_statements}
    assert shared == {
        "EncryptionKey#AccountAdministersKeyThroughIam": ("used", [KEY]),
        "QueuesRefuseInsecureTransport#DenyNonTlsAccess": ("unused, explained", [DLQ, QUEUE]),
        "QueuesRefuseInsecureTransport#DenyPurge": ("unused (a Deny)", [DLQ, QUEUE]),
    }
    assert report.calls_judged == 54


def test_an_unused_grant_without_a_path_fails_the_report_and_an_unused_deny_does_not() -> None:
    # GIVEN the run above  WHEN its report is judged
    report = permissions_report(CONFIGURATION, RECORD)
    # THEN only the spare Allow is unexplained: the report fails on it, and on nothing else
    assert [s.ref for s in report.unexplained] == [f"{ACCESS}#SpareGrant"]
    assert report.passed is False
    # AND with the spare grant gone, it passes
    trimmed = json.loads(json.dumps(CONFIGURATION))
    trimmed["identity"][ROLE][0]["document"]["Statement"].pop()
    assert permissions_report(trimmed, RECORD).passed is True


def test_a_refused_call_fails_the_report_and_is_listed_with_its_action() -> None:
    # GIVEN a configuration with no unexplained grant, and a run in which a send was refused
    trimmed = json.loads(json.dumps(CONFIGURATION))
    trimmed["identity"][ROLE][0]["document"]["Statement"].pop()
    # WHEN its report is made
    report = permissions_report(trimmed, _with_refusal())
    # THEN it fails, the role lists the refused call, and its JSON and text name the action
    assert (report.passed, report.refused_calls) == (False, 2)
    assert [(c.action, c.resource) for c in report.roles[0].refused] == [("sqs:SendMessage", DLQ)]
    document = json.loads(json.dumps(report.as_dict()))
    assert document["refusals"][0]["action"] == "sqs:SendMessage" and document["passed"] is False
    out = io.StringIO()
    print_report(report, Console(file=out, width=200, emoji=False))
    text = out.getvalue()
    assert "refused: arn:aws:iam::123456789012:role/automation-dev-worker-role sqs:SendMessage" in text
    assert "sqs:SendMessage on arn:aws:sqs:us-east-1:123456789012:automation-dev-order-dlq -> 403 AccessDenied" in text


def test_the_text_shows_each_role_its_grants_and_the_path_an_unused_statement_waits_for() -> None:
    # GIVEN the report of the run above  WHEN it is printed
    out = io.StringIO()
    print_report(permissions_report(CONFIGURATION, RECORD), Console(file=out, width=200, emoji=False))
    text = out.getvalue()
    # THEN it names the role, its calls (a secret's ARN as it is), its grants and their states,
    # the AWS path of each explained one, and the verdict
    assert "role WorkerRole" in text and SECRET in text
    assert f"{ACCESS}#WriteOwnLogs: needed by Lambda's log delivery" in text
    assert "UNUSED, unexplained" in text
    assert f"unused grants without an explanation: {ACCESS}#SpareGrant. failed" in text


def test_the_undriven_paths_name_the_template_s_statements_no_local_run_uses() -> None:
    # GIVEN the table of undriven paths
    # WHEN statements are looked up in it
    # THEN a role's log and tracing statements, the key's and the topic's CloudWatch statements
    # and the TLS-only Denies have a path, a role's own grant has none
    assert undriven_path("FeedbackRole/FeedbackDualQueueAccess", "Tracing") is not None
    assert undriven_path("EncryptionKey", "CloudWatchLogsEncryptStackLogGroups") is not None
    assert undriven_path("AlertTopicPolicy", "CloudWatchAlarmsPublish") is not None
    assert undriven_path("ArchiveBucketPolicy", "DenyNonTlsAccess") is not None
    assert undriven_path("WorkerRole/DualQueueWorkerAccess", "SendResults") is None
    assert undriven_path("EncryptionKey", "Tracing") is None  # a role's statement only
    assert all(path.needed_by and path.not_driven for path in UNDRIVEN_STATEMENTS.values())


def test_an_s3_object_is_shown_by_its_first_folder_and_other_resources_as_they_are() -> None:
    assert shown_resource(f"{BUCKET}/payloads/0b6f/attempt-0.json") == f"{BUCKET}/payloads/*"
    assert shown_resource(f"{BUCKET}/top.json") == f"{BUCKET}/top.json"
    assert shown_resource(BUCKET) == BUCKET
    assert shown_resource(QUEUE) == QUEUE


def test_a_fifo_only_path_explains_its_statement_only_in_a_run_on_fifo_queues() -> None:
    # GIVEN feedback's requeue statement, which a FIFO run does not use (the worker holds a failed order)
    requeue = {"name": "FeedbackRole/FeedbackDualQueueAccess", "kind": "identity", "document": {}}
    requeue["document"] = {"Statement": [_statement("RequeueOrders", "sqs:SendMessage", QUEUE)]}
    role = "arn:aws:iam::123456789012:role/automation-dev-feedback-role"
    standard = {"roles": {"FeedbackRole": role}, "identity": {role: [requeue]}, "resource": {}, "key": {}, "arns": {}}
    fifo = {**standard, "arns": {"OrderQueue": f"{QUEUE}.fifo"}}
    # WHEN a run used nothing of it, on standard queues and on FIFO ones
    # THEN only the FIFO run's report explains it
    assert permissions_report(standard, {"decisions": []}).unexplained != []
    assert permissions_report(fifo, {"decisions": []}).unexplained == []
    assert undriven_path("FeedbackRole/FeedbackDualQueueAccess", "RequeueOrders") is None
    assert undriven_path("FeedbackRole/FeedbackDualQueueAccess", "RequeueOrders", fifo=True) is not None
