"""template.yaml's real policies, read as the local stack deploys them, and a few real decisions."""

from __future__ import annotations

from functools import cache

import pytest

from automation_local.iam.policy import AuthorizationRequest, Decision, evaluate_policies
from automation_local.iam.template_policies import (
    StackPolicies,
    aws_managed_policy,
    stack_policies,
    template_stack_policies,
)

pytestmark = pytest.mark.fast

ACCOUNT = "123456789012"
PREFIX = f"arn:aws:sqs:us-east-1:{ACCOUNT}:automation-dev"
ORDER_QUEUE = f"{PREFIX}-order-queue"
RESULT_QUEUE = f"{PREFIX}-result-queue"
ARCHIVE = "arn:aws:s3:::automation-dev-archive-123456789012-us-east-1"
TOPIC = f"arn:aws:sns:us-east-1:{ACCOUNT}:automation-dev-queue-alerts"
SECURE = {"aws:SecureTransport": "true"}


@cache
def policies(queue_type: str = "standard") -> StackPolicies:
    return template_stack_policies({"QueueType": queue_type})


def decide(role: str, action: str, resource: str, queue_type: str = "standard", **context: str) -> Decision:
    stack = policies(queue_type)
    role_arn = stack.roles[role]
    request = AuthorizationRequest(role_arn, action, resource, {**SECURE, **context})
    if resource in stack.key:
        return evaluate_policies(request, stack.identity[role_arn], (), stack.key[resource])
    return evaluate_policies(request, stack.identity[role_arn], stack.resource_policies(resource))


def key_arn(queue_type: str = "standard") -> str:
    (key,) = policies(queue_type).key
    return key


def test_every_role_queue_bucket_topic_and_key_policy_is_read_with_its_arns_resolved() -> None:
    stack = policies()
    assert set(stack.roles) == {"WebhookRole", "WorkerRole", "FeedbackRole"}
    assert stack.roles["WebhookRole"] == f"arn:aws:iam::{ACCOUNT}:role/automation-dev-webhook-role"
    assert [p.name for p in stack.identity[stack.roles["WebhookRole"]]] == ["WebhookRole/OrderQueueProducer"]
    queues = [f"{PREFIX}-{name}" for name in ("order-queue", "order-dlq", "result-queue", "result-dlq")]
    for queue in queues:
        assert [p.name for p in stack.resource_policies(queue)] == ["QueuesRefuseInsecureTransport"]
    assert [p.name for p in stack.resource_policies(f"{ARCHIVE}/payloads/x")] == ["ArchiveBucketPolicy"]
    assert [p.name for p in stack.resource_policies(TOPIC)] == ["AlertTopicPolicy"]
    assert [p.name for p in stack.key.values()] == ["EncryptionKey"]
    # No intrinsic is left in any document
    documents = [p.document for ps in (*stack.identity.values(), *stack.resource.values()) for p in ps]
    assert "Fn::" not in str(documents) and "'Ref'" not in str(documents)
    # Every queue, the table, the archive, the topic and the webhook secret are encrypted with the key
    assert set(stack.encryption.values()) == {key_arn()}
    assert {*queues, ARCHIVE, TOPIC} <= set(stack.encryption)


def test_the_webhook_may_send_orders_and_not_receive_them() -> None:
    sent = decide("WebhookRole", "sqs:SendMessage", ORDER_QUEUE)
    received = decide("WebhookRole", "sqs:ReceiveMessage", ORDER_QUEUE)
    assert sent.allowed and [str(s) for s in sent.statements] == ["WebhookRole/OrderQueueProducer#SendOrders"]
    assert received.outcome == "implicit-deny"


def test_the_webhook_s_data_key_comes_through_the_key_policy_s_delegation_to_iam() -> None:
    decision = decide(
        "WebhookRole", "kms:GenerateDataKey", key_arn(), **{"kms:ViaService": "sqs.us-east-1.amazonaws.com"}
    )
    assert decision.allowed
    assert [str(s) for s in decision.statements] == [
        "WebhookRole/OrderQueueProducer#EncryptOrders",
        "EncryptionKey#AccountAdministersKeyThroughIam",
    ]
    assert not decide("WebhookRole", "kms:ScheduleKeyDeletion", key_arn()).allowed


def test_the_worker_may_not_read_the_payloads_it_stores_and_feedback_may() -> None:
    payload = f"{ARCHIVE}/payloads/order-1.json"
    assert decide("WorkerRole", "s3:PutObject", payload).allowed
    assert decide("WorkerRole", "s3:GetObject", payload).outcome == "implicit-deny"
    assert decide("FeedbackRole", "s3:GetObject", payload).allowed
    # feedback archives under year=..., never over the worker's payloads/
    assert decide("FeedbackRole", "s3:PutObject", f"{ARCHIVE}/year=2026/month=01/x.json").allowed
    assert not decide("FeedbackRole", "s3:PutObject", payload).allowed


def test_an_insecure_request_to_a_queue_is_denied_by_its_tls_only_statement() -> None:
    decision = decide("WebhookRole", "sqs:SendMessage", ORDER_QUEUE, **{"aws:SecureTransport": "false"})
    assert decision.outcome == "explicit-deny"
    assert str(decision.statements[0]) == "QueuesRefuseInsecureTransport#DenyNonTlsAccess"
    archive = decide("FeedbackRole", "s3:PutObject", f"{ARCHIVE}/year=2026/x", **{"aws:SecureTransport": "false"})
    assert str(archive.statements[0]) == "ArchiveBucketPolicy#DenyNonTlsAccess"


def test_only_cloudwatch_alarms_may_publish_to_the_topic_through_its_policy() -> None:
    stack = policies()
    alarm = f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:automation-dev-order-dlq-not-empty"
    cloudwatch = AuthorizationRequest(
        "cloudwatch.amazonaws.com", "sns:Publish", TOPIC, {**SECURE, "aws:SourceArn": alarm}
    )
    elsewhere = AuthorizationRequest("cloudwatch.amazonaws.com", "sns:Publish", TOPIC, SECURE)
    assert evaluate_policies(cloudwatch, (), stack.resource_policies(TOPIC)).allowed
    assert not evaluate_policies(elsewhere, (), stack.resource_policies(TOPIC)).allowed
    assert decide("FeedbackRole", "sns:Publish", TOPIC).allowed  # escalation, through its own role


def test_fifo_mode_adds_the_visibility_changes_and_renames_the_queues() -> None:
    fifo_queue = f"{PREFIX}-order-queue.fifo"
    assert decide("WorkerRole", "sqs:ChangeMessageVisibility", fifo_queue, "fifo").allowed
    assert not decide("WorkerRole", "sqs:ChangeMessageVisibility", ORDER_QUEUE).allowed


def test_a_role_s_trust_policy_lets_lambda_assume_it_and_no_one_else() -> None:
    stack = policies()
    role = stack.roles["WorkerRole"]
    trust = stack.resource_policies(role)
    lambda_service = AuthorizationRequest("lambda.amazonaws.com", "sts:AssumeRole", role, SECURE)
    other = AuthorizationRequest(stack.roles["WebhookRole"], "sts:AssumeRole", role, SECURE)
    assert evaluate_policies(lambda_service, (), trust).allowed
    assert not evaluate_policies(other, stack.identity[stack.roles["WebhookRole"]], trust).allowed


def test_the_deployed_stack_s_physical_ids_name_the_key_and_secret() -> None:
    # GIVEN the physical ids the emulator's stack reports (a random key id, a secret's suffix)
    from automation_local.cloudformation.template import load_template, translate

    cfn = translate(load_template())
    secret = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:automation/dev/webhook-secret-Zx81Qa"
    ids = {"EncryptionKey": "5e0a2b7c-1111-4222-8333-944455556666", "WebhookSecret": secret}
    stack = stack_policies(cfn, physical_ids=ids)
    # THEN the policies name them as deployed
    key = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/5e0a2b7c-1111-4222-8333-944455556666"
    assert list(stack.key) == [key]
    assert stack.encryption[secret] == key
    webhook = stack.identity[stack.roles["WebhookRole"]][0].document
    assert {"secretsmanager:GetSecretValue": secret}.items() <= {
        s["Action"]: s["Resource"] for s in webhook["Statement"] if isinstance(s["Action"], str)
    }.items()


def test_aws_managed_policies_are_aws_s_published_documents() -> None:
    basic = aws_managed_policy("arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")
    actions = {a for s in basic["Statement"] for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])}
    assert {"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"} <= actions
    xray = aws_managed_policy("arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess")
    assert "xray:PutTraceSegments" in str(xray)


def test_a_role_with_managed_policies_gets_their_documents() -> None:
    # GIVEN a SAM function without a role of its own (SAM attaches AWSLambdaBasicExecutionRole)
    from automation_local.cloudformation.template import translate

    sam = {
        "Transform": "AWS::Serverless-2016-10-31",
        "Resources": {
            "Fn": {
                "Type": "AWS::Serverless::Function",
                "Properties": {
                    "FunctionName": "fn",
                    "CodeUri": "src/",
                    "Handler": "app.handler",
                    "Runtime": "python3.13",
                    "Tracing": "Active",
                    "Policies": [{"SQSSendMessagePolicy": {"QueueName": "orders"}}],
                },
            }
        },
    }
    stack = stack_policies(translate(sam))
    ((role_arn, role_policies),) = stack.identity.items()
    names = [p.name for p in role_policies]
    # THEN SAM's policy template is an inline policy, and the managed ones AWS's documents
    assert names == ["FnRole/FnRolePolicy0", "AWSLambdaBasicExecutionRole", "AWSXrayWriteOnlyAccess"]
    logs = AuthorizationRequest(role_arn, "logs:PutLogEvents", "arn:aws:logs:us-east-1:1:log-group:x", SECURE)
    assert str(evaluate_policies(logs, role_policies).statements[0]) == "AWSLambdaBasicExecutionRole#0"
    request = AuthorizationRequest(role_arn, "sqs:SendMessage", f"arn:aws:sqs:us-east-1:{ACCOUNT}:orders", SECURE)
    assert evaluate_policies(request, role_policies).allowed


def test_cloudwatch_logs_may_use_the_key_for_the_stack_s_log_groups_only() -> None:
    # GIVEN the key policy's statement for CloudWatch Logs (an ArnEquals on the encryption context)
    stack = policies()
    key = key_arn()
    own = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/lambda/automation-dev-worker"
    other = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/lambda/someone-else"

    def logs_call(group: str) -> Decision:
        context = {**SECURE, "kms:EncryptionContext:aws:logs:arn": group}
        request = AuthorizationRequest("logs.us-east-1.amazonaws.com", "kms:GenerateDataKey", key, context)
        return evaluate_policies(request, (), (), stack.key[key])

    # WHEN Logs encrypts for the worker's group, and for another
    # THEN only the stack's group is allowed, by that statement
    assert [str(s) for s in logs_call(own).statements] == ["EncryptionKey#CloudWatchLogsEncryptStackLogGroups"]
    assert not logs_call(other).allowed
