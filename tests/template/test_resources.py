"""What mission.md's "What must exist" asks of the template, beyond the seven corrections."""

from __future__ import annotations

from typing import Any

import pytest

from automation_shared import limits
from automation_shared.contracts import PAYLOAD_KEY_PREFIX
from tests.template.cfn import actions_on, ref_target, resources_of_type

pytestmark = pytest.mark.fast

ENVIRONMENT_PREFIX = "${ProjectName}-${Environment}"


def _sub_text(value: Any) -> str:
    """A Sub's text, its own variables substituted where they are plain strings."""
    assert isinstance(value, dict) and "Fn::Sub" in value, value
    text = value["Fn::Sub"]
    if isinstance(text, str):
        return text
    template, variables = text
    for name, variable in variables.items():
        if isinstance(variable, str):
            template = template.replace(f"${{{name}}}", variable)
    return template


def test_parameters_include_environment_and_project(cfn_template: dict[str, Any]) -> None:
    # GIVEN the parameters of the template as CloudFormation receives it
    parameters = cfn_template["Parameters"]
    # THEN the environment is dev, staging or prod, and the project defaults to automation
    assert parameters["Environment"]["AllowedValues"] == ["dev", "staging", "prod"]
    assert parameters["ProjectName"]["Default"] == "automation"
    # AND the queues, alerts, log retention and consumers' kill switch have their parameters
    for name in (
        "OrderQueueVisibilityTimeout",
        "OrderQueueMaxReceiveCount",
        "ResultQueueVisibilityTimeout",
        "ResultQueueMaxReceiveCount",
        "AlertEmail",
        "WatchTowerTopicArn",
        "LogRetentionDays",
        "ConsumersEnabled",
    ):
        assert name in parameters


def test_key_rotates_and_has_an_alias(cfn_template: dict[str, Any]) -> None:
    # GIVEN the stack's encryption key and its alias
    resources = cfn_template["Resources"]
    # THEN the key rotates
    assert resources["EncryptionKey"]["Properties"]["EnableKeyRotation"] is True
    # AND the alias points at it, under a name per project and environment
    alias = resources["EncryptionKeyAlias"]["Properties"]
    assert ref_target(alias["TargetKeyId"]) == "EncryptionKey"
    assert _sub_text(alias["AliasName"]) == f"alias/{ENVIRONMENT_PREFIX}"


@pytest.mark.parametrize(
    "queue, visibility, retention, wait",
    [
        ("OrderQueue", "OrderQueueVisibilityTimeout", "OrderQueueRetentionSeconds", 6),
        ("ResultQueue", "ResultQueueVisibilityTimeout", "ResultQueueRetentionSeconds", 6),
    ],
)
def test_source_queues_keep_the_original_settings(
    cfn_template: dict[str, Any], queue: str, visibility: str, retention: str, wait: int
) -> None:
    # GIVEN a source queue of the template, with the parameters of its visibility and retention
    properties = cfn_template["Resources"][queue]["Properties"]
    # THEN it long-polls as the original did, its visibility and retention are parameters
    # defaulting to the original's retention, and no queue may redrive into it
    assert properties["ReceiveMessageWaitTimeSeconds"] == wait
    assert ref_target(properties["VisibilityTimeout"]) == visibility
    assert ref_target(properties["MessageRetentionPeriod"]) == retention
    defaults = {"OrderQueueRetentionSeconds": 1209600, "ResultQueueRetentionSeconds": 604800}
    assert int(cfn_template["Parameters"][retention]["Default"]) == defaults[retention]
    assert properties["RedriveAllowPolicy"] == {"redrivePermission": "denyAll"}


@pytest.mark.parametrize(
    "dead_letter, source", [("OrderDeadLetterQueue", "order-queue"), ("ResultDeadLetterQueue", "result-queue")]
)
def test_dead_letter_queues_accept_redrive_only_from_their_source(
    deployed_template: dict[str, Any], queue_type: str, dead_letter: str, source: str
) -> None:
    # GIVEN a DLQ of the template and its source queue, in each queue type
    resources = deployed_template["Resources"]
    allow = resources[dead_letter]["Properties"]["RedriveAllowPolicy"]
    # THEN it accepts redrives from that one source queue only, by the name that queue has
    assert allow["redrivePermission"] == "byQueue"
    [source_arn] = allow["sourceQueueArnList"]
    suffix = ".fifo" if queue_type == "fifo" else ""
    assert _sub_text(source_arn).endswith(f":{ENVIRONMENT_PREFIX}-{source}{suffix}")


def test_every_queue_is_named_per_environment_and_reuses_data_keys(
    deployed_template: dict[str, Any], queue_type: str
) -> None:
    # GIVEN every queue of the template, in each queue type
    # THEN its name starts with the project and environment (and ends in .fifo for FIFO),
    # and its data key reuse period is the parameter's
    for name, queue in resources_of_type(deployed_template, "AWS::SQS::Queue").items():
        properties = queue["Properties"]
        assert _sub_text(properties["QueueName"]).startswith(ENVIRONMENT_PREFIX + "-"), name
        assert _sub_text(properties["QueueName"]).endswith(".fifo") == (queue_type == "fifo"), name
        assert ref_target(properties["KmsDataKeyReusePeriodSeconds"]) == "KmsDataKeyReusePeriodSeconds"
    # AND that parameter defaults to more than five minutes
    assert int(deployed_template["Parameters"]["KmsDataKeyReusePeriodSeconds"]["Default"]) > 300


def test_queue_policy_refuses_non_tls_access_to_every_queue(cfn_template: dict[str, Any]) -> None:
    # GIVEN the one queue policy of the template
    [policy] = resources_of_type(cfn_template, "AWS::SQS::QueuePolicy").values()
    queues = {ref_target(q) for q in policy["Properties"]["Queues"]}
    # THEN it covers every queue, with a single statement denying access without TLS to each
    assert queues == set(resources_of_type(cfn_template, "AWS::SQS::Queue"))
    [statement] = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Effect"] == "Deny"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert {ref_target(r) for r in statement["Resource"]} == queues


def test_archive_bucket_is_encrypted_private_and_tls_only(cfn_template: dict[str, Any]) -> None:
    # GIVEN the archive bucket and its policy
    resources = cfn_template["Resources"]
    bucket = resources["ArchiveBucket"]["Properties"]
    [rule] = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    # THEN the bucket is encrypted with the stack's key and blocks every public access
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert ref_target(rule["ServerSideEncryptionByDefault"]["KMSMasterKeyID"]) == "EncryptionKey"
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    # AND its policy's single statement denies access without TLS
    [statement] = resources["ArchiveBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Effect"] == "Deny" and statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_queues_refuse_what_the_stack_cannot_keep(cfn_template: dict[str, Any]) -> None:
    # GIVEN the stack's bounds on an order and a result message (limits.py: each is kept in a
    # DynamoDB item; larger result data goes to S3)
    # THEN each queue and its DLQ state exactly that bound, not SQS's 1 MiB default
    resources = cfn_template["Resources"]
    for queue in ("ResultQueue", "ResultDeadLetterQueue"):
        assert resources[queue]["Properties"]["MaximumMessageSize"] == limits.RESULT_MESSAGE_MAX_BYTES
    for queue in ("OrderQueue", "OrderDeadLetterQueue"):
        assert resources[queue]["Properties"]["MaximumMessageSize"] == limits.ORDER_MESSAGE_MAX_BYTES


def test_large_result_data_expires_after_the_result_dlq_retention_twice(cfn_template: dict[str, Any]) -> None:
    # GIVEN result data kept in the archive bucket under the payload prefix
    rules = cfn_template["Resources"]["ArchiveBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    [rule] = [r for r in rules if r.get("Prefix") == PAYLOAD_KEY_PREFIX]
    dlq = cfn_template["Resources"]["ResultDeadLetterQueue"]["Properties"]
    dlq_retention_days = dlq["MessageRetentionPeriod"] // 86400
    # THEN it outlives a result's 14 days in the DLQ and a late redrive, and then goes
    assert rule["Status"] == "Enabled"
    assert rule["ExpirationInDays"] == 2 * dlq_retention_days
    assert rule["NoncurrentVersionExpiration"] == {"NoncurrentDays": 1}


def test_webhook_secret_is_generated_by_the_stack(cfn_template: dict[str, Any]) -> None:
    # GIVEN the webhook secret of the template
    secret = cfn_template["Resources"]["WebhookSecret"]["Properties"]
    # THEN its value is not in the template: the stack generates one of at least 32 characters
    assert "SecretString" not in secret
    assert secret["GenerateSecretString"]["PasswordLength"] >= 32
    # AND it is named per project and environment, and the webhook's role may only read it
    assert _sub_text(secret["Name"]) == "${ProjectName}/${Environment}/webhook-secret"
    assert actions_on(cfn_template, "WebhookRole", "WebhookSecret") == {"secretsmanager:GetSecretValue"}


def test_alert_topic_optional_email_and_watch_tower(cfn_template: dict[str, Any]) -> None:
    # GIVEN the alert topic's subscriptions and the alarms of the template
    resources = cfn_template["Resources"]
    # THEN the email subscription exists only when an alert email is given
    assert resources["AlertEmailSubscription"]["Condition"] == "HasAlertEmail"
    # AND every alarm alerts the topic, and the watch tower's topic too when one is given,
    # both when it goes off and when it clears
    alarms = resources_of_type(cfn_template, "AWS::CloudWatch::Alarm")
    for name, alarm in alarms.items():
        for actions in ("AlarmActions", "OKActions"):
            condition, with_watch_tower, without = alarm["Properties"][actions]["Fn::If"]
            assert condition == "HasWatchTower", name
            assert [ref_target(a) for a in with_watch_tower] == ["AlertTopic", "WatchTowerTopicArn"], name
            assert [ref_target(a) for a in without] == ["AlertTopic"], name


def test_the_original_alarms_and_the_added_ones_exist(cfn_template: dict[str, Any]) -> None:
    # GIVEN the alarms of the template
    alarms = {name: a["Properties"] for name, a in resources_of_type(cfn_template, "AWS::CloudWatch::Alarm").items()}
    # THEN the original's four are there, with its thresholds
    assert alarms["OrderQueueAgeAlarm"]["Threshold"] == 900
    assert alarms["ResultQueueAgeAlarm"]["Threshold"] == 600
    assert alarms["OrderDeadLetterQueueAlarm"]["Threshold"] == 1
    assert alarms["ResultDeadLetterQueueAlarm"]["Threshold"] == 1
    # AND the added ones watch each function's errors and throttles, the order volume and the webhook's 5xx
    # (filtered-out events per mapping: test_corrections.py), and there is one dashboard
    watched = {(a["MetricName"], ref_target(a["Dimensions"][0]["Value"])) for a in alarms.values()}
    for function in ("WebhookFunction", "WorkerFunction", "FeedbackFunction"):
        assert ("Errors", function) in watched
        assert ("Throttles", function) in watched
    assert ("NumberOfMessagesSent", "OrderQueue") in watched
    assert ("5xx", "HttpApi") in watched
    assert len(resources_of_type(cfn_template, "AWS::CloudWatch::Dashboard")) == 1


@pytest.mark.parametrize(
    "function, role",
    [("WebhookFunction", "WebhookRole"), ("WorkerFunction", "WorkerRole"), ("FeedbackFunction", "FeedbackRole")],
)
def test_functions_run_python313_arm64_with_their_named_role_and_the_shared_layer(
    cfn_template: dict[str, Any], function: str, role: str
) -> None:
    # GIVEN a function of the template and its role
    properties = cfn_template["Resources"][function]["Properties"]
    # THEN it runs the app's handler on Python 3.13 on arm64, traced, with its own role
    # and the shared layer
    assert properties["Runtime"] == "python3.13"
    assert properties["Architectures"] == ["arm64"]
    assert properties["Handler"] == "app.lambda_handler"
    assert ref_target(properties["Role"]) == role
    assert properties["TracingConfig"] == {"Mode": "Active"}
    [layer] = properties["Layers"]
    assert cfn_template["Resources"][ref_target(layer)]["Type"] == "AWS::Lambda::LayerVersion"
    # AND its role is named per project, environment and function
    role_name = _sub_text(cfn_template["Resources"][role]["Properties"]["RoleName"])
    assert role_name == f"{ENVIRONMENT_PREFIX}-{role.removesuffix('Role').lower()}-role"


@pytest.mark.parametrize("mapping", ["WorkerOrderQueueMapping", "FeedbackResultQueueMapping"])
def test_mappings_report_batch_item_failures_and_follow_the_kill_switch(
    cfn_template: dict[str, Any], mapping: str
) -> None:
    # GIVEN an event source mapping of the template
    properties = cfn_template["Resources"][mapping]["Properties"]
    # THEN it takes partial batch responses, is on only while consumers are, and sets
    # its batch size and batching window
    assert properties["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert properties["Enabled"] == {"Fn::If": ["ConsumersOn", True, False]}
    assert "BatchSize" in properties and "MaximumBatchingWindowInSeconds" in properties


def test_http_api_routes_and_throttling(cfn_template: dict[str, Any]) -> None:
    # GIVEN the HTTP API of the template and its default stage
    resources = cfn_template["Resources"]
    body = resources["HttpApi"]["Properties"]["Body"]
    # THEN its only routes are POST /orders and GET /orders/{orderId}
    assert set(body["paths"]) == {"/orders", "/orders/{orderId}"}
    assert set(body["paths"]["/orders"]) == {"post"}
    assert set(body["paths"]["/orders/{orderId}"]) == {"get"}
    # AND its stage throttles every route by the parameters' rate and burst
    route_settings = resources["HttpApiApiGatewayDefaultStage"]["Properties"]["DefaultRouteSettings"]
    assert ref_target(route_settings["ThrottlingRateLimit"]) == "ApiThrottlingRateLimit"
    assert ref_target(route_settings["ThrottlingBurstLimit"]) == "ApiThrottlingBurstLimit"


SSM_NAMES = {
    "/queues/order/url",
    "/queues/order/arn",
    "/queues/result/url",
    "/queues/result/arn",
    "/queues/config",
    "/roles/webhook/arn",
    "/roles/worker/arn",
    "/roles/feedback/arn",
    "/monitoring/queue-alerts/topic-arn",
}


def test_every_ssm_parameter_of_the_original_is_exported(cfn_template: dict[str, Any]) -> None:
    # GIVEN the names of the SSM parameters of the template
    names = {
        _sub_text(p["Properties"]["Name"]) for p in resources_of_type(cfn_template, "AWS::SSM::Parameter").values()
    }
    # THEN every parameter of the original is among them, under the project and environment
    prefix = "/${ProjectName}/${Environment}"
    assert {prefix + name for name in SSM_NAMES} <= names


def test_log_groups_are_encrypted_by_the_stack_key_which_lets_logs_use_it_for_exactly_them(
    cfn_template: dict[str, Any],
) -> None:
    resources = cfn_template["Resources"]
    # GIVEN every log group of the stack
    log_groups = resources_of_type(cfn_template, "AWS::Logs::LogGroup")
    # THEN each is encrypted with the stack's key
    for name, log_group in log_groups.items():
        assert ref_target(log_group["Properties"]["KmsKeyId"]) == "EncryptionKey", name
    # AND the key policy lets CloudWatch Logs use the key for those log groups and no others
    statements = resources["EncryptionKey"]["Properties"]["KeyPolicy"]["Statement"]
    logs_service = {"Fn::Sub": "logs.${AWS::Region}.amazonaws.com"}
    [logs] = [s for s in statements if s["Principal"].get("Service") == logs_service]
    allowed = {_sub_text(arn) for arn in logs["Condition"]["ArnEquals"]["kms:EncryptionContext:aws:logs:arn"]}
    arn_prefix = "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:"
    assert allowed == {arn_prefix + _sub_text(g["Properties"]["LogGroupName"]) for g in log_groups.values()}
