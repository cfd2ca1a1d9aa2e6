"""Real boto3 requests (tests/iam/captured.py) read as IAM reads them: the caller's key, each action
on each resource, and the KMS calls an encrypted resource implies."""

from __future__ import annotations

import warnings

import pytest

from automation_local.iam.requests import (
    IMPLIED_KEY_ACTIONS,
    LAMBDA_ROUTES,
    SQS_ACTIONS,
    Call,
    EmulatorRequest,
    StackResourceNames,
    parse_request,
)
from tests.iam.captured import captured

pytestmark = pytest.mark.fast

ACCOUNT = "123456789012"
QUEUE_URL = f"https://sqs.us-east-1.amazonaws.com/{ACCOUNT}/orders"
LOCAL_QUEUE_URL = f"http://127.0.0.1:4566/{ACCOUNT}/orders"  # as the emulator names it
QUEUE = f"arn:aws:sqs:us-east-1:{ACCOUNT}:orders"
TABLE = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/orders"
BUCKET = "arn:aws:s3:::archive"
TOPIC = f"arn:aws:sns:us-east-1:{ACCOUNT}:alerts"
KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
SECRET = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:app/webhook-secret-AbCdEf"
NAMES = StackResourceNames(
    encryption={QUEUE: KEY, TABLE: KEY, BUCKET: KEY, TOPIC: KEY, SECRET: KEY},
    secrets={"app/webhook-secret": SECRET},
    aliases={"alias/app": KEY},
)


def calls(request: EmulatorRequest) -> list[tuple[str, str]]:
    return [(call.action, call.resource) for call in parse_request(request, NAMES).calls]


def test_the_caller_is_the_signature_s_access_key() -> None:
    parsed = parse_request(captured("sqs", "get_queue_attributes", access_key="ASIAWEBHOOK", QueueUrl=QUEUE_URL), NAMES)
    assert parsed.access_key_id == "ASIAWEBHOOK"
    assert (parsed.service, parsed.operation) == ("sqs", "GetQueueAttributes")


def test_a_send_to_an_encrypted_queue_needs_the_key_s_data_key_actions_through_sqs() -> None:
    # GIVEN a SendMessageBatch (JSON protocol) to the emulator's URL of a KMS-encrypted queue
    request = captured(
        "sqs", "send_message_batch", QueueUrl=LOCAL_QUEUE_URL, Entries=[{"Id": "1", "MessageBody": "{}"}]
    )
    # WHEN it is read
    parsed = parse_request(request, NAMES)
    # THEN it needs sqs:SendMessage on the queue, then GenerateDataKey and Decrypt on its key via SQS
    assert [(c.action, c.resource) for c in parsed.calls] == [
        ("sqs:SendMessage", QUEUE),
        ("kms:GenerateDataKey", KEY),
        ("kms:Decrypt", KEY),
    ]
    key_call = parsed.calls[1]
    assert key_call.via == "sqs"
    assert key_call.context["kms:ViaService"] == "sqs.us-east-1.amazonaws.com"
    assert key_call.context["kms:EncryptionContext:aws:sqs:arn"] == QUEUE


def test_a_receive_needs_decrypt_and_a_delete_no_key() -> None:
    assert calls(captured("sqs", "receive_message", QueueUrl=QUEUE_URL)) == [
        ("sqs:ReceiveMessage", QUEUE),
        ("kms:Decrypt", KEY),
    ]
    entries = [{"Id": "1", "ReceiptHandle": "h"}]
    assert calls(captured("sqs", "delete_message_batch", QueueUrl=QUEUE_URL, Entries=entries)) == [
        ("sqs:DeleteMessage", QUEUE)
    ]
    visibility = [{"Id": "1", "ReceiptHandle": "h", "VisibilityTimeout": 0}]
    assert calls(captured("sqs", "change_message_visibility_batch", QueueUrl=QUEUE_URL, Entries=visibility)) == [
        ("sqs:ChangeMessageVisibility", QUEUE)
    ]


def test_a_queue_named_not_addressed_and_a_move_task() -> None:
    assert calls(captured("sqs", "get_queue_url", QueueName="orders")) == [("sqs:GetQueueUrl", QUEUE)]
    dlq = f"arn:aws:sqs:us-east-1:{ACCOUNT}:orders-dlq"
    assert calls(captured("sqs", "start_message_move_task", SourceArn=dlq, DestinationArn=QUEUE)) == [
        ("sqs:StartMessageMoveTask", dlq),
        ("sqs:ReceiveMessage", dlq),
        ("sqs:DeleteMessage", dlq),
        ("sqs:GetQueueAttributes", dlq),
        ("sqs:SendMessage", QUEUE),
        ("kms:GenerateDataKey", KEY),
        ("kms:Decrypt", KEY),
    ]


def test_dynamodb_calls_name_their_tables_and_the_table_s_key() -> None:
    assert calls(captured("dynamodb", "put_item", TableName="orders", Item={"id": {"S": "1"}})) == [
        ("dynamodb:PutItem", TABLE),
        ("kms:Decrypt", KEY),
    ]
    keys = {"orders": {"Keys": [{"id": {"S": "1"}}]}}
    assert calls(captured("dynamodb", "batch_get_item", RequestItems=keys))[0] == ("dynamodb:BatchGetItem", TABLE)
    update = {"TableName": "orders", "Key": {"id": {"S": "1"}}, "UpdateExpression": "SET a = :a"}
    update["ExpressionAttributeValues"] = {":a": {"S": "x"}}
    put = {"TableName": "orders", "Item": {"id": {"S": "2"}}}
    transaction = captured("dynamodb", "transact_write_items", TransactItems=[{"Update": update}, {"Put": put}])
    assert [c for c in calls(transaction) if c[0].startswith("dynamodb:")] == [
        ("dynamodb:UpdateItem", TABLE),
        ("dynamodb:PutItem", TABLE),
    ]
    query = captured("dynamodb", "query", TableName="orders", IndexName="by-user")
    assert calls(query)[0] == ("dynamodb:Query", f"{TABLE}/index/by-user")


def test_s3_objects_and_the_bucket_key() -> None:
    put = captured("s3", "put_object", Bucket="archive", Key="payloads/a b.json", Body=b"{}")
    parsed = parse_request(put, NAMES)
    assert parsed.operation == "PutObject"
    assert [(c.action, c.resource) for c in parsed.calls] == [
        ("s3:PutObject", "arn:aws:s3:::archive/payloads/a b.json"),
        ("kms:GenerateDataKey", KEY),
    ]
    assert parsed.calls[1].context["kms:EncryptionContext:aws:s3:arn"] == BUCKET  # the bucket key's context
    assert calls(captured("s3", "get_object", Bucket="archive", Key="payloads/x")) == [
        ("s3:GetObject", "arn:aws:s3:::archive/payloads/x"),
        ("kms:Decrypt", KEY),
    ]
    assert calls(captured("s3", "list_objects_v2", Bucket="archive")) == [("s3:ListBucket", BUCKET)]
    assert calls(captured("s3", "delete_object", Bucket="archive", Key="k")) == [
        ("s3:DeleteObject", "arn:aws:s3:::archive/k")
    ]


def test_sns_ssm_secrets_and_sts() -> None:
    assert calls(captured("sns", "publish", TopicArn=TOPIC, Message="x")) == [
        ("sns:Publish", TOPIC),
        ("kms:GenerateDataKey", KEY),
        ("kms:Decrypt", KEY),
    ]
    assert calls(captured("ssm", "get_parameter", Name="/app/dev/telegram/chats")) == [
        ("ssm:GetParameter", f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/app/dev/telegram/chats")
    ]
    assert calls(captured("secretsmanager", "get_secret_value", SecretId="app/webhook-secret")) == [
        ("secretsmanager:GetSecretValue", SECRET),
        ("kms:Decrypt", KEY),
    ]
    role = f"arn:aws:iam::{ACCOUNT}:role/app-role"
    assert calls(captured("sts", "assume_role", RoleArn=role, RoleSessionName="session")) == [("sts:AssumeRole", role)]
    assert calls(captured("sts", "get_caller_identity")) == []  # needs no permission


def test_kms_calls_name_their_key_by_id_alias_or_ciphertext() -> None:
    assert calls(captured("kms", "generate_data_key", KeyId="alias/app", KeySpec="AES_256")) == [
        ("kms:GenerateDataKey", KEY)
    ]
    # The emulator's ciphertext begins with its key's id (moto/kms/utils.py)
    blob = b"1234abcd-12ab-34cd-56ef-1234567890ab" + bytes(40)
    assert calls(captured("kms", "decrypt", CiphertextBlob=blob)) == [("kms:Decrypt", KEY)]


def test_logs_calls_name_the_group_or_its_stream() -> None:
    request = captured("logs", "create_log_stream", logGroupName="/aws/lambda/w", logStreamName="s")
    group = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/lambda/w"
    assert calls(request) == [("logs:CreateLogStream", f"{group}:log-stream:s")]


def test_the_sqs_query_protocol_reads_as_the_json_one() -> None:
    body = f"Action=SendMessage&QueueUrl={QUEUE_URL}&MessageBody=x".encode()
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Authorization": "AWS4-HMAC-SHA256 Credential=AKIAX/20260101/us-east-1/sqs/aws4_request, Signature=x",
    }
    assert calls(EmulatorRequest("POST", "/", headers, body))[0] == ("sqs:SendMessage", QUEUE)


def test_an_unknown_json_operation_is_still_judged_as_its_action_on_everything() -> None:
    request = captured("sqs", "list_queues")
    assert calls(request) == [("sqs:ListQueues", "*")]
    request = captured("dynamodb", "list_tables")
    assert parse_request(request, NAMES).calls == (Call("dynamodb:ListTables", "*"),)


def test_lambda_calls_name_the_function_or_the_mapping() -> None:
    # GIVEN the Lambda calls the runtime makes (functions and mappings read, a mapping turned off, an invoke)
    function = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:automation-dev-worker"
    mapping = f"arn:aws:lambda:us-east-1:{ACCOUNT}:event-source-mapping:9f1c2d3e-aaaa-bbbb-cccc-0123456789ab"
    uuid = mapping.rsplit(":", 1)[1]
    requests = [
        captured("lambda", "get_function", FunctionName="automation-dev-worker"),
        captured("lambda", "get_function_configuration", FunctionName=f"{function}:$LATEST"),
        captured("lambda", "invoke", FunctionName="automation-dev-worker", Payload=b"{}"),
        captured("lambda", "get_event_source_mapping", UUID=uuid),
        captured("lambda", "update_event_source_mapping", UUID=uuid, Enabled=False),
        captured("lambda", "list_functions"),
    ]
    # WHEN they are read
    # THEN each names its action on the function's or the mapping's ARN (a qualifier dropped)
    assert [calls(request) for request in requests] == [
        [("lambda:GetFunction", function)],
        [("lambda:GetFunctionConfiguration", function)],
        [("lambda:InvokeFunction", function)],
        [("lambda:GetEventSourceMapping", mapping)],
        [("lambda:UpdateEventSourceMapping", mapping)],
        [("lambda:ListFunctions", "*")],
    ]
    assert parse_request(requests[0], NAMES).operation == "GetFunction"


@pytest.mark.parametrize(
    "action",
    sorted(
        {f"sqs:{a}" for a in SQS_ACTIONS.values()}
        | {a for pair in IMPLIED_KEY_ACTIONS for a in (pair[1],)}
        | {a for actions in IMPLIED_KEY_ACTIONS.values() for a in actions}
        | {"s3:ListBucket", "s3:ListBucketVersions", "s3:GetBucketLocation", "s3:ListAllMyBuckets"}
        | {"dynamodb:ConditionCheckItem", "sts:AssumeRole", "sqs:StartMessageMoveTask"}
        | {route[3] for route in LAMBDA_ROUTES}
    ),
)
def test_every_action_this_reader_names_is_in_aws_s_catalogue(action: str) -> None:
    # parliament's bundled IAM definition (AWS's service authorization reference); it imports
    # pkg_resources, deprecated, as the deploy preflight notes (lint_rules/preflight_iam.py)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        from parliament import expand_action

    assert expand_action(action), action


def test_a_presigned_url_names_its_key() -> None:
    request = EmulatorRequest(
        "GET", "/archive/k?X-Amz-Credential=AKIAPRE%2F20260101%2Fus-east-1%2Fs3%2Faws4_request", {}
    )
    assert parse_request(request, NAMES).access_key_id == "AKIAPRE"


def test_an_emulator_sts_session_s_key_names_its_role() -> None:
    # GIVEN a role's session from moto's STS (in process here; the emulator's server holds the same backends)
    import boto3
    from moto import mock_aws

    from automation_local.iam.requests import moto_principal

    role = f"arn:aws:iam::{ACCOUNT}:role/automation-dev-worker-role"
    with mock_aws():
        sts = boto3.client("sts", region_name="us-east-1")
        session = sts.assume_role(RoleArn=role, RoleSessionName="worker-poller")
        key = session["Credentials"]["AccessKeyId"]
        # WHEN its access key is looked up
        principal, unknown = moto_principal(key), moto_principal("AKIANOSUCHKEY")
    # THEN it is the role, called as the session
    assert principal == (role, f"arn:aws:sts::{ACCOUNT}:assumed-role/automation-dev-worker-role/worker-poller")
    assert unknown is None
