"""The deploy preflight (lint_rules/preflight_*.py, E9004-E9009): the template passes it, and each check bites.

These are the checks AWS makes at deploy time and the emulator does not: PutDashboard's
grammar, alarms on metrics AWS publishes, IAM's actions and ARN formats, KMS's key policy
lockout check, the services' name limits, and what a stack deletion or a failed first deploy
does to stateful resources. Each test breaks one thing in a copy of the template (SAM, as
written) and lints it with the house rules, as test_lint.py does; a finding's text names what
was broken, so a rule that reports something else does not pass for it.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import botocore
import pytest
from cfnlint.api import ManualArgs, lint
from cfnlint.decode import decode_str
from cfnlint.rules import Rules
from cfnlint.template import Template

from automation_local.cloudformation.project import REPO_ROOT

pytestmark = pytest.mark.fast

PREFLIGHT_RULES = ("E9004", "E9005", "E9006", "E9007", "E9008", "E9009")
PREFLIGHT = Rules.create_from_directory(str(REPO_ROOT / "lint_rules"))

Change = Callable[[dict[str, Any]], None]


def linted_findings(template: dict[str, Any]) -> list[str]:
    """The preflight findings of a full cfn-lint run (every rule, as `make lint` runs them)."""
    config = ManualArgs(append_rules=[str(REPO_ROOT / "lint_rules")], regions=["us-east-1"])
    matches = lint(json.dumps(template), config=config)
    return [f"{m.rule.id} {m.message}" for m in matches if m.rule.id in PREFLIGHT_RULES]


def preflight_findings(template: dict[str, Any]) -> list[str]:
    """The preflight rules alone on the transformed template: what a full run reports for
    them (test below), in a tenth of the time (cfn-lint's own schema checks, which a full
    run makes first, take the rest), so the rules' many cases fit the fast tier."""
    decoded, _ = decode_str(json.dumps(template))
    cfn = Template("", decoded, ["us-east-1"])
    cfn.transform()
    return [
        f"{match.rule.id} {match.message}"
        for rule_id, rule in PREFLIGHT.items()
        if rule_id in PREFLIGHT_RULES
        for match in rule.matchall("", cfn)
    ]


def test_the_preflight_rules_alone_find_what_a_full_lint_finds(sam_template: dict[str, Any]) -> None:
    # GIVEN a copy of the template broken for several rules at once
    def break_several(template: dict[str, Any]) -> None:
        template["Resources"]["ArchiveBucket"]["DeletionPolicy"] = "Retain"
        template["Parameters"]["ProjectName"].pop("AllowedPattern", None)

    template = broken(sam_template, break_several)
    # WHEN the preflight rules run alone, and within a full cfn-lint run
    alone, linted = preflight_findings(template), linted_findings(template)
    # THEN both report the same findings
    assert len(alone) > 2
    assert sorted(alone) == sorted(linted)


@pytest.fixture(scope="module")
def template_findings(sam_template: dict[str, Any]) -> list[str]:
    return preflight_findings(sam_template)


def broken(template: dict[str, Any], change: Change) -> dict[str, Any]:
    copied = copy.deepcopy(template)
    change(copied)
    assert copied != template, "the change changed nothing"
    return copied


def properties(template: dict[str, Any], logical_id: str) -> dict[str, Any]:
    return template["Resources"][logical_id]["Properties"]


def assert_caught(template: dict[str, Any], change: Change, rule: str, expected: str) -> None:
    # WHEN the broken copy is linted with the house rules
    findings = preflight_findings(broken(template, change))
    # THEN the rule reports exactly what was broken
    assert any(f.startswith(rule) and expected in f for f in findings), findings


@pytest.mark.parametrize("rule", PREFLIGHT_RULES)
def test_the_template_passes_every_preflight_check(template_findings: list[str], rule: str) -> None:
    # GIVEN a preflight rule, and the preflight findings on the template as written
    # THEN none of them is that rule's: it finds nothing in the template
    assert [f for f in template_findings if f.startswith(rule)] == []


# ------------------------------------------------------------------ E9004 dashboard grammar
def dashboard_text(template: dict[str, Any], old: str, new: str) -> Change:
    """Replace `old` (once in the dashboard body's Fn::Sub text) with `new`."""

    def change(copied: dict[str, Any]) -> None:
        body = properties(copied, "Dashboard")["DashboardBody"]["Fn::Sub"]
        assert body[0].count(old) == 1, f"{old!r} is not once in the dashboard body"
        body[0] = body[0].replace(old, new)

    return change


@pytest.mark.parametrize(
    "old, new, expected",
    [
        # The original's array: "..." is only ever the first element.
        ('[".", "4xx", ".", "."]', '["...", "4xx", "...", "..."]', '"..." after its first element'),
        ('"x": 12, "y": 0, "width": 12', '"x": 13, "y": 0, "width": 12', "runs past the 24-column grid"),
        (
            '"ApproximateAgeOfOldestMessage", "QueueName", "${OrderName}"]',
            '"ApproximateAgeOfOldestMessage", "QueueName"]',
            "dimension name without a value",
        ),
        ('["AWS/SQS", "ApproximateAgeOfOldestMessage"', '[".", "ApproximateAgeOfOldestMessage"', '"." but no metric'),
        ('"title": "Webhook API", "region": "${AWS::Region}",', '"title": "Webhook API",', "needs region"),
        ('{"type": "metric", "x": 0, "y": 12', '{"type": "graph", "x": 0, "y": 12', "type 'graph'"),
        ('"${ResultName}"]]', '"${ResultName}", {"yAxis": "middle"}]]', "yAxis 'middle' is not valid"),
        (
            '"title": "Queue depth", "region": "${AWS::Region}", "stat": "Maximum", "period": 60',
            '"title": "Queue depth", "region": "${AWS::Region}", "stat": "Maximum", "period": 90',
            "period 90",
        ),
        ('[".", "5xx", ".", "."]]}}\n', '[".", "5xx", ".", "."]]}\n', "not JSON"),
    ],
)
def test_e9004_refuses_a_dashboard_body_outside_the_documented_grammar(
    sam_template: dict[str, Any], old: str, new: str, expected: str
) -> None:
    # GIVEN the dashboard body with one element broken
    assert_caught(sam_template, dashboard_text(sam_template, old, new), "E9004", expected)


def test_e9004_reads_dot_as_the_previous_metrics_element(sam_template: dict[str, Any]) -> None:
    # GIVEN "." in a position the previous metric does not have
    change = dashboard_text(sam_template, '[".", "4xx", ".", "."]', '[".", "4xx", ".", ".", ".", "."]')
    assert_caught(sam_template, change, "E9004", '"." at position 4, beyond the previous metric')


def test_e9004_accepts_three_dots_first_for_the_previous_metrics_leading_elements(sam_template: dict[str, Any]) -> None:
    # GIVEN "..." as the first element: the previous metric's elements up to the ones that follow
    copied = broken(
        sam_template, dashboard_text(sam_template, '[".", ".", ".", "${ResultName}"],', '["...", "${ResultName}"],')
    )
    # WHEN it is linted THEN the grammar holds and the expanded metric is AWS/SQS's, by QueueName
    assert [f for f in preflight_findings(copied) if f.startswith(("E9004", "E9005"))] == []


@pytest.mark.parametrize(
    "new, rule, expected",
    [
        ('["...", "a", "b", "c", "d"],', "E9004", "nothing left to repeat"),
        # "..." stands for the namespace here: AWS/SQS has no such metric.
        (
            '["...", "NumberOfMessages", "QueueName", "${ResultName}"],',
            "E9005",
            "AWS/SQS publishes no metric NumberOfMessages",
        ),
    ],
)
def test_three_dots_are_expanded_before_they_are_checked(
    sam_template: dict[str, Any], new: str, rule: str, expected: str
) -> None:
    # GIVEN "..." followed by as many elements as the previous metric has, or by a wrong metric name
    change = dashboard_text(sam_template, '[".", ".", ".", "${ResultName}"],', new)
    assert_caught(sam_template, change, rule, expected)


# ------------------------------------------------------------------ E9005 published metrics
def alarm_metric(logical_id: str, **changes: Any) -> Change:
    def change(copied: dict[str, Any]) -> None:
        properties(copied, logical_id).update(changes)

    return change


@pytest.mark.parametrize(
    "change, expected",
    [
        (alarm_metric("OrderQueueAgeAlarm", MetricName="ApproximateAgeOfOldestMesage"), "no metric Approximate"),
        # A REST API's metric name on the HTTP API's ApiId: never published, the alarm never fires.
        (alarm_metric("WebhookServerErrorsAlarm", MetricName="5XXError"), "5XXError is published with dimensions"),
        (
            alarm_metric(
                "OrderFilteredOutAlarm", Dimensions=[{"Name": "FunctionName", "Value": {"Ref": "WorkerFunction"}}]
            ),
            "FilteredOutEventCount is published with dimensions {EventSourceMappingUUID}, not {FunctionName}",
        ),
        (alarm_metric("WorkerErrorsAlarm", Namespace="AWS/Lamda"), "namespace AWS/Lamda is not in the catalogue"),
    ],
)
def test_e9005_refuses_an_alarm_on_a_metric_aws_does_not_publish(
    sam_template: dict[str, Any], change: Change, expected: str
) -> None:
    # GIVEN an alarm whose metric, dimension or namespace is wrong
    assert_caught(sam_template, change, "E9005", expected)


@pytest.mark.parametrize(
    "old, new, expected",
    [
        ('"PolledEventCount"', '"PolledEventsCount"', "publishes no metric PolledEventsCount"),
        # "." takes the namespace of the metric before; a changed first element is checked as expanded.
        (
            '[".", "Throttles", ".", "${WebhookFunction}"]',
            '["AWS/SQS", "Throttles", ".", "${WebhookFunction}"]',
            "AWS/SQS publishes no metric Throttles",
        ),
        ('"ApiId", "${HttpApi}"]', '"ApiName", "${HttpApi}"]', "4xx is published with dimensions"),
    ],
)
def test_e9005_refuses_a_dashboard_metric_aws_does_not_publish(
    sam_template: dict[str, Any], old: str, new: str, expected: str
) -> None:
    # GIVEN a dashboard metric (after "." is expanded) that AWS does not publish
    assert_caught(sam_template, dashboard_text(sam_template, old, new), "E9005", expected)


def test_e9005_leaves_the_applications_own_namespace_alone(sam_template: dict[str, Any]) -> None:
    # GIVEN an alarm on a metric of the functions' own namespace (Powertools' custom metrics)
    custom = broken(
        sam_template,
        alarm_metric(
            "OrderVolumeAlarm", Namespace={"Fn::Sub": "${ProjectName}/${Environment}"}, MetricName="OrdersQueued"
        ),
    )
    # WHEN it is linted THEN nothing is said about it: only AWS/ namespaces are AWS's to publish
    assert [f for f in preflight_findings(custom) if f.startswith("E9005")] == []


# ------------------------------------------------------------------ E9006 policy documents (parliament)
def statement(template: dict[str, Any], role: str, sid: str) -> dict[str, Any]:
    statements = properties(template, role)["Policies"][0]["PolicyDocument"]["Statement"]
    [found] = [s for s in statements if s.get("Sid") == sid]
    return found


def role_statement(role: str, sid: str, **changes: Any) -> Change:
    def change(copied: dict[str, Any]) -> None:
        statement(copied, role, sid).update(changes)

    return change


def document_statement(logical_id: str, key: str, index: int, **changes: Any) -> Change:
    def change(copied: dict[str, Any]) -> None:
        properties(copied, logical_id)[key]["Statement"][index].update(changes)

    return change


ARN = "arn:${AWS::Partition}"


@pytest.mark.parametrize(
    "change, expected",
    [
        (
            role_statement("WebhookRole", "SendOrders", Action="sqs:SendMesage"),
            "UNKNOWN_ACTION: Unknown action sqs:SendMesage",
        ),
        (role_statement("WebhookRole", "SendOrders", Action="sqss:SendMessage"), "UNKNOWN_PREFIX"),
        # A resource of a type the action does not apply to: the queue actions on the bucket.
        (
            role_statement("WorkerRole", "ConsumeOrders", Resource={"Fn::GetAtt": ["ArchiveBucket", "Arn"]}),
            "statement ConsumeOrders: RESOURCE_MISMATCH",
        ),
        # An ARN without its account.
        (
            role_statement(
                "FeedbackRole", "ReadTelegramChats", Resource={"Fn::Sub": ARN + ":ssm:${AWS::Region}:parameter/x"}
            ),
            "statement ReadTelegramChats: INVALID_ARN",
        ),
        # The log group's own ARN (no :* for its streams) does not cover PutLogEvents.
        (
            role_statement(
                "WebhookRole",
                "WriteOwnLogs",
                Resource={"Fn::Sub": ARN + ":logs:${AWS::Region}:${AWS::AccountId}:log-group:x"},
            ),
            "statement WriteOwnLogs: RESOURCE_MISMATCH",
        ),
        (
            document_statement("WebhookRole", "AssumeRolePolicyDocument", 0, Action="sts:AssumeRoles"),
            "AssumeRolePolicyDocument: statement 0: UNKNOWN_ACTION",
        ),
        (document_statement("ArchiveBucketPolicy", "PolicyDocument", 0, Action="s3:GetObjects"), "ArchiveBucketPolicy"),
        (
            document_statement(
                "QueuesRefuseInsecureTransport",
                "PolicyDocument",
                0,
                Condition={"Bool": {"aws:SecureTransprt": "false"}},
            ),
            "UNKNOWN_CONDITION_FOR_ACTION: Unknown condition aws:SecureTransprt",
        ),
        (
            document_statement("AlertTopicPolicy", "PolicyDocument", 0, Action="sns:Publishh"),
            "Unknown action sns:Publishh",
        ),
        (document_statement("EncryptionKey", "KeyPolicy", 1, Action=["kms:Decrypts"]), "Unknown action kms:Decrypts"),
        (document_statement("EncryptionKey", "KeyPolicy", 1, Sid="AccountAdministersKeyThroughIam"), "DUPLICATE_SID"),
        # An intrinsic the resolver has no realistic value for is reported, not skipped.
        (
            role_statement("WorkerRole", "SendResults", Resource={"Fn::GetAtt": ["ResultQueue", "Nope"]}),
            "cannot be resolved",
        ),
    ],
)
def test_e9006_refuses_a_policy_document_iam_would_refuse_or_never_match(
    sam_template: dict[str, Any], change: Change, expected: str
) -> None:
    # GIVEN a policy document with a misspelt action, a wrong or malformed ARN, or an unknown key
    assert_caught(sam_template, change, "E9006", expected)


def test_e9006_waives_only_cloudwatch_logs_documented_statement(sam_template: dict[str, Any]) -> None:
    # GIVEN CloudWatch Logs' key policy statement as AWS documents it (ArnEquals on a String
    # condition key, kms:Describe* under an encryption-context condition): waived in the rule.
    # WHEN its condition key is misspelt
    def misspell(copied: dict[str, Any]) -> None:
        [logs] = [s for s in properties(copied, "EncryptionKey")["KeyPolicy"]["Statement"] if "Condition" in s]
        arns = logs["Condition"]["ArnEquals"]
        arns["kms:EncryptionContext:aws:logs:arns"] = arns.pop("kms:EncryptionContext:aws:logs:arn")

    # THEN the waiver no longer applies and the statement is reported
    assert_caught(sam_template, misspell, "E9006", "statement CloudWatchLogsEncryptStackLogGroups: MISMATCHED_TYPE")


# ------------------------------------------------------------------ E9007 the key policy keeps the account's root
ROOT = {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}}


def key_statements(update: Callable[[list[dict[str, Any]]], None]) -> Change:
    def change(copied: dict[str, Any]) -> None:
        update(properties(copied, "EncryptionKey")["KeyPolicy"]["Statement"])

    return change


@pytest.mark.parametrize(
    "change, expected",
    [
        (
            key_statements(lambda s: s.pop(0)),
            "no unconditional Allow of kms:* (or kms:PutKeyPolicy) on * for the account's root",
        ),
        (key_statements(lambda s: s[0].update(Action=["kms:Decrypt", "kms:Encrypt"])), "no unconditional Allow"),
        (
            key_statements(lambda s: s[0].update(Resource={"Fn::GetAtt": ["OrderQueue", "Arn"]})),
            "no unconditional Allow",
        ),
        (
            key_statements(lambda s: s[0].update(Condition={"Bool": {"aws:MultiFactorAuthPresent": "true"}})),
            "no unconditional Allow",
        ),
        (
            key_statements(lambda s: s[0].update(Principal={"AWS": {"Fn::GetAtt": ["WebhookRole", "Arn"]}})),
            "no unconditional Allow",
        ),
        (
            key_statements(
                lambda s: s.append(
                    {
                        "Sid": "NoPolicyChanges",
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "kms:PutKeyPolicy",
                        "Resource": "*",
                    }
                )
            ),
            "Deny statements ['NoPolicyChanges'] take kms:PutKeyPolicy back",
        ),
    ],
)
def test_e9007_refuses_a_key_policy_that_locks_the_account_out(
    sam_template: dict[str, Any], change: Change, expected: str
) -> None:
    # GIVEN the key policy without an unconditional kms:* (or PutKeyPolicy) for the account's root
    assert_caught(sam_template, change, "E9007", expected)


@pytest.mark.parametrize(
    "principal, actions",
    [
        ({"AWS": {"Ref": "AWS::AccountId"}}, "kms:*"),
        (ROOT, ["kms:PutKeyPolicy", "kms:GetKeyPolicy"]),
        (ROOT, ["kms:Describe*", "kms:Put*", "kms:Get*"]),
    ],
)
def test_e9007_accepts_each_form_of_the_root_statement(
    sam_template: dict[str, Any], principal: Any, actions: Any
) -> None:
    # GIVEN the account named by its root ARN or its id, with kms:* or a wildcard covering PutKeyPolicy
    copied = broken(sam_template, key_statements(lambda s: s[0].update(Principal=principal, Action=actions)))
    # WHEN it is linted THEN the key policy keeps the account in
    assert [f for f in preflight_findings(copied) if f.startswith("E9007")] == []


# ------------------------------------------------------------------ E9008 names within AWS's limits
def parameter(name: str, **changes: Any) -> Change:
    def change(copied: dict[str, Any]) -> None:
        for key, value in changes.items():
            if value is None:
                del copied["Parameters"][name][key]
            else:
                copied["Parameters"][name][key] = value

    return change


def named(logical_id: str, key: str, value: Any) -> Change:
    def change(copied: dict[str, Any]) -> None:
        properties(copied, logical_id)[key] = value

    return change


LOOKAHEAD = "(?!xn-|sthree|amzn-s3-demo|aws|ssm)"


@pytest.mark.parametrize(
    "change, expected",
    [
        # 21 characters of ProjectName (the original pattern's bound): 21 + 30 + 15 = 66.
        (
            parameter("ProjectName", AllowedPattern=f"^{LOOKAHEAD}[a-z][a-z0-9-]{{1,20}}$"),
            "s3_bucket name of ArchiveBucket can be 66 characters long (AWS allows 63)",
        ),
        # The original pattern, without the lookahead: "xn-" + "-staging-..." is a reserved prefix.
        (parameter("ProjectName", AllowedPattern="^[a-z][a-z0-9-]{1,17}$"), "can begin with 'xn--'"),
        (parameter("ProjectName", AllowedPattern="^[a-z][a-z0-9-]{1,17}$"), "can begin with 'sthree-'"),
        (
            parameter("ProjectName", AllowedPattern="^[a-z][a-z0-9-]{1,17}$"),
            "ssm_parameter name of OrderQueueUrlParameter can begin with '/aws'",
        ),
        (parameter("ProjectName", AllowedPattern=f"^{LOOKAHEAD}[a-zA-Z][a-z0-9-]{{1,17}}$"), "can begin with 'ABC"),
        # Every allowed value counts, not only the default.
        (parameter("Environment", AllowedValues=["dev", "staging", "production"]), "can be 66 characters long"),
        # A pattern or parameter the rule cannot bound is a finding, not a pass.
        (parameter("ProjectName", AllowedPattern="^(auto|bench)[a-z]*$"), "cannot be bounded"),
        (parameter("ProjectName", AllowedPattern=None), "ProjectName has neither AllowedValues nor an AllowedPattern"),
        (
            named("WebhookRole", "RoleName", {"Fn::Sub": "${AWS::StackName}-webhook-role"}),
            "iam_role name of WebhookRole can be 141",
        ),
        (named("OrderQueue", "QueueName", {"Fn::Sub": "${ProjectName}-${Environment}-order.queue"}), "can contain '.'"),
        (
            named("OrderQueue", "QueueName", {"Fn::Sub": "${ProjectName}-${Environment}-" + "q" * 60}),
            "can be 87 characters",
        ),
        (
            named("ArchiveBucket", "BucketName", {"Fn::Sub": "${ProjectName}-${Environment}-s3alias"}),
            "can end with '-s3alias'",
        ),
        (
            named(
                "WebhookFunction",
                "FunctionName",
                {"Fn::Sub": "${ProjectName}-${Environment}-webhook-${AWS::StackName}"},
            ),
            "lambda_function name of WebhookFunction can be",
        ),
        (
            named("EncryptionKeyAlias", "AliasName", {"Fn::Sub": "${ProjectName}-${Environment}"}),
            "must begin with 'alias/'",
        ),
        (named("OrdersTable", "TableName", {"Fn::Sub": "${ProjectName}/${Environment}"}), "can contain '/'"),
        (named("OrderQueueAgeAlarm", "AlarmName", {"Ref": "OrderQueue"}), "a resource's attribute in a name"),
        (
            named("OrderDeadLetterQueue", "FifoQueue", True),
            "sqs_queue name of OrderDeadLetterQueue must end with .fifo",
        ),
        # SSM counts the ARN before the name (arn:aws-us-gov:ssm:us-isof-south-1:<account>:parameter).
        (
            named("OrderQueueUrlParameter", "Name", {"Fn::Sub": "/${ProjectName}/" + "p" * 940}),
            "with its ARN (AWS allows 1011)",
        ),
        (named("OrderQueueUrlParameter", "Name", {"Fn::Sub": "/${ProjectName}" + "/p" * 15}), "more than 15 levels"),
    ],
)
def test_e9008_refuses_a_name_aws_would_refuse_for_some_allowed_value(
    sam_template: dict[str, Any], change: Change, expected: str
) -> None:
    # GIVEN a parameter that admits a value making some name invalid, or a name AWS refuses
    assert_caught(sam_template, change, "E9008", expected)


def test_project_name_admits_up_to_18_characters_and_nothing_s3_or_ssm_reserves(sam_template: dict[str, Any]) -> None:
    # GIVEN the ProjectName pattern as CloudFormation applies it to a given value
    pattern = re.compile(sam_template["Parameters"]["ProjectName"]["AllowedPattern"])
    endpoints = json.loads((Path(botocore.__file__).parent / "data" / "endpoints.json").read_text())
    region = max((r for p in endpoints["partitions"] for r in p["regions"]), key=len)
    # THEN the longest admitted value makes a bucket name of at most 63 characters in the longest Region
    longest = "a" * 18
    assert pattern.fullmatch(longest) and not pattern.fullmatch(longest + "a")
    assert len(f"{longest}-staging-archive-123456789012-{region}") <= 63
    # AND values S3 or SSM would refuse in a name are refused as parameter values already
    for value in ("xn-", "xn--abc", "sthree", "sthree-x", "amzn-s3-demo", "aws", "awsome", "ssm-x"):
        assert not pattern.fullmatch(value), value
    for value in ("automation", "xn", "x-n", "amzn", "sthre", "a-s3", "my-aws"):
        assert pattern.fullmatch(value), value


# ------------------------------------------------------------------ E9009 deletion and replacement
def resource_attribute(logical_id: str, attribute: str, value: str | None) -> Change:
    def change(copied: dict[str, Any]) -> None:
        if value is None:
            del copied["Resources"][logical_id][attribute]
        else:
            copied["Resources"][logical_id][attribute] = value

    return change


@pytest.mark.parametrize(
    "change, expected",
    [
        (
            resource_attribute("OrderDeadLetterQueue", "DeletionPolicy", None),
            "OrderDeadLetterQueue has no DeletionPolicy",
        ),
        (resource_attribute("WebhookSecret", "UpdateReplacePolicy", None), "WebhookSecret has no UpdateReplacePolicy"),
        (resource_attribute("ApiAccessLogGroup", "DeletionPolicy", None), "ApiAccessLogGroup has no DeletionPolicy"),
        # The original's choice for the fixed-name key, table and bucket.
        (resource_attribute("ArchiveBucket", "DeletionPolicy", "Retain"), "DeletionPolicy of ArchiveBucket is Retain"),
        (
            resource_attribute("OrdersTable", "UpdateReplacePolicy", "RetainExceptOnCreate"),
            "UpdateReplacePolicy of OrdersTable is 'RetainExceptOnCreate'",
        ),
    ],
)
def test_e9009_refuses_a_stateful_resource_without_a_chosen_policy(
    sam_template: dict[str, Any], change: Change, expected: str
) -> None:
    # GIVEN a stateful resource whose deletion or replacement policy is missing or wrong
    assert_caught(sam_template, change, "E9009", expected)


STATEFUL_TYPES = (
    "AWS::KMS::Key",
    "AWS::SQS::Queue",
    "AWS::DynamoDB::Table",
    "AWS::S3::Bucket",
    "AWS::SecretsManager::Secret",
    "AWS::Logs::LogGroup",
)


def test_a_failed_first_deploy_leaves_no_stateful_resource_behind(sam_template: dict[str, Any]) -> None:
    # GIVEN every stateful resource of the template
    stateful = {n: r for n, r in sam_template["Resources"].items() if r["Type"] in STATEFUL_TYPES}
    assert len(stateful) == 12
    # THEN each keeps its data on a stack deletion except the stack-generated secret, and none
    # survives the rollback of the deploy that created it (the retry would hit AlreadyExists)
    deletion = {n: r["DeletionPolicy"] for n, r in stateful.items()}
    assert deletion == {n: ("Delete" if n == "WebhookSecret" else "RetainExceptOnCreate") for n in stateful}
    replacement = {n: r["UpdateReplacePolicy"] for n, r in stateful.items()}
    assert replacement == {n: ("Delete" if n == "WebhookSecret" else "Retain") for n in stateful}


# ------------------------------------------------------------------ findings fixed beside the preflight
CHAT_MAP = "/${ProjectName}/${Environment}/telegram/chats"


def test_the_telegram_chat_map_is_the_operators_not_the_stacks(deployed_template: dict[str, Any]) -> None:
    resources = deployed_template["Resources"]
    # GIVEN the stack's SSM parameters
    names = [r["Properties"]["Name"] for r in resources.values() if r["Type"] == "AWS::SSM::Parameter"]
    # THEN none is the chat map, whose value an update of a stack-owned parameter would wipe
    assert {"Fn::Sub": CHAT_MAP} not in names
    # AND feedback still reads it where operators create it, under the same name
    variables = resources["FeedbackFunction"]["Properties"]["Environment"]["Variables"]
    assert variables["TELEGRAM_CHATS_PARAMETER"] == {"Fn::Sub": CHAT_MAP}
    statements = [
        s for p in resources["FeedbackRole"]["Properties"]["Policies"] for s in p["PolicyDocument"]["Statement"]
    ]
    [read] = [s for s in statements if s["Action"] == "ssm:GetParameter"]
    arn = "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter"
    assert read["Resource"] == {"Fn::Sub": arn + CHAT_MAP}


@pytest.mark.parametrize("function", ["WebhookFunction", "WorkerFunction", "FeedbackFunction"])
def test_each_environment_has_its_own_metrics_namespace(cfn_template: dict[str, Any], function: str) -> None:
    # GIVEN dev, staging and prod stacks that may share an account
    variables = cfn_template["Resources"][function]["Properties"]["Environment"]["Variables"]
    # THEN each function's custom metrics go to a namespace of its environment, never a shared one
    assert variables["POWERTOOLS_METRICS_NAMESPACE"] == {"Fn::Sub": "${ProjectName}/${Environment}"}
