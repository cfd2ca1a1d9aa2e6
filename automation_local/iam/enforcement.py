"""`evaluate(request) -> RequestDecision`: the one function the emulator's server calls.

An `Authorizer` holds what judging needs and does not change between requests: the stack's
policies (template_policies.StackPolicies), the names a request does not carry (a secret's ARN, a
key's alias) and how an access key maps to its principal (the emulator's STS sessions,
requests.moto_principal, or a fixed map in tests). `evaluate` is pure over those: it parses the
request (requests.py), adds the principal's condition keys, judges each call it needs in order
(policy.py) and, on the first refusal, gives the error that service answers on AWS (errors.py).
Every call's decision is kept in the result, so a recorder can tell which statement allowed what.

Principals other than the stack's roles (the operator, a producer, the demo load's client) are
named by their ARN in `extra_identity`, with their own policies. A request signed with a key no
principal holds (or not signed) is refused before any policy, as AWS refuses an unknown key
(errors.unknown_caller_response); one needing no permission (sts:GetCallerIdentity) is not judged.

Wiring: aws/server.py importing this package directly would make aws -> iam -> aws (iam uses
aws/identity.py and cloudformation/, which imports aws/) a cycle tests/architecture refuses; so the
server loads its judge by module path (`--judge`, aws/iam_gate.py) and the runtime, which sits above
both, posts it the stack's policies (emulator_judge.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from automation_local.aws.identity import ACCOUNT_ID, REGION
from automation_local.iam.errors import ErrorResponse, error_response, unknown_caller_response
from automation_local.iam.policy import AuthorizationRequest, ContextValue, Decision, Policy, evaluate_policies
from automation_local.iam.requests import (
    Call,
    EmulatorRequest,
    ParsedRequest,
    PrincipalLookup,
    ResourceNames,
    parse_request,
)
from automation_local.iam.template_policies import StackPolicies


@dataclass(frozen=True)
class RequestDecision:
    parsed: ParsedRequest
    decisions: tuple[tuple[Call, Decision], ...]  # each call judged, in order, up to the first refusal
    error: ErrorResponse | None = None  # what to answer instead of the service, if refused

    @property
    def allowed(self) -> bool:
        return self.error is None

    @property
    def refused(self) -> tuple[Call, Decision] | None:
        """The call refused by a policy (None also when the caller itself was unknown: see `error`)."""
        return next(((call, decision) for call, decision in self.decisions if not decision.allowed), None)


@dataclass
class Authorizer:
    policies: StackPolicies
    names: ResourceNames
    principal_of: PrincipalLookup  # access key id -> (principal ARN, caller ARN)
    extra_identity: Mapping[str, Sequence[Policy]] = field(default_factory=dict)  # principal ARN -> policies

    def identity_policies(self, principal_arn: str) -> Sequence[Policy]:
        return [*self.policies.identity.get(principal_arn, []), *self.extra_identity.get(principal_arn, [])]

    def judge(self, call: Call, principal_arn: str, caller_arn: str, secure_transport: bool) -> Decision:
        context = dict(principal_context(principal_arn, call.resource, secure_transport))
        context.update(call.context)
        request = AuthorizationRequest(principal_arn, call.action, call.resource, context, caller_arn)
        if call.action.startswith("kms:") and call.resource in self.policies.key:
            return evaluate_policies(
                request, self.identity_policies(principal_arn), (), self.policies.key[call.resource]
            )
        # A role's trust policy is its resource policy (sts:AssumeRole on the role's ARN).
        resource_policies = self.policies.resource_policies(call.resource)
        return evaluate_policies(request, self.identity_policies(principal_arn), resource_policies)

    def evaluate(self, request: EmulatorRequest) -> RequestDecision:
        parsed = parse_request(request, self.names)
        principal = self.principal_of(parsed.access_key_id) if parsed.access_key_id else None
        json_protocol = request.header("X-Amz-Target") is not None
        if principal is None:
            if not parsed.calls:
                return RequestDecision(parsed, ())
            return RequestDecision(parsed, (), unknown_caller_response(parsed.service, json_protocol=json_protocol))
        principal_arn, caller_arn = principal
        judged: list[tuple[Call, Decision]] = []
        for call in parsed.calls:
            decision = self.judge(call, principal_arn, caller_arn, request.secure_transport)
            judged.append((call, decision))
            if not decision.allowed:
                error = error_response(
                    parsed.service, decision, json_protocol=json_protocol, via_kms=call.via is not None
                )
                return RequestDecision(parsed, tuple(judged), error)
        return RequestDecision(parsed, tuple(judged))


def principal_context(principal_arn: str, resource: str, secure_transport: bool) -> dict[str, ContextValue]:
    """The global condition keys every request carries
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html)."""
    now = datetime.now(UTC)
    parts = resource.split(":")
    # An S3 ARN names no account; the bucket is this account's (the only one here).
    resource_account = parts[4] if len(parts) > 5 and parts[4] else ACCOUNT_ID
    context: dict[str, ContextValue] = {
        "aws:SecureTransport": "true" if secure_transport else "false",
        "aws:RequestedRegion": REGION,
        "aws:CurrentTime": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "aws:EpochTime": str(int(now.timestamp())),
        "aws:ResourceAccount": resource_account,
    }
    if principal_arn.startswith("arn:"):
        context["aws:PrincipalArn"] = principal_arn
        context["aws:PrincipalAccount"] = principal_arn.split(":")[4]
        context["aws:PrincipalType"] = "AssumedRole" if ":role/" in principal_arn else "User"
    return context
