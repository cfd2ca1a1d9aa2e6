"""House conventions as cfn-lint rules, loaded through .cfnlintrc.yaml's `append_rules`.

cfn-lint loads a rules directory file by file, outside any package, so the rules and the
reader they share live in this one file (a sibling import would fail under `sam validate
--lint`). cfn-lint checks a SAM template as written (Globals merged, not translated), so
the function rule reads both AWS::Serverless::Function and AWS::Lambda::Function.

- E9001 every function logs to its own log group, which has a retention;
- E9002 every source queue has a dead-letter queue, and every DLQ an alarm;
- E9003 every queue and topic is encrypted with a KMS key of this template.
"""

from typing import Any

from cfnlint.rules import CloudFormationLintRule, RuleMatch


def referenced_logical_id(value: Any) -> str | None:
    """The logical id behind `{"Ref": X}` or `{"Fn::GetAtt": [X, ...]}` (or "X.Attr")."""
    if not isinstance(value, dict) or len(value) != 1:
        return None
    if "Ref" in value and isinstance(value["Ref"], str):
        return value["Ref"]
    target = value.get("Fn::GetAtt")
    if isinstance(target, list) and target:
        return str(target[0])
    if isinstance(target, str):
        return target.split(".", 1)[0]
    return None


FUNCTION_TYPES = ["AWS::Serverless::Function", "AWS::Lambda::Function"]


class FunctionHasLogGroupWithRetention(CloudFormationLintRule):
    id = "E9001"
    shortdesc = "Function has its own log group with retention"
    description = (
        "Each function (AWS::Serverless::Function or AWS::Lambda::Function) sets LoggingConfig.LogGroup "
        "to an AWS::Logs::LogGroup of this template that has RetentionInDays, so no log group is "
        "created implicitly and kept forever."
    )
    source_url = "https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-advanced.html"
    tags = ["house", "logs"]

    def match(self, cfn):
        matches = []
        resources = cfn.template.get("Resources", {})
        for name, function in cfn.get_resources(FUNCTION_TYPES).items():
            log_group = function.get("Properties", {}).get("LoggingConfig", {}).get("LogGroup")
            target = referenced_logical_id(log_group)
            path = ["Resources", name, "Properties", "LoggingConfig", "LogGroup"]
            if target is None or resources.get(target, {}).get("Type") != "AWS::Logs::LogGroup":
                matches.append(RuleMatch(path, f"Function {name} must log to a log group declared in this template"))
            elif "RetentionInDays" not in resources[target].get("Properties", {}):
                matches.append(RuleMatch(path, f"Log group {target} of function {name} has no RetentionInDays"))
        return matches


def _alarmed_queues(cfn) -> set[str]:
    """Queues that an alarm on ApproximateNumberOfMessagesVisible watches."""
    watched = set()
    for alarm in cfn.get_resources(["AWS::CloudWatch::Alarm"]).values():
        properties = alarm.get("Properties", {})
        if properties.get("MetricName") != "ApproximateNumberOfMessagesVisible":
            continue
        for dimension in properties.get("Dimensions", []):
            if dimension.get("Name") == "QueueName":
                watched.add(referenced_logical_id(dimension.get("Value")))
    return watched


class SourceQueueHasDeadLetterQueueAndAlarm(CloudFormationLintRule):
    id = "E9002"
    shortdesc = "Source queue has a DLQ; the DLQ has an alarm"
    description = (
        "Each AWS::SQS::Queue that is not itself a dead-letter queue has a RedrivePolicy to a queue of "
        "this template, and each dead-letter queue has an alarm on ApproximateNumberOfMessagesVisible."
    )
    source_url = (
        "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html"
    )
    tags = ["house", "sqs"]

    def match(self, cfn):
        matches = []
        queues = cfn.get_resources(["AWS::SQS::Queue"])
        dead_letter_of = {}
        for name, queue in queues.items():
            redrive = queue.get("Properties", {}).get("RedrivePolicy", {})
            target = referenced_logical_id(redrive.get("deadLetterTargetArn")) if isinstance(redrive, dict) else None
            if target:
                dead_letter_of[target] = name
        alarmed = _alarmed_queues(cfn)
        for name in queues:
            if name in dead_letter_of:
                if name not in alarmed:
                    matches.append(
                        RuleMatch(
                            ["Resources", name],
                            f"Dead-letter queue {name} has no ApproximateNumberOfMessagesVisible alarm",
                        )
                    )
                continue
            target = next((t for t, source in dead_letter_of.items() if source == name), None)
            if target is None or target not in queues:
                matches.append(
                    RuleMatch(
                        ["Resources", name, "Properties"], f"Queue {name} has no dead-letter queue in this template"
                    )
                )
        return matches


class QueuesAndTopicsUseCustomerManagedKey(CloudFormationLintRule):
    id = "E9003"
    shortdesc = "Queues and topics are KMS-encrypted with the stack's key"
    description = (
        "Each AWS::SQS::Queue and AWS::SNS::Topic sets KmsMasterKeyId to an AWS::KMS::Key of this "
        "template (not SQS-managed encryption, not an AWS-managed alias)."
    )
    source_url = (
        "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-server-side-encryption.html"
    )
    tags = ["house", "kms", "sqs", "sns"]

    def match(self, cfn):
        matches = []
        resources = cfn.template.get("Resources", {})
        for name, resource in cfn.get_resources(["AWS::SQS::Queue", "AWS::SNS::Topic"]).items():
            key = referenced_logical_id(resource.get("Properties", {}).get("KmsMasterKeyId"))
            if key is None or resources.get(key, {}).get("Type") != "AWS::KMS::Key":
                matches.append(
                    RuleMatch(
                        ["Resources", name, "Properties"],
                        f"{resource['Type']} {name} must set KmsMasterKeyId to a KMS key of this template",
                    )
                )
        return matches
