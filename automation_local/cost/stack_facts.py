"""What the stack itself costs a month and what sizes its usage, read from the SAM template.

The resources billed by the month (the KMS key, the alarms and their metrics, the
dashboard, the secrets, the mappings' idle pollers and their metrics), each function's
MemorySize, the log retention, the queues' KMS data key reuse period and the principals
that send to and receive from each encrypted queue. Parameters are the template's defaults,
overridden by a deployed stack's values or by a samconfig.toml config-env's
`parameter_overrides` (`--config-env prod`).
"""

from __future__ import annotations

import shlex
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from automation_local.cloudformation.project import TEMPLATE_PATH
from automation_local.cloudformation.template import load_template

SENDS = ("sqs:SendMessage", "sqs:SendMessageBatch", "sqs:*")
RECEIVES = ("sqs:ReceiveMessage", "sqs:*")
DYNAMODB_ACTION = "dynamodb:"
FUNCTION_NAMES = {"WebhookFunction": "webhook", "WorkerFunction": "worker", "FeedbackFunction": "feedback"}


@dataclass
class StackFacts:
    memory_mb: dict[str, int] = field(default_factory=dict)  # webhook/worker/feedback -> MemorySize
    traced: dict[str, bool] = field(default_factory=dict)
    kms_keys: int = 0
    alarms: int = 0
    alarm_metrics: int = 0
    dashboards: int = 0
    stack_secrets: int = 0  # created by the stack (the webhook's signing secret)
    cmk_secret_names: list[str] = field(default_factory=list)  # the stack's secrets a CMK encrypts
    integration_secrets: int = 0  # the operators create them (one template parameter each)
    mappings: int = 0
    mappings_with_event_count_metrics: int = 0
    log_retention_days: int = 30
    kms_data_key_reuse_seconds: int = 300
    queue_principals: dict[str, tuple[int, int]] = field(default_factory=dict)  # queue -> (producers, consumers)
    table_principals: int = 0  # roles that read or write the encrypted table
    email_subscriptions: int = 0
    parameters: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def referenced(value: Any) -> set[str]:
    """Logical ids a value refers to (Ref, Fn::GetAtt, ${Name} in Fn::Sub)."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref" and isinstance(inner, str):
                found.add(inner)
            elif key == "Fn::GetAtt":
                found.add(inner[0] if isinstance(inner, list) else str(inner).split(".")[0])
            elif key == "Fn::Sub":
                text = inner[0] if isinstance(inner, list) else inner
                found |= {part.split("}")[0].split(".")[0] for part in str(text).split("${")[1:]}
                if isinstance(inner, list):
                    found |= referenced(inner[1:])
            else:
                found |= referenced(inner)
    elif isinstance(value, list):
        for inner in value:
            found |= referenced(inner)
    return found


def config_env_parameters(samconfig: Path, config_env: str) -> dict[str, str]:
    """A samconfig.toml config-env's deploy parameter_overrides (NAME=VALUE, quoted or not)."""
    config = tomllib.loads(samconfig.read_text())
    if config_env not in config:
        raise KeyError(f"{samconfig.name} has no config-env {config_env!r} (it has {', '.join(config)})")
    overrides = config[config_env].get("deploy", {}).get("parameters", {}).get("parameter_overrides", "")
    return dict(item.partition("=")[::2] for item in shlex.split(overrides))


def _statements(role: dict[str, Any]) -> list[dict[str, Any]]:
    policies = role.get("Properties", {}).get("Policies", [])
    return [s for p in policies for s in p["PolicyDocument"]["Statement"] if s.get("Effect") == "Allow"]


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement.get("Action", [])
    return action if isinstance(action, list) else [action]


def stack_facts(template: dict[str, Any] | None = None, parameters: dict[str, str] | None = None) -> StackFacts:
    template = template if template is not None else load_template(TEMPLATE_PATH)
    values = {name: str(p.get("Default", "")) for name, p in template.get("Parameters", {}).items()}
    values.update({k: str(v) for k, v in (parameters or {}).items() if k in values})
    resources = template["Resources"]
    globals_function = template.get("Globals", {}).get("Function", {})
    facts = StackFacts(parameters=values)
    facts.log_retention_days = int(values.get("LogRetentionDays") or 30)
    facts.kms_data_key_reuse_seconds = int(values.get("KmsDataKeyReusePeriodSeconds") or 300)
    facts.integration_secrets = sum(1 for name in values if name.endswith("SecretName"))
    for logical_id, resource in resources.items():
        kind, properties = resource["Type"], resource.get("Properties", {})
        if kind == "AWS::Serverless::Function" and logical_id in FUNCTION_NAMES:
            name = FUNCTION_NAMES[logical_id]
            facts.memory_mb[name] = int(properties.get("MemorySize", globals_function.get("MemorySize", 128)))
            facts.traced[name] = properties.get("Tracing", globals_function.get("Tracing")) == "Active"
        elif kind == "AWS::KMS::Key":
            facts.kms_keys += 1
        elif kind == "AWS::CloudWatch::Alarm":
            facts.alarms += 1
            metrics = properties.get("Metrics")
            facts.alarm_metrics += sum(1 for m in metrics if "MetricStat" in m) if metrics else 1
        elif kind == "AWS::CloudWatch::Dashboard":
            facts.dashboards += 1
        elif kind == "AWS::SecretsManager::Secret":
            facts.stack_secrets += 1
            if properties.get("KmsKeyId"):
                facts.cmk_secret_names.append(_resolve_name(properties.get("Name"), values))
        elif kind == "AWS::Lambda::EventSourceMapping":
            facts.mappings += 1
            if "EventCount" in properties.get("MetricsConfig", {}).get("Metrics", []):
                facts.mappings_with_event_count_metrics += 1
        elif kind == "AWS::SNS::Subscription" and properties.get("Protocol") == "email":
            condition = resource.get("Condition")
            facts.email_subscriptions += int(condition != "HasAlertEmail" or bool(values.get("AlertEmail")))
    encrypted_queues: dict[str, list[set[str]]] = {
        name: [set(), set()]
        for name, resource in resources.items()
        if resource["Type"] == "AWS::SQS::Queue" and "KmsMasterKeyId" in resource.get("Properties", {})
    }
    tables = {name for name, r in resources.items() if r["Type"] == "AWS::DynamoDB::Table"}
    for role_name, role in resources.items():
        if role["Type"] != "AWS::IAM::Role":
            continue
        uses_table = False
        for statement in _statements(role):
            actions = _actions(statement)
            targets = referenced(statement.get("Resource"))
            for queue in targets & encrypted_queues.keys():
                if any(a in SENDS for a in actions):
                    encrypted_queues[queue][0].add(role_name)
                if any(a in RECEIVES for a in actions):
                    encrypted_queues[queue][1].add(role_name)
            uses_table |= bool(targets & tables) and any(a.startswith(DYNAMODB_ACTION) for a in actions)
        facts.table_principals += int(uses_table)
    facts.queue_principals = {queue: (len(p), len(c)) for queue, (p, c) in sorted(encrypted_queues.items()) if p or c}
    return facts


def _resolve_name(name: Any, values: dict[str, str]) -> str:
    """A resource name from a template (`!Sub ${ProjectName}/${Environment}/webhook-secret`)."""
    if isinstance(name, dict) and "Fn::Sub" in name and isinstance(name["Fn::Sub"], str):
        text = name["Fn::Sub"]
        for key, value in values.items():
            text = text.replace("${" + key + "}", value)
        return text
    return str(name)
