"""The three roles' permissions, exactly: every (action, resource) each role is allowed.

The matrix below (per deployment mode) is the least-privilege truth, read from what the code calls (src/):
a role that gains or loses an action or a resource fails the test. A resource is named
by the logical id it refers to (Ref, GetAtt, `${X.Arn}` in a Sub, or an SSM parameter
named by its path); a resource outside the template (the integration secrets and the
Telegram chat map you create) by its Sub pattern with the account and region prefix cut off.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.template.cfn import as_list, ref_target, resources_of_type, role_statements

pytestmark = pytest.mark.fast

ROLES = ("WebhookRole", "WorkerRole", "FeedbackRole")

LOGS = {"logs:CreateLogStream", "logs:PutLogEvents"}
TRACING = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}
# The order records (automation_shared/order_records.py): each function only what its steps do.
WEBHOOK_TABLE = {"dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:PutItem"}  # sent before? record, GET
WORKER_TABLE = {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"}  # claim, stored result
FEEDBACK_TABLE = {"dynamodb:GetItem", "dynamodb:UpdateItem"}  # read, then record the act
# What an SQS event source mapping polls with, through the consuming function's role.
CONSUME = {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"}
# A producer to a KMS-encrypted queue (or topic, or SSE-KMS bucket) needs both; a consumer
# and a reader of the KMS-encrypted webhook secret need Decrypt (mission.md, correction 4).
KEY_USE = {"kms:GenerateDataKey", "kms:Decrypt"}
READ_SECRET = {"secretsmanager:GetSecretValue"}

SECRET = "secretsmanager:secret:${ProjectName}/${Environment}/"
PERPLEXITY_KEY = SECRET + "${PerplexityApiKeySecretName}-??????"
LINKEDIN_TOKEN = SECRET + "${LinkedInAccessTokenSecretName}-??????"
TELEGRAM_TOKEN = SECRET + "${TelegramBotTokenSecretName}-??????"
# The Telegram chat map: operators create it (README, Integrations), the stack does not.
TELEGRAM_CHATS = "ssm:parameter/${ProjectName}/${Environment}/telegram/chats"

# What FIFO mode adds (QueueType=fifo): the worker holds a failed order's message in its
# group for the backoff and returns a refused one at once; feedback returns a refused result.
FIFO_ONLY: dict[str, dict[str, set[str]]] = {
    "WorkerRole": {"OrderQueue": {"sqs:ChangeMessageVisibility"}},
    "FeedbackRole": {"ResultQueue": {"sqs:ChangeMessageVisibility"}},
}

# resource -> actions, per role.
EXPECTED: dict[str, dict[str, set[str]]] = {
    "WebhookRole": {
        "OrderQueue": {"sqs:SendMessage"},
        "EncryptionKey": KEY_USE,  # send orders; read the webhook secret
        "WebhookSecret": READ_SECRET,
        "OrdersTable": WEBHOOK_TABLE,
        "WebhookLogGroup": LOGS,
        "*": TRACING,
    },
    "WorkerRole": {
        "OrderQueue": CONSUME,
        "ResultQueue": {"sqs:SendMessage", "sqs:GetQueueAttributes"},  # attributes: system-health
        "OrderDeadLetterQueue": {"sqs:GetQueueAttributes"},  # system-health
        "ResultDeadLetterQueue": {"sqs:GetQueueAttributes"},  # system-health
        "EncryptionKey": KEY_USE,  # read orders; send results; store large result data
        "ArchiveBucket/payloads/*": {"s3:PutObject"},  # result data too large for its message
        PERPLEXITY_KEY: READ_SECRET,  # perplexity-summary
        LINKEDIN_TOKEN: READ_SECRET,  # scheduled-linkedin
        "OrdersTable": WORKER_TABLE,
        "WorkerLogGroup": LOGS,
        "*": TRACING,
    },
    "FeedbackRole": {
        "ResultQueue": CONSUME,
        "OrderQueue": {"sqs:SendMessage"},  # requeue
        "EncryptionKey": KEY_USE,  # read results and large result data; send orders; publish alerts; archive
        "AlertTopic": {"sns:Publish"},  # escalate
        "ArchiveBucket/year=*": {"s3:PutObject"},  # archive (keys begin with their partition)
        "ArchiveBucket/payloads/*": {"s3:GetObject"},  # result data too large for its message
        TELEGRAM_TOKEN: READ_SECRET,  # notify
        PERPLEXITY_KEY: READ_SECRET,  # enhance
        TELEGRAM_CHATS: {"ssm:GetParameter"},  # notify: chat per user
        "OrdersTable": FEEDBACK_TABLE,
        "FeedbackLogGroup": LOGS,
        "*": TRACING,
    },
}

# Actions that AWS authorises on no resource narrower than "*", and why.
WILDCARD_ONLY_ACTIONS = {
    "xray:PutTraceSegments": "X-Ray defines no resource type for it (resource-level permissions unsupported)",
    "xray:PutTelemetryRecords": "X-Ray defines no resource type for it (resource-level permissions unsupported)",
}

ARN_PREFIX = re.compile(r"^arn:\$\{AWS::Partition\}:([a-z0-9-]+):\$\{AWS::Region\}:\$\{AWS::AccountId\}:")
ARN_OF_LOGICAL_ID = re.compile(r"\$\{([A-Za-z0-9]+)\.Arn\}")


def _ssm_parameters_by_path(cfn: dict[str, Any]) -> dict[str, str]:
    """`ssm:parameter<path>` -> logical id, for the SSM parameters the template creates."""
    paths = {}
    for logical_id, parameter in resources_of_type(cfn, "AWS::SSM::Parameter").items():
        name = parameter["Properties"]["Name"]
        path = name["Fn::Sub"] if isinstance(name, dict) else name
        paths[f"ssm:parameter{path}"] = logical_id
    return paths


def resource_label(cfn: dict[str, Any], resource: Any) -> str:
    """The logical id a statement's resource refers to, else its Sub text without the ARN prefix."""
    target = ref_target(resource)
    if target is not None:
        return target
    if resource == "*":
        return "*"
    sub = resource["Fn::Sub"] if isinstance(resource, dict) else None
    if not isinstance(sub, str):
        raise AssertionError(f"unexpected resource form: {resource!r}")
    label = ARN_PREFIX.sub(r"\1:", ARN_OF_LOGICAL_ID.sub(r"\1", sub))
    return _ssm_parameters_by_path(cfn).get(label, label)


def granted(cfn: dict[str, Any], role: str) -> set[tuple[str, str]]:
    """Every (action, resource) the role's Allow statements grant."""
    return {
        (action, resource_label(cfn, resource))
        for statement in role_statements(cfn, role)
        if statement["Effect"] == "Allow"
        for action in as_list(statement["Action"])
        for resource in as_list(statement["Resource"])
    }


def expected(role: str, queue_type: str = "standard") -> set[tuple[str, str]]:
    matrix = EXPECTED[role] | (FIFO_ONLY.get(role, {}) if queue_type == "fifo" else {})
    both = {resource: EXPECTED[role].get(resource, set()) | actions for resource, actions in matrix.items()}
    return {(action, resource) for resource, actions in both.items() for action in actions}


def test_the_matrix_covers_exactly_the_three_roles(cfn_template: dict[str, Any]) -> None:
    # GIVEN the template as CloudFormation receives it
    # THEN its roles are exactly the three of the matrix
    assert set(resources_of_type(cfn_template, "AWS::IAM::Role")) == set(ROLES) == set(EXPECTED)


def test_no_policy_is_attached_from_outside_the_roles(cfn_template: dict[str, Any]) -> None:
    # GIVEN the template as CloudFormation receives it
    # WHEN its standalone and managed IAM policies are gathered
    standalone = resources_of_type(cfn_template, "AWS::IAM::Policy")
    standalone |= resources_of_type(cfn_template, "AWS::IAM::ManagedPolicy")
    # THEN there are none: every permission is in a role's own policies
    assert standalone == {}


@pytest.mark.parametrize("role", ROLES)
def test_role_policies_are_all_their_permissions(deployed_template: dict[str, Any], role: str) -> None:
    # GIVEN a role of the template as CloudFormation receives it
    # Plain Allow statements in the role itself, so `granted` reads the whole truth: no
    # managed policy, boundary, condition or Not* element.
    properties = deployed_template["Resources"][role]["Properties"]
    # THEN it has only its name, trust policy, own policies and tags: no managed policy or boundary
    assert set(properties) == {"RoleName", "AssumeRolePolicyDocument", "Policies", "Tags"}
    # AND each of its statements is a plain Allow of actions on resources, without condition
    for statement in role_statements(deployed_template, role):
        assert set(statement) <= {"Sid", "Effect", "Action", "Resource"}, statement
        assert statement["Effect"] == "Allow", statement


@pytest.mark.parametrize("role", ROLES)
def test_role_grants_exactly_the_expected_matrix(deployed_template: dict[str, Any], queue_type: str, role: str) -> None:
    # GIVEN a role of the template as CloudFormation receives it
    # WHEN every action on every resource it allows is compared with the matrix
    actual = granted(deployed_template, role)
    gained = sorted(actual - expected(role, queue_type))
    lost = sorted(expected(role, queue_type) - actual)
    # THEN it has gained nothing and lost nothing
    assert (gained, lost) == ([], []), f"{role}: gained {gained}, lost {lost}"


@pytest.mark.parametrize("role", ROLES)
def test_no_wildcard_resource_where_aws_allows_a_narrower_one(deployed_template: dict[str, Any], role: str) -> None:
    # GIVEN a role of the template as CloudFormation receives it
    # WHEN the actions it allows on any resource are gathered
    on_any_resource = {action for action, resource in granted(deployed_template, role) if resource == "*"}
    # THEN they are only those AWS cannot grant on a narrower resource
    assert on_any_resource <= set(WILDCARD_ONLY_ACTIONS)
    # AND no action it allows is a wildcard
    assert all("*" not in action for action, _ in granted(deployed_template, role))


def test_matrix_resources_exist_in_the_template(cfn_template: dict[str, Any]) -> None:
    # GIVEN the resources of the template and those the matrix names
    # Guards the matrix itself: a logical id here must be a resource of the stack.
    # WHEN the matrix's logical ids are looked for in the template
    logical_ids = set(cfn_template["Resources"])
    named = {resource.split("/")[0] for role in EXPECTED.values() for resource in role}
    # THEN every one is a resource of the stack
    assert {r for r in named if ":" not in r and r != "*"} <= logical_ids
