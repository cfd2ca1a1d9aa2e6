"""`automation-local permissions`: a small load with IAM enforced, reported per role against every
grant the template gives it; a statement removed from a copy of the template makes the run refuse
the call it allowed, and the report names the action."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from automation_local.cloudformation.project import TEMPLATE_PATH
from automation_local.cloudformation.template import code_resources, load_template
from tests.e2e.run_command import run_command

pytestmark = pytest.mark.slow

ACCOUNT = "arn:aws:iam::123456789012"


def _permissions(*arguments: str, timeout: float = 600) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    run = run_command("permissions", *arguments, timeout=timeout)
    assert run.stdout.strip(), f"exit {run.returncode}, no report; stderr:\n{run.stderr[-3000:]}"
    return run, dict(json.loads(run.stdout))


def _template_without(tmp_path: Path, role: str, sid: str) -> Path:
    """A copy of template.yaml without one statement of one role's policy (its code where it is)."""
    template = load_template(TEMPLATE_PATH)
    for logical_id, code_uri in code_resources(template).items():
        properties = template["Resources"][logical_id]["Properties"]
        key = "ContentUri" if "ContentUri" in properties else "CodeUri"
        properties[key] = str((TEMPLATE_PATH.parent / code_uri).resolve())
    [policy] = template["Resources"][role]["Properties"]["Policies"]
    statements = policy["PolicyDocument"]["Statement"]
    kept = [s for s in statements if not (isinstance(s, dict) and s.get("Sid") == sid)]
    assert len(kept) == len(statements) - 1, f"{role} has no statement {sid}"
    policy["PolicyDocument"]["Statement"] = kept
    copy = tmp_path / "template.yaml"
    copy.write_text(json.dumps(template))  # JSON is YAML, with the tags already read as intrinsics
    return copy


def _statement_states(role: dict[str, Any]) -> dict[str, str]:
    return {statement["sid"]: statement["state"] for statement in role["statements"]}


def test_the_standard_run_uses_every_grant_or_names_the_path_that_needs_it() -> None:
    # GIVEN the standard scenario: 10 orders, a fifth failing, standard queues, then a large result
    # WHEN the permissions command runs it with IAM enforced
    run, report = _permissions()
    # THEN it passes: no call refused, no unused grant left unexplained
    assert run.returncode == 0, run.stderr[-3000:]
    assert (report["passed"], report["refused_calls"], report["unexplained_statements"]) == (True, 0, [])
    roles = {role["role"]: role for role in report["roles"]}
    assert set(roles) == {"WebhookRole", "WorkerRole", "FeedbackRole"}
    # AND each role lists what it used, as the calls its functions and its mapping's polls made
    used = {
        name: {(c["action"], c["resource"].rsplit(":", 1)[-1]) for c in role["used"]} for name, role in roles.items()
    }
    assert {("sqs:SendMessage", "automation-dev-order-queue"), ("dynamodb:PutItem", "table/automation-dev-orders")} <= (
        used["WebhookRole"]
    )
    assert {
        ("sqs:ReceiveMessage", "automation-dev-order-queue"),
        ("sqs:SendMessage", "automation-dev-result-queue"),
    } <= (used["WorkerRole"])
    assert ("s3:PutObject", "arn:aws:s3:::automation-dev-archive-123456789012-us-east-1/payloads/*") in {
        (c["action"], c["resource"]) for c in roles["WorkerRole"]["used"]
    }
    assert {("sns:Publish", "automation-dev-queue-alerts"), ("sqs:ReceiveMessage", "automation-dev-result-queue")} <= (
        used["FeedbackRole"]
    )
    assert all(role["refused"] == [] for role in roles.values())
    # AND every grant a role holds is used but its log and tracing statements, whose paths
    # (Lambda's log delivery, the X-Ray daemon) the report names
    for name, role in roles.items():
        states = _statement_states(role)
        unused = {sid for sid, state in states.items() if state != "used"}
        assert unused == {"WriteOwnLogs", "Tracing"}, (name, states)
        assert all(s["undriven"]["needed_by"] for s in role["statements"] if s["sid"] in unused)
    # AND of the resource and key policies the trust policies and the key's delegation to IAM are
    # used; the CloudWatch statements and the TLS-only Denies are explained
    shared = {s["statement"]: s["state"] for s in report["resource_statements"]}
    assert shared["EncryptionKey#AccountAdministersKeyThroughIam"] == "used"
    assert {shared[f"{role}/AssumeRolePolicyDocument#0"] for role in roles} == {"used"}
    assert shared["QueuesRefuseInsecureTransport#DenyNonTlsAccess"] == "unused, explained"
    assert shared["EncryptionKey#CloudWatchLogsEncryptStackLogGroups"] == "unused, explained"
    assert shared["AlertTopicPolicy#CloudWatchAlarmsPublish"] == "unused, explained"


# The webhook reads its signing secret, encrypted with the stack's key, before any send: without
# EncryptOrders its first refused call is that kms:Decrypt.
@pytest.mark.parametrize(
    ("role", "sid", "action"),
    [("WorkerRole", "SendResults", "sqs:SendMessage"), ("WebhookRole", "EncryptOrders", "kms:Decrypt")],
)
def test_a_statement_removed_from_a_copy_of_the_template_makes_the_run_refuse_its_action(
    tmp_path: Path, role: str, sid: str, action: str
) -> None:
    # GIVEN a copy of the template without one statement a path of the run needs
    template = _template_without(tmp_path, role, sid)
    # WHEN the permissions command runs on it
    run, report = _permissions("--template", str(template), "--orders", "2", "--fail-rate", "0", timeout=300)
    # THEN it fails, and names the refused action of that role
    assert run.returncode == 1, run.stderr[-3000:]
    assert report["passed"] is False and report["refused_calls"] > 0
    role_arn = next(r["arn"] for r in report["roles"] if r["role"] == role)
    assert {(r["principal"], r["action"]) for r in report["refusals"]} == {(role_arn, action)}
    [refused_role] = [r for r in report["roles"] if r["refused"]]
    assert refused_role["role"] == role and {c["action"] for c in refused_role["refused"]} == {action}
    assert sid not in _statement_states(refused_role)
