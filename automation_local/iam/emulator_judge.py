"""The Authorizer as the emulator's server runs it: the judge aws/iam_gate.py calls on each request.

The runtime resolves the deployed stack's policies (template_policies.template_stack_policies, with
the stack's physical ids) and posts them as JSON (`configuration`); the server process, started
with `--judge automation_local.iam.emulator_judge:judge_from`, rebuilds them there and judges with
them. The policies travel resolved, not the template's path and parameters: the server judges
exactly what the runtime read, and a test can post any policies it wants judged.

Who calls, besides the stack's roles (whose sessions the emulator's STS holds, requests.moto_principal):
- the emulator's default credentials (aws/emulator.py CREDENTIALS), which the deployment, the
  account's seeding, the demo load, the console and the tests use, are one named principal, the
  local administrator, holding AWS's AdministratorAccess as AWS publishes it: judged like any
  caller (the key policy's delegation, the resource policies' Deny statements), never a
  catch-all. Splitting it into a client, an operator and the deployer is issue 20's next step;
- LAMBDA_SERVICE_ACCESS_KEY stands for the Lambda service, which assumes each function's
  execution role (for its sandboxes and its event source mapping's polls): `lambda.amazonaws.com`,
  allowed only by the role's trust policy.

A secret's ARN ends in a random suffix the request does not carry (it names the secret); the
emulator's own Secrets Manager, in this process, knows it, so a secret created after the
configuration (the integrations' secrets the runtime seeds) is named as AWS names it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from automation_local.aws.emulator import CREDENTIALS
from automation_local.aws.iam_gate import DecisionRecord, GateRequest, Refusal, Verdict
from automation_local.aws.identity import ACCOUNT_ID, REGION
from automation_local.iam.enforcement import Authorizer, RequestDecision
from automation_local.iam.policy import Policy
from automation_local.iam.requests import EmulatorRequest, StackResourceNames, moto_principal
from automation_local.iam.template_policies import AWS_MANAGED_POLICY_PREFIX, StackPolicies, aws_managed_policy

ENTRY_POINT = f"{__name__}:judge_from"
LOCAL_ADMINISTRATOR = f"arn:aws:iam::{ACCOUNT_ID}:user/local-administrator"
LOCAL_ADMINISTRATOR_POLICY = "AdministratorAccess"
LAMBDA_SERVICE = "lambda.amazonaws.com"
LAMBDA_SERVICE_ACCESS_KEY = "lambda-service"  # the runtime's key when it assumes a role as Lambda does
# Access key id -> (principal, caller) of the callers that are not the stack's role sessions.
LOCAL_PRINCIPALS = {
    CREDENTIALS["aws_access_key_id"]: (LOCAL_ADMINISTRATOR, LOCAL_ADMINISTRATOR),
    LAMBDA_SERVICE_ACCESS_KEY: (LAMBDA_SERVICE, LAMBDA_SERVICE),
}


def local_identity_policies() -> dict[str, list[Policy]]:
    """The local administrator's policy (module docstring)."""
    document = aws_managed_policy(f"{AWS_MANAGED_POLICY_PREFIX}{LOCAL_ADMINISTRATOR_POLICY}")
    return {LOCAL_ADMINISTRATOR: [Policy(f"local-administrator/{LOCAL_ADMINISTRATOR_POLICY}", document)]}


# ---------------------------------------------------------------- the configuration, as JSON


def _policy_json(policy: Policy) -> dict[str, Any]:
    return {"name": policy.name, "document": policy.document, "kind": policy.kind}


def _policy(document: Mapping[str, Any]) -> Policy:
    return Policy(document["name"], document["document"], document["kind"])


def configuration(policies: StackPolicies) -> dict[str, Any]:
    """What the runtime posts to the emulator's gate: the stack's resolved policies."""
    return {
        "identity": {arn: [_policy_json(p) for p in listed] for arn, listed in policies.identity.items()},
        "resource": {arn: [_policy_json(p) for p in listed] for arn, listed in policies.resource.items()},
        "key": {arn: _policy_json(policy) for arn, policy in policies.key.items()},
        "encryption": policies.encryption,
        "roles": policies.roles,
        "arns": policies.arns,
        "aliases": policies.aliases,
    }


def stack_policies_of(configuration: Mapping[str, Any]) -> StackPolicies:
    return StackPolicies(
        identity={arn: [_policy(p) for p in listed] for arn, listed in configuration["identity"].items()},
        resource={arn: [_policy(p) for p in listed] for arn, listed in configuration["resource"].items()},
        key={arn: _policy(policy) for arn, policy in configuration["key"].items()},
        encryption=dict(configuration["encryption"]),
        roles=dict(configuration["roles"]),
        arns=dict(configuration["arns"]),
        aliases=dict(configuration["aliases"]),
    )


# ---------------------------------------------------------------- in the emulator's process


@dataclass
class EmulatorResourceNames(StackResourceNames):
    """StackResourceNames with each secret's ARN from the emulator's Secrets Manager (module docstring)."""

    secrets: Mapping[str, str] = field(default_factory=dict)

    def secret_arn(self, secret_id: str) -> str:
        from moto.secretsmanager.models import secretsmanager_backends  # the emulator's process only

        secret = secretsmanager_backends[ACCOUNT_ID][REGION].secrets.get(secret_id)
        return str(secret.arn) if secret is not None else super().secret_arn(secret_id)


def principal_of(access_key_id: str) -> tuple[str, str] | None:
    return LOCAL_PRINCIPALS.get(access_key_id) or moto_principal(access_key_id)


def records(decision: RequestDecision) -> tuple[DecisionRecord, ...]:
    """Each call's decision as the gate keeps it; a key no principal holds refuses every call."""
    if decision.error is not None and not decision.decisions:
        return tuple(
            DecisionRecord(None, call.action, call.resource, "unknown-caller") for call in decision.parsed.calls
        )
    return tuple(
        DecisionRecord(
            judged.request.principal_arn,
            call.action,
            call.resource,
            judged.outcome,
            tuple(str(statement) for statement in judged.statements),
        )
        for call, judged in decision.decisions
    )


@dataclass
class EmulatorJudge:
    """aws/iam_gate.py's Judge: an Authorizer over the posted policies."""

    authorizer: Authorizer

    def __call__(self, request: GateRequest) -> Verdict:
        decision = self.authorizer.evaluate(
            EmulatorRequest(request.method, request.path, request.headers, request.body, request.secure_transport)
        )
        error = decision.error
        refusal = Refusal(error.code, error.status_line, error.headers, error.body) if error is not None else None
        return Verdict(records(decision), refusal, decision.parsed.service, decision.parsed.operation)


def judge_from(configuration: Mapping[str, Any]) -> EmulatorJudge:
    """The entry point the emulator's server loads (`--judge`, ENTRY_POINT)."""
    policies = stack_policies_of(configuration)
    names = EmulatorResourceNames(policies.encryption, aliases=policies.aliases)
    return EmulatorJudge(Authorizer(policies, names, principal_of, local_identity_policies()))
