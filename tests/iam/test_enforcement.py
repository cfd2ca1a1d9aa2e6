"""`Authorizer.evaluate` end to end on real boto3 requests and the template's policies, and the
error each refusal gives, as botocore parses it (the code and status a client meets on AWS)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from functools import cache

import pytest

from automation_local.iam.enforcement import Authorizer
from automation_local.iam.errors import ErrorResponse, error_response
from automation_local.iam.policy import AuthorizationRequest, Policy, evaluate_policies
from automation_local.iam.requests import EmulatorRequest, StackResourceNames
from automation_local.iam.template_policies import StackPolicies, template_stack_policies
from tests.iam.captured import captured, sdk_error

pytestmark = pytest.mark.fast

ACCOUNT = "123456789012"
ORDER_QUEUE_URL = f"http://127.0.0.1:4566/{ACCOUNT}/automation-dev-order-queue"
ARCHIVE = "automation-dev-archive-123456789012-us-east-1"
KEYS = {"ASIAWEBHOOK": "webhook", "ASIAWORKER": "worker", "ASIAFEEDBACK": "feedback"}


@cache
def stack() -> StackPolicies:
    return template_stack_policies()


def authorizer(policies: StackPolicies | None = None) -> Authorizer:
    policies = policies or stack()

    def principal_of(key_id: str) -> tuple[str, str] | None:
        if key_id not in KEYS:
            return None
        name = KEYS[key_id]
        role = f"arn:aws:iam::{ACCOUNT}:role/automation-dev-{name}-role"
        return role, f"arn:aws:sts::{ACCOUNT}:assumed-role/automation-dev-{name}-role/{name}-session"

    names = StackResourceNames(policies.encryption, aliases=policies.aliases)
    return Authorizer(policies, names, principal_of)


def refusal(judge: Authorizer) -> Callable[[EmulatorRequest], ErrorResponse]:
    """What the emulator would answer a request `judge` refuses."""

    def answer(request: EmulatorRequest) -> ErrorResponse:
        result = judge.evaluate(request)
        assert result.error is not None, "allowed"
        return result.error

    return answer


def test_the_webhook_s_send_is_allowed_by_its_grant_and_the_key_s_delegation() -> None:
    # GIVEN the webhook's SendMessage to the order queue, signed with its session's key
    request = captured("sqs", "send_message", access_key="ASIAWEBHOOK", QueueUrl=ORDER_QUEUE_URL, MessageBody="{}")
    # WHEN it is judged
    result = authorizer().evaluate(request)
    # THEN it is allowed, and each call names the statements that allowed it
    assert result.allowed and result.error is None
    decided = {call.action: [str(s) for s in decision.statements] for call, decision in result.decisions}
    assert decided == {
        "sqs:SendMessage": ["WebhookRole/OrderQueueProducer#SendOrders"],
        "kms:GenerateDataKey": [
            "WebhookRole/OrderQueueProducer#EncryptOrders",
            "EncryptionKey#AccountAdministersKeyThroughIam",
        ],
        "kms:Decrypt": [
            "WebhookRole/OrderQueueProducer#EncryptOrders",
            "EncryptionKey#AccountAdministersKeyThroughIam",
        ],
    }


def test_the_webhook_may_not_receive_orders_and_gets_sqs_s_access_denied() -> None:
    # WHEN the webhook's role receives from the order queue
    error = sdk_error(
        "sqs", "receive_message", refusal(authorizer()), access_key="ASIAWEBHOOK", QueueUrl=ORDER_QUEUE_URL
    )
    # THEN boto3 raises AccessDenied, 403, naming the session, the action and why
    assert error.response["Error"]["Code"] == "AccessDenied"
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert error.response["Error"]["Message"] == (
        f"User: arn:aws:sts::{ACCOUNT}:assumed-role/automation-dev-webhook-role/webhook-session is not authorized"
        f" to perform: sqs:ReceiveMessage on resource: arn:aws:sqs:us-east-1:{ACCOUNT}:automation-dev-order-queue"
        " because no identity-based policy allows the sqs:ReceiveMessage action"
    )


def test_the_worker_may_not_read_the_payloads_and_gets_s3_s_access_denied() -> None:
    request = captured("s3", "get_object", access_key="ASIAWORKER", Bucket=ARCHIVE, Key="payloads/o-1.json")
    result = authorizer().evaluate(request)
    assert result.error is not None and (result.error.status, result.error.code) == (403, "AccessDenied")
    error = sdk_error(
        "s3", "get_object", refusal(authorizer()), access_key="ASIAWORKER", Bucket=ARCHIVE, Key="payloads/x"
    )
    assert (error.response["Error"]["Code"], error.response["ResponseMetadata"]["HTTPStatusCode"]) == (
        "AccessDenied",
        403,
    )


def test_an_insecure_send_is_refused_by_the_queues_tls_only_statement() -> None:
    request = captured("sqs", "send_message", access_key="ASIAWEBHOOK", QueueUrl=ORDER_QUEUE_URL, MessageBody="{}")
    insecure = EmulatorRequest(request.method, request.path, request.headers, request.body, secure_transport=False)
    result = authorizer().evaluate(insecure)
    assert result.refused is not None
    _, decision = result.refused
    assert str(decision.statements[0]) == "QueuesRefuseInsecureTransport#DenyNonTlsAccess"
    assert decision.reason() == "with an explicit deny in a resource-based policy"


def test_a_producer_without_the_key_gets_sqs_s_kms_access_denied() -> None:
    # GIVEN the template's policies with the webhook's key statement taken out
    policies = copy.deepcopy(stack())
    webhook = policies.roles["WebhookRole"]
    (inline,) = policies.identity[webhook]
    statements = [s for s in inline.document["Statement"] if s.get("Sid") != "EncryptOrders"]
    policies.identity[webhook] = [Policy(inline.name, {**inline.document, "Statement": statements})]
    # WHEN the webhook sends an order
    error = sdk_error(
        "sqs",
        "send_message",
        refusal(authorizer(policies)),
        access_key="ASIAWEBHOOK",
        QueueUrl=ORDER_QUEUE_URL,
        MessageBody="{}",
    )
    # THEN SQS answers with the key's refusal: KMS.AccessDeniedException, 400, naming kms:GenerateDataKey
    assert error.response["Error"]["Code"] == "KMS.AccessDeniedException"
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert "kms:GenerateDataKey" in error.response["Error"]["Message"]


@pytest.mark.parametrize(
    ("service", "operation", "params", "code", "status"),
    [
        ("sqs", "send_message", {"QueueUrl": ORDER_QUEUE_URL, "MessageBody": "{}"}, "InvalidClientTokenId", 403),
        ("dynamodb", "get_item", {"TableName": "t", "Key": {"id": {"S": "1"}}}, "UnrecognizedClientException", 400),
        ("s3", "get_object", {"Bucket": ARCHIVE, "Key": "k"}, "InvalidAccessKeyId", 403),
        (
            "sns",
            "publish",
            {"TopicArn": f"arn:aws:sns:us-east-1:{ACCOUNT}:t", "Message": "m"},
            "InvalidClientTokenId",
            403,
        ),
    ],
)
def test_a_key_no_principal_holds_is_refused_before_any_policy(
    service: str, operation: str, params: dict[str, object], code: str, status: int
) -> None:
    error = sdk_error(service, operation, refusal(authorizer()), access_key="AKIASTRANGER", **params)
    assert (error.response["Error"]["Code"], error.response["ResponseMetadata"]["HTTPStatusCode"]) == (code, status)


def test_a_call_needing_no_permission_is_allowed_with_no_decision() -> None:
    result = authorizer().evaluate(captured("sts", "get_caller_identity", access_key="AKIASTRANGER"))
    assert result.allowed and result.decisions == ()


REFUSED = evaluate_policies(AuthorizationRequest(f"arn:aws:iam::{ACCOUNT}:role/r", "x:Y", "*", {}))


@pytest.mark.parametrize(
    ("service", "operation", "params", "via_kms", "code", "status"),
    [
        ("dynamodb", "get_item", {"TableName": "t", "Key": {"id": {"S": "1"}}}, False, "AccessDeniedException", 400),
        ("dynamodb", "get_item", {"TableName": "t", "Key": {"id": {"S": "1"}}}, True, "AccessDeniedException", 400),
        (
            "sns",
            "publish",
            {"TopicArn": f"arn:aws:sns:us-east-1:{ACCOUNT}:t", "Message": "m"},
            False,
            "AuthorizationError",
            403,
        ),
        (
            "sns",
            "publish",
            {"TopicArn": f"arn:aws:sns:us-east-1:{ACCOUNT}:t", "Message": "m"},
            True,
            "KMSAccessDenied",
            400,
        ),
        ("kms", "describe_key", {"KeyId": "alias/k"}, False, "AccessDeniedException", 400),
        ("ssm", "get_parameter", {"Name": "/p"}, False, "AccessDeniedException", 400),
        ("secretsmanager", "get_secret_value", {"SecretId": "s"}, False, "AccessDeniedException", 400),
        ("secretsmanager", "get_secret_value", {"SecretId": "s"}, True, "AccessDeniedException", 400),
        ("logs", "create_log_stream", {"logGroupName": "g", "logStreamName": "s"}, False, "AccessDeniedException", 400),
        (
            "sts",
            "assume_role",
            {"RoleArn": f"arn:aws:iam::{ACCOUNT}:role/r", "RoleSessionName": "ss"},
            False,
            "AccessDenied",
            403,
        ),
        ("s3", "put_object", {"Bucket": "b", "Key": "k", "Body": b"x"}, True, "AccessDenied", 403),
        ("sqs", "send_message", {"QueueUrl": ORDER_QUEUE_URL, "MessageBody": "m"}, False, "AccessDenied", 403),
    ],
)
def test_each_service_s_refusal_as_botocore_reads_it(
    service: str, operation: str, params: dict[str, object], via_kms: bool, code: str, status: int
) -> None:
    def answer(request: EmulatorRequest) -> ErrorResponse:
        json_protocol = request.header("X-Amz-Target") is not None
        return error_response(service, REFUSED, json_protocol=json_protocol, via_kms=via_kms)

    error = sdk_error(service, operation, answer, **params)
    assert (error.response["Error"]["Code"], error.response["ResponseMetadata"]["HTTPStatusCode"]) == (code, status)


def test_sqs_over_its_query_protocol_answers_in_xml_with_the_same_codes() -> None:
    denied = error_response("sqs", REFUSED, json_protocol=False)
    via_kms = error_response("sqs", REFUSED, json_protocol=False, via_kms=True)
    assert (denied.status, b"<Code>AccessDenied</Code>" in denied.body) == (403, True)
    assert (via_kms.status, b"<Code>KMS.AccessDeniedException</Code>" in via_kms.body) == (400, True)
