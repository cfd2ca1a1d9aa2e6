"""IAM policy evaluation: one request against identity policies, resource policies and a key policy.

What a request is judged on (AWS's logic for a request within one account,
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-basics.html
and .../reference_policies_evaluation-logic_policy-eval-denyallow.html):

- an explicit Deny in any policy that applies (identity, resource, key) refuses it, whatever allows it;
- else, for any service but KMS, an Allow in the caller's identity policies or in the resource's
  policy suffices (within one account, "if either the identity-based policy or the resource-based
  policy allows the request ... the request is still allowed");
- for KMS the key policy must allow: directly (a statement naming the caller, its role or `*`),
  or by delegating to IAM (a statement naming the account, `arn:aws:iam::ACCOUNT:root` or the bare
  account id), and then only if an identity policy allows too
  (https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html#key-policy-default-allow-root-enable-iam);
  an identity policy alone never opens a key;
- else the implicit deny.

A resource policy's Allow naming the account (not the caller) delegates to IAM as the key
policy's does: it grants nothing by itself, so within one account it changes no decision.

The decision names the statement(s) that made it (policy name, index, Sid): the Deny, or every
Allow that applied (and for a key reached through IAM, the key policy's delegation and the
identity statement), so a later least-privilege report can tell which statement each call needed.

Library choice. moto's own enforcement (moto/iam/access_control.py, IAMPolicyStatement) matches
actions and resources by turning `*` into `.*` (no `?`, actions case-sensitive), treats a failed
condition as a Deny rather than "this statement does not apply", checks principals only for
`*` and evaluates no resource or key policy: its verdicts differ from AWS's on exactly the
statements this stack has (a TLS-only Deny whose condition does not hold would deny every call).
parliament (pinned for the deploy preflight, lint_rules/preflight_iam.py) parses and validates
IAM grammar against AWS's action catalogue, but evaluates nothing, and its `is_glob_match`
compares two patterns, not a pattern with a value. policyuniverse (last release November 2023)
expands and minimises actions; policy_sentry builds policies from the catalogue; neither
evaluates a request. So matching and conditions are written here (the grammar is small); the
tests check with parliament that every action this package can produce exists in AWS's catalogue
(tests/iam/test_requests.py).

Condition operators (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html):
String*, Numeric*, Date*, Bool, BinaryEquals, IpAddress/NotIpAddress, Arn*, Null, each with
`...IfExists`, and the `ForAnyValue:` / `ForAllValues:` set prefixes
(.../reference_policies_condition-single-vs-multi-valued-context-keys.html). A key the request
lacks: the condition is false, except for a negated operator (StringNotEquals, ArnNotLike, ...),
which is true, an `IfExists` operator (true), `Null` (its own test) and `ForAllValues:` (true).
Several blocks, or several keys in one block, must all hold; several values of one key: any
one matches (for a negated operator: none may match). Condition keys are case-insensitive.
Not evaluated: policy variables (`${aws:username}`), which no policy here uses.
"""

from __future__ import annotations

import base64
import ipaddress
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any, Literal

ContextValue = str | Sequence[str]
PolicyKind = Literal["identity", "resource", "key"]


@dataclass(frozen=True)
class Policy:
    """A policy document and where it comes from: `name` is what a report calls it
    (`WebhookRole/OrderQueueProducer`, `QueuesRefuseInsecureTransport`, `EncryptionKey`)."""

    name: str
    document: Mapping[str, Any]
    kind: PolicyKind = "identity"

    @property
    def statements(self) -> list[Mapping[str, Any]]:
        statement = self.document.get("Statement", [])
        return [statement] if isinstance(statement, Mapping) else list(statement)


@dataclass(frozen=True)
class StatementRef:
    """One statement of one policy: what decided a request."""

    policy: str
    index: int
    sid: str | None
    effect: str

    def __str__(self) -> str:
        return f"{self.policy}#{self.sid or self.index}"


@dataclass(frozen=True)
class AuthorizationRequest:
    """One action on one resource by one principal, with its condition context.

    `principal_arn` is what a policy's Principal names and `aws:PrincipalArn` holds: for a role's
    session, the role's ARN; `caller_arn` the session's own ARN (`arn:aws:sts::...:assumed-role/...`),
    which appears in error messages. A service principal calls as its name (`cloudwatch.amazonaws.com`).
    """

    principal_arn: str
    action: str
    resource: str
    context: Mapping[str, ContextValue] = field(default_factory=dict)
    caller_arn: str | None = None

    @property
    def account(self) -> str | None:
        parts = self.principal_arn.split(":")
        return parts[4] if len(parts) > 5 and parts[0] == "arn" else None

    def value(self, key: str) -> list[str] | None:
        """The context's values of `key` (keys are case-insensitive), None if it has none."""
        wanted = key.lower()
        for name, value in self.context.items():
            if name.lower() == wanted:
                return [value] if isinstance(value, str) else list(value)
        return None


Outcome = Literal["allowed", "explicit-deny", "implicit-deny"]


@dataclass(frozen=True)
class Decision:
    request: AuthorizationRequest
    outcome: Outcome
    # The Deny that refused it; or every Allow that applied (identity and resource policy), and
    # for a key reached through IAM the key policy's delegation too.
    statements: tuple[StatementRef, ...] = ()
    # Which kind of policy was missing an Allow ("identity", "key"), for the error message.
    missing: PolicyKind | None = None
    # The kind of policy whose Deny refused it.
    deny_kind: PolicyKind | None = None

    @property
    def allowed(self) -> bool:
        return self.outcome == "allowed"

    def reason(self) -> str:
        """AWS's wording of a refusal (`... because no identity-based policy allows the X action`)."""
        action = self.request.action
        if self.outcome == "explicit-deny":
            kind = {
                "identity": "an identity-based policy",
                "resource": "a resource-based policy",
                "key": "a key policy",
            }
            return f"with an explicit deny in {kind[self.deny_kind or 'identity']}"
        if self.missing == "key":
            return f"because no resource-based policy allows the {action} action"
        return f"because no identity-based policy allows the {action} action"


# ---------------------------------------------------------------- matching


@cache
def _glob(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    """`*` any run of characters, `?` any one character, everything else literal."""
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(f"^{body}$", re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def glob_matches(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    return _glob(pattern, ignore_case).match(value) is not None


def action_matches(pattern: str, action: str) -> bool:
    """Actions are case-insensitive (`sqs:sendmessage` is `sqs:SendMessage`); `*` alone is every action."""
    return glob_matches(pattern, action, ignore_case=True)


def arn_matches(pattern: str, arn: str) -> bool:
    """ARNs compare case-sensitively, component by component (ArnLike's rule: each of the six
    colon-delimited parts on its own, wildcards within a part; the last part may hold colons).
    A pattern of `*` matches every resource."""
    if pattern == "*":
        return True
    pattern_parts = pattern.split(":", 5)
    arn_parts = arn.split(":", 5)
    if len(pattern_parts) != 6 or len(arn_parts) != 6:
        return glob_matches(pattern, arn)
    return all(glob_matches(p, a) for p, a in zip(pattern_parts, arn_parts, strict=True))


def _listed(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


PrincipalMatch = Literal["caller", "account", "none"]


def principal_match(principal: Any, request: AuthorizationRequest) -> PrincipalMatch:
    """How a statement's Principal names the caller: `caller` (the caller, its role, or anyone: `*`),
    `account` (the caller's account: a delegation to its IAM policies), or `none`."""
    if principal == "*":
        return "caller"
    if not isinstance(principal, Mapping):
        return "none"
    named = {request.principal_arn, request.caller_arn}
    best: PrincipalMatch = "none"
    for kind, values in principal.items():
        for value in _listed(values):
            if kind == "AWS":
                if value == "*" or value in named:
                    return "caller"
                account = request.account
                if account and value in (account, f"arn:aws:iam::{account}:root"):
                    best = "account"
            elif kind == "Service" and value == request.principal_arn:
                return "caller"
    return best


# ---------------------------------------------------------------- conditions


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _date(text: str) -> datetime | None:
    try:
        return datetime.fromtimestamp(float(text), tz=UTC)
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _ip_in(network: str, address: str) -> bool:
    try:
        return ipaddress.ip_address(address) in ipaddress.ip_network(network, strict=False)
    except ValueError:
        return False


def _compare(compare: Callable[[Any, Any], bool], parse: Callable[[str], Any]) -> Callable[[str, str], bool]:
    def matches(policy_value: str, request_value: str) -> bool:
        left, right = parse(request_value), parse(policy_value)
        return left is not None and right is not None and compare(left, right)

    return matches


# Operator (without IfExists and set prefix) -> (does the request value match the policy value, negated).
# A negated operator holds when the request value matches none of the policy's values.
OPERATORS: dict[str, tuple[Callable[[str, str], bool], bool]] = {
    "StringEquals": (lambda p, r: p == r, False),
    "StringNotEquals": (lambda p, r: p == r, True),
    "StringEqualsIgnoreCase": (lambda p, r: p.lower() == r.lower(), False),
    "StringNotEqualsIgnoreCase": (lambda p, r: p.lower() == r.lower(), True),
    "StringLike": (lambda p, r: glob_matches(p, r), False),
    "StringNotLike": (lambda p, r: glob_matches(p, r), True),
    "NumericEquals": (_compare(lambda r, p: r == p, _number), False),
    "NumericNotEquals": (_compare(lambda r, p: r == p, _number), True),
    "NumericLessThan": (_compare(lambda r, p: r < p, _number), False),
    "NumericLessThanEquals": (_compare(lambda r, p: r <= p, _number), False),
    "NumericGreaterThan": (_compare(lambda r, p: r > p, _number), False),
    "NumericGreaterThanEquals": (_compare(lambda r, p: r >= p, _number), False),
    "DateEquals": (_compare(lambda r, p: r == p, _date), False),
    "DateNotEquals": (_compare(lambda r, p: r == p, _date), True),
    "DateLessThan": (_compare(lambda r, p: r < p, _date), False),
    "DateLessThanEquals": (_compare(lambda r, p: r <= p, _date), False),
    "DateGreaterThan": (_compare(lambda r, p: r > p, _date), False),
    "DateGreaterThanEquals": (_compare(lambda r, p: r >= p, _date), False),
    "Bool": (lambda p, r: p.lower() == r.lower(), False),
    "BinaryEquals": (lambda p, r: base64.b64decode(p) == base64.b64decode(r), False),
    "IpAddress": (_ip_in, False),
    "NotIpAddress": (_ip_in, True),
    "ArnEquals": (arn_matches, False),
    "ArnLike": (arn_matches, False),
    "ArnNotEquals": (arn_matches, True),
    "ArnNotLike": (arn_matches, True),
}


class UnknownConditionOperatorError(ValueError):
    """A policy uses an operator AWS does not have (IAM refuses such a policy)."""


def _policy_value(value: Any) -> str:
    # JSON booleans and numbers in a policy are compared as their text ("true", "3").
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def condition_holds(operator: str, key: str, policy_values: Any, request: AuthorizationRequest) -> bool:
    """One key of one condition block."""
    wanted = [_policy_value(v) for v in _listed(policy_values)]
    request_values = request.value(key)
    set_operator, _, name = operator.rpartition(":")
    if name == "Null":
        absent = not request_values
        return any((value.lower() == "true") == absent for value in wanted)
    if_exists = name.endswith("IfExists") and name != "IfExists"
    name = name.removesuffix("IfExists") if if_exists else name
    if name not in OPERATORS:
        raise UnknownConditionOperatorError(operator)
    matches, negated = OPERATORS[name]

    def one(value: str) -> bool:
        hit = any(matches(policy_value, value) for policy_value in wanted)
        return not hit if negated else hit

    if set_operator == "ForAllValues":
        return all(one(value) for value in request_values or [])
    if set_operator == "ForAnyValue":
        return any(one(value) for value in request_values or [])
    if set_operator:
        raise UnknownConditionOperatorError(operator)
    if not request_values:
        return if_exists or negated
    # A single-valued operator on a multivalued key: any value (as ForAnyValue); AWS advises the
    # set prefixes for such keys, and the keys this stack's policies test are all single-valued.
    return any(one(value) for value in request_values)


def conditions_hold(condition: Mapping[str, Any] | None, request: AuthorizationRequest) -> bool:
    for operator, block in (condition or {}).items():
        for key, values in block.items():
            if not condition_holds(operator, key, values, request):
                return False
    return True


# ---------------------------------------------------------------- statements and decisions


def statement_applies(statement: Mapping[str, Any], request: AuthorizationRequest, *, resource_policy: bool) -> bool:
    """Whether a statement covers this request, Principal aside (see principal_match)."""
    if "NotAction" in statement:
        if any(action_matches(p, request.action) for p in _listed(statement["NotAction"])):
            return False
    elif not any(action_matches(p, request.action) for p in _listed(statement.get("Action"))):
        return False
    if "NotResource" in statement:
        if any(arn_matches(p, request.resource) for p in _listed(statement["NotResource"])):
            return False
    # A resource policy may leave Resource out: it then means the resource it is attached to.
    elif ("Resource" in statement or not resource_policy) and not any(
        arn_matches(p, request.resource) for p in _listed(statement.get("Resource"))
    ):
        return False
    return conditions_hold(statement.get("Condition"), request)


def _who(statement: Mapping[str, Any], request: AuthorizationRequest) -> PrincipalMatch:
    if "NotPrincipal" in statement:
        # The statement applies to everyone the NotPrincipal does not name (at any level).
        return "none" if principal_match(statement["NotPrincipal"], request) != "none" else "caller"
    return principal_match(statement.get("Principal"), request)


@dataclass
class _Found:
    denies: list[StatementRef] = field(default_factory=list)
    allows: list[StatementRef] = field(default_factory=list)
    delegations: list[StatementRef] = field(default_factory=list)  # Allow naming the account


def _scan(policies: Iterable[Policy], request: AuthorizationRequest) -> _Found:
    found = _Found()
    for policy in policies:
        resource_policy = policy.kind != "identity"
        for index, statement in enumerate(policy.statements):
            if not statement_applies(statement, request, resource_policy=resource_policy):
                continue
            ref = StatementRef(policy.name, index, statement.get("Sid"), statement.get("Effect", ""))
            who = _who(statement, request) if resource_policy else "caller"
            if who == "none":
                continue
            if statement.get("Effect") == "Deny":
                found.denies.append(ref)
            elif who == "caller":
                found.allows.append(ref)
            else:
                found.delegations.append(ref)
    return found


def evaluate_policies(
    request: AuthorizationRequest,
    identity_policies: Sequence[Policy] = (),
    resource_policies: Sequence[Policy] = (),
    key_policy: Policy | None = None,
) -> Decision:
    """The decision on one request (module docstring). `key_policy` is given for a request on a KMS
    key, whose policy must then allow; `resource_policies` are the resource's own (queue, bucket, topic)."""
    identity = _scan(identity_policies, request)
    resource = _scan(resource_policies, request)
    key = _scan([key_policy], request) if key_policy else _Found()
    scanned: tuple[tuple[PolicyKind, _Found], ...] = (("identity", identity), ("resource", resource), ("key", key))
    for kind, found in scanned:
        if found.denies:
            return Decision(request, "explicit-deny", (found.denies[0],), deny_kind=kind)
    if key_policy is not None:
        if key.allows:
            return Decision(request, "allowed", tuple(key.allows + identity.allows))
        if key.delegations and identity.allows:
            return Decision(request, "allowed", tuple(identity.allows + key.delegations))
        return Decision(request, "implicit-deny", missing="identity" if key.delegations else "key")
    allows = identity.allows + resource.allows
    if allows:
        return Decision(request, "allowed", tuple(allows))
    return Decision(request, "implicit-deny", missing="identity")
