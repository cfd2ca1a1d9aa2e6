"""AWS's evaluation logic on hand-made policies: explicit deny, identity or resource allow, the key
policy's delegation to IAM, NotAction/NotResource/NotPrincipal, wildcards and conditions."""

from __future__ import annotations

from typing import Any

import pytest

from automation_local.iam.policy import (
    AuthorizationRequest,
    Policy,
    UnknownConditionOperatorError,
    action_matches,
    arn_matches,
    condition_holds,
    evaluate_policies,
)

pytestmark = pytest.mark.fast

ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/app-role"
OTHER_ROLE = f"arn:aws:iam::{ACCOUNT}:role/other-role"
QUEUE = f"arn:aws:sqs:us-east-1:{ACCOUNT}:orders"
KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
SECURE = {"aws:SecureTransport": "true"}


def request(action: str = "sqs:SendMessage", resource: str = QUEUE, principal: str = ROLE, **context: Any):
    return AuthorizationRequest(principal, action, resource, {**SECURE, **context})


def identity(*statements: dict[str, Any], name: str = "AppRole/Inline") -> Policy:
    return Policy(name, {"Version": "2012-10-17", "Statement": list(statements)})


def resource_policy(*statements: dict[str, Any], name: str = "QueuePolicy") -> Policy:
    return Policy(name, {"Version": "2012-10-17", "Statement": list(statements)}, "resource")


def key_policy(*statements: dict[str, Any]) -> Policy:
    return Policy("Key", {"Version": "2012-10-17", "Statement": list(statements)}, "key")


ALLOW_SEND = {"Sid": "Send", "Effect": "Allow", "Action": "sqs:SendMessage", "Resource": QUEUE}
DENY_INSECURE = {
    "Sid": "DenyNonTls",
    "Effect": "Deny",
    "Principal": "*",
    "Action": "sqs:*",
    "Resource": QUEUE,
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}
ROOT_ADMINISTERS_KEY = {
    "Sid": "Root",
    "Effect": "Allow",
    "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
    "Action": "kms:*",
    "Resource": "*",
}


def test_an_identity_allow_allows_and_names_its_statement() -> None:
    # GIVEN a role allowed to send to the queue
    # WHEN it sends
    decision = evaluate_policies(request(), [identity(ALLOW_SEND)])
    # THEN it is allowed by that statement
    assert decision.allowed
    assert [str(s) for s in decision.statements] == ["AppRole/Inline#Send"]


def test_nothing_allows_is_an_implicit_deny() -> None:
    decision = evaluate_policies(request("sqs:ReceiveMessage"), [identity(ALLOW_SEND)])
    assert decision.outcome == "implicit-deny"
    assert decision.reason() == "because no identity-based policy allows the sqs:ReceiveMessage action"


def test_an_explicit_deny_wins_over_any_allow() -> None:
    # GIVEN an identity allow and a resource policy denying the same role
    deny = {"Sid": "NoSend", "Effect": "Deny", "Principal": {"AWS": ROLE}, "Action": "sqs:Send*", "Resource": "*"}
    # WHEN it sends
    decision = evaluate_policies(request(), [identity(ALLOW_SEND)], [resource_policy(deny)])
    # THEN the deny decides
    assert decision.outcome == "explicit-deny"
    assert str(decision.statements[0]) == "QueuePolicy#NoSend"
    assert decision.reason() == "with an explicit deny in a resource-based policy"


def test_a_resource_policy_allow_suffices_within_the_account() -> None:
    # GIVEN no identity policy, and a queue policy naming the role
    allow = {"Sid": "AppSends", "Effect": "Allow", "Principal": {"AWS": ROLE}, "Action": "sqs:SendMessage"}
    # WHEN the role sends, and another role sends
    mine = evaluate_policies(request(), [], [resource_policy(allow)])
    theirs = evaluate_policies(request(principal=OTHER_ROLE), [], [resource_policy(allow)])
    # THEN only the named role is allowed (a resource policy without Resource means its resource)
    assert mine.allowed and str(mine.statements[0]) == "QueuePolicy#AppSends"
    assert not theirs.allowed


def test_a_resource_policy_naming_the_account_grants_nothing_by_itself() -> None:
    account = {"Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "sqs:*", "Resource": QUEUE}
    assert not evaluate_policies(request(), [], [resource_policy(account)]).allowed


def test_the_key_policy_must_allow_an_identity_policy_alone_does_not_open_a_key() -> None:
    # GIVEN a role allowed kms:Decrypt by its identity policy, and a key policy that delegates nothing
    allow_decrypt = {"Sid": "Decrypt", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": KEY}
    only_other = key_policy({"Effect": "Allow", "Principal": {"AWS": OTHER_ROLE}, "Action": "kms:*", "Resource": "*"})
    # WHEN it decrypts
    decision = evaluate_policies(request("kms:Decrypt", KEY), [identity(allow_decrypt)], (), only_other)
    # THEN it is refused: no key policy statement lets it
    assert decision.outcome == "implicit-deny"
    assert decision.missing == "key"


def test_a_key_policy_delegating_to_the_account_lets_identity_policies_decide() -> None:
    allow_decrypt = {"Sid": "Decrypt", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": KEY}
    delegating = key_policy(ROOT_ADMINISTERS_KEY)
    allowed = evaluate_policies(request("kms:Decrypt", KEY), [identity(allow_decrypt)], (), delegating)
    refused = evaluate_policies(request("kms:GenerateDataKey", KEY), [identity(allow_decrypt)], (), delegating)
    # THEN Decrypt is allowed by the identity statement through the delegation, GenerateDataKey is not
    assert allowed.allowed
    assert [str(s) for s in allowed.statements] == ["AppRole/Inline#Decrypt", "Key#Root"]
    assert refused.outcome == "implicit-deny" and refused.missing == "identity"


def test_a_key_policy_naming_the_role_allows_without_an_identity_policy() -> None:
    direct = key_policy({"Sid": "App", "Effect": "Allow", "Principal": {"AWS": ROLE}, "Action": "kms:Decrypt"})
    assert evaluate_policies(request("kms:Decrypt", KEY), [], (), direct).allowed


def test_a_service_principal_matches_only_that_service() -> None:
    statement = {"Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"}, "Action": "kms:Decrypt"}
    service = AuthorizationRequest("cloudwatch.amazonaws.com", "kms:Decrypt", KEY, SECURE)
    assert evaluate_policies(service, [], (), key_policy(statement)).allowed
    assert not evaluate_policies(request("kms:Decrypt", KEY), [], (), key_policy(statement)).allowed


def test_not_action_covers_every_other_action() -> None:
    # GIVEN a deny of everything but reads
    deny = {"Sid": "OnlyReads", "Effect": "Deny", "NotAction": ["sqs:Receive*", "sqs:Get*"], "Resource": "*"}
    allow_all = {"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}
    policies = [identity(allow_all, deny)]
    # THEN a send is denied and a receive allowed
    assert evaluate_policies(request("sqs:SendMessage"), policies).outcome == "explicit-deny"
    assert evaluate_policies(request("sqs:ReceiveMessage"), policies).allowed


def test_not_resource_and_not_principal() -> None:
    allow_elsewhere = {"Effect": "Allow", "Action": "sqs:*", "NotResource": QUEUE}
    assert not evaluate_policies(request(), [identity(allow_elsewhere)]).allowed
    # A deny for everyone but the role
    deny_others = {"Effect": "Deny", "NotPrincipal": {"AWS": ROLE}, "Action": "sqs:*", "Resource": QUEUE}
    allow = [identity(ALLOW_SEND)]
    assert evaluate_policies(request(), allow, [resource_policy(deny_others)]).allowed
    denied = evaluate_policies(request(principal=OTHER_ROLE), allow, [resource_policy(deny_others)])
    assert denied.outcome == "explicit-deny"


@pytest.mark.parametrize(
    ("pattern", "action", "matches"),
    [
        ("sqs:SendMessage", "sqs:sendmessage", True),  # actions are case-insensitive
        ("SQS:Send*", "sqs:SendMessageBatch", True),
        ("sqs:?etQueueAttributes", "sqs:GetQueueAttributes", True),
        ("sqs:?etQueueAttributes", "sqs:xGetQueueAttributes", False),
        ("*", "kms:Decrypt", True),
        ("kms:GenerateDataKey*", "kms:GenerateDataKeyWithoutPlaintext", True),
        ("kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext", False),
    ],
)
def test_action_wildcards(pattern: str, action: str, matches: bool) -> None:
    assert action_matches(pattern, action) is matches


@pytest.mark.parametrize(
    ("pattern", "arn", "matches"),
    [
        ("arn:aws:s3:::bucket/payloads/*", "arn:aws:s3:::bucket/payloads/a/b.json", True),
        ("arn:aws:s3:::bucket/payloads/*", "arn:aws:s3:::bucket/year=2026/x", False),
        ("arn:aws:s3:::bucket/payloads/*", "arn:aws:s3:::Bucket/payloads/x", False),  # case-sensitive
        ("arn:aws:secretsmanager:*:*:secret:app/key-??????", "arn:aws:secretsmanager:r:1:secret:app/key-AbC123", True),
        ("arn:aws:secretsmanager:*:*:secret:app/key-??????", "arn:aws:secretsmanager:r:1:secret:app/key-AbC12", False),
        (
            "arn:aws:logs:us-east-1:1:log-group:/aws/lambda/w:*",
            "arn:aws:logs:us-east-1:1:log-group:/aws/lambda/w",
            False,
        ),
        (
            "arn:aws:logs:us-east-1:1:log-group:/aws/lambda/w:*",
            "arn:aws:logs:us-east-1:1:log-group:/aws/lambda/w:x",
            True,
        ),
        ("*", "arn:aws:sqs:us-east-1:1:q", True),
    ],
)
def test_resource_wildcards(pattern: str, arn: str, matches: bool) -> None:
    assert arn_matches(pattern, arn) is matches


def holds(operator: str, key: str, values: Any, **context: Any) -> bool:
    return condition_holds(operator, key, values, AuthorizationRequest(ROLE, "sqs:SendMessage", QUEUE, context))


@pytest.mark.parametrize(
    ("operator", "values", "context", "expected"),
    [
        ("StringEquals", "a", {"k": "a"}, True),
        ("StringEquals", "a", {"k": "A"}, False),
        ("StringEquals", "a", {}, False),  # a missing key: false
        ("StringNotEquals", "a", {"k": "b"}, True),
        ("StringNotEquals", ["a", "b"], {"k": "b"}, False),  # negated: none of the values may match
        ("StringNotEquals", "a", {}, True),  # a missing key under a negated operator: true
        ("StringEqualsIgnoreCase", "a", {"k": "A"}, True),
        ("StringLike", "order-*", {"k": "order-1"}, True),
        ("StringNotLike", "order-*", {"k": "result-1"}, True),
        ("StringEqualsIfExists", "a", {}, True),  # IfExists: a missing key holds
        ("StringEqualsIfExists", "a", {"k": "b"}, False),
        ("NumericLessThan", "10", {"k": "9"}, True),
        ("NumericLessThan", "10", {"k": "10"}, False),
        ("NumericGreaterThanEquals", "10", {"k": "10"}, True),
        ("NumericLessThan", "10", {"k": "ten"}, False),
        ("DateLessThan", "2026-01-01T00:00:00Z", {"k": "2025-12-31T23:59:59Z"}, True),
        ("DateGreaterThan", "2026-01-01T00:00:00Z", {"k": "1767225601"}, True),  # epoch seconds too
        ("Bool", "false", {"k": "false"}, True),
        ("Bool", False, {"k": "false"}, True),  # a JSON boolean compares as its text
        ("Bool", "false", {"k": "true"}, False),
        ("Bool", "false", {}, False),
        ("BoolIfExists", "false", {}, True),
        ("IpAddress", "127.0.0.0/8", {"k": "127.0.0.1"}, True),
        ("NotIpAddress", "10.0.0.0/8", {"k": "127.0.0.1"}, True),
        ("ArnLike", "arn:aws:cloudwatch:us-east-1:1:alarm:*", {"k": "arn:aws:cloudwatch:us-east-1:1:alarm:x"}, True),
        ("ArnEquals", "arn:aws:sqs:*:1:q", {"k": "arn:aws:sqs:us-east-1:1:q"}, True),
        ("ArnNotLike", "arn:aws:sqs:*:1:q", {"k": "arn:aws:sqs:us-east-1:1:other"}, True),
        ("ArnNotEquals", "arn:aws:sqs:*:1:q", {}, True),
        ("Null", "true", {}, True),
        ("Null", "true", {"k": "x"}, False),
        ("Null", "false", {"k": "x"}, True),
        ("ForAnyValue:StringEquals", ["a", "b"], {"k": ["c", "b"]}, True),
        ("ForAnyValue:StringEquals", ["a"], {}, False),
        ("ForAllValues:StringEquals", ["a", "b"], {"k": ["a", "b"]}, True),
        ("ForAllValues:StringEquals", ["a"], {"k": ["a", "c"]}, False),
        ("ForAllValues:StringEquals", ["a"], {}, True),  # no values: vacuously true
        ("ForAnyValue:StringNotEquals", ["a"], {"k": ["a", "c"]}, True),
    ],
)
def test_condition_operators(operator: str, values: Any, context: dict[str, Any], expected: bool) -> None:
    assert holds(operator, "k", values, **context) is expected


def test_condition_keys_are_case_insensitive() -> None:
    assert holds("Bool", "aws:SecureTransport", "true", **{"AWS:securetransport": "true"})


def test_an_unknown_operator_is_an_error_not_a_silent_pass() -> None:
    with pytest.raises(UnknownConditionOperatorError):
        holds("StringSortOf", "k", "a", k="a")


def test_a_tls_only_deny_applies_only_to_an_insecure_request() -> None:
    # GIVEN the template's shape: a role allowed to send, and the queue's TLS-only deny
    policies = ([identity(ALLOW_SEND)], [resource_policy(DENY_INSECURE)])
    # WHEN it sends over TLS, then over plain http
    secure = evaluate_policies(request(), *policies)
    insecure = evaluate_policies(request(**{"aws:SecureTransport": "false"}), *policies)
    # THEN only the insecure send is denied, by the TLS statement
    assert secure.allowed
    assert insecure.outcome == "explicit-deny" and str(insecure.statements[0]) == "QueuePolicy#DenyNonTls"


def test_all_blocks_and_keys_of_a_condition_must_hold() -> None:
    statement = {
        "Effect": "Allow",
        "Action": "kms:Decrypt",
        "Resource": KEY,
        "Condition": {
            "StringEquals": {"kms:ViaService": "sqs.us-east-1.amazonaws.com", "kms:CallerAccount": ACCOUNT},
            "ArnLike": {"kms:EncryptionContext:aws:sqs:arn": "arn:aws:sqs:*:*:orders*"},
        },
    }
    via = {"kms:ViaService": "sqs.us-east-1.amazonaws.com", "kms:CallerAccount": ACCOUNT}
    context = {**via, "kms:EncryptionContext:aws:sqs:arn": QUEUE}
    allowed = evaluate_policies(request("kms:Decrypt", KEY, **context), [identity(statement)])
    direct = evaluate_policies(request("kms:Decrypt", KEY, kms_caller="x"), [identity(statement)])
    assert allowed.allowed
    assert not direct.allowed  # called directly, not through SQS: no kms:ViaService
