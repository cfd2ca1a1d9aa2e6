"""Every policy the deployed stack holds, read from the template: what the evaluator judges with.

The template is loaded, translated by samtranslator and its conditions evaluated as the local
stack deploys it (cloudformation/template.py `translate`, cloudformation/conditions.py `resolved`:
the same parameters give the same resources, SAM's generated roles and policy templates
included), then each policy's intrinsics (Ref, Fn::GetAtt, Fn::Sub, Fn::Join, Fn::Select,
Fn::Split) are resolved to the names and ARNs the emulator's stack gives: a resource's physical
id from the deployed stack where one is given (`DeployedStack.resources`: the key's id, the
secret's ARN with its random suffix), else from its name property, which every named resource
of this template has. Account 123456789012 and the Region are the emulator's (aws/identity.py).

(lint_rules/preflight_iam.py has a resolver too, for cfn-lint: it runs file by file outside any
package, so the runtime cannot import it, and it names resources with fixed placeholders a
validator needs rather than the deployed stack's names.)

Read here:
- identity policies: each AWS::IAM::Role's inline `Policies` and its `ManagedPolicyArns`; an AWS
  managed policy (`arn:aws:iam::aws:policy/...`: AWSLambdaBasicExecutionRole,
  AWSXrayWriteOnlyAccess, ... which SAM attaches to a function without its own role) is the
  document AWS publishes, as moto ships it (moto/iam/aws_managed_policies.py, imported from AWS
  with each policy's version and date; moto is pinned in requirements/run.txt), not a copy kept
  here; a customer managed policy of the stack (AWS::IAM::ManagedPolicy) is read from the template;
- resource policies: AWS::SQS::QueuePolicy (each of its `Queues`), AWS::S3::BucketPolicy (the
  bucket and its objects), AWS::SNS::TopicPolicy (each of its `Topics`);
- key policies: each AWS::KMS::Key's KeyPolicy (and its aliases);
- trust policies: each role's AssumeRolePolicyDocument, the role's resource policy for sts:AssumeRole;
- which key encrypts what: a queue's or topic's KmsMasterKeyId, a table's SSESpecification,
  a bucket's default encryption, a secret's KmsKeyId (the implied KMS calls, requests.py).
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from moto.iam.aws_managed_policies import aws_managed_policies_data

from automation_local.aws.identity import ACCOUNT_ID, REGION
from automation_local.cloudformation.conditions import resolved
from automation_local.cloudformation.project import TEMPLATE_PATH
from automation_local.cloudformation.template import load_template, parameter_values, translate
from automation_local.iam.policy import Policy

PARTITION = "aws"
AWS_MANAGED_POLICY_PREFIX = f"arn:{PARTITION}:iam::aws:policy/"
# A key's id is random; without a deployed stack to name it, this stands for it.
TEMPLATE_KEY_ID = "00000000-0000-4000-8000-000000000000"
# Secrets Manager appends a hyphen and six random characters to a secret's name.
TEMPLATE_SECRET_SUFFIX = "-AbCdEf"  # noqa: S105  (a name's suffix, no secret)

# The random part of a name CloudFormation generates, without a deployed stack to tell it.
UNNAMED_SUFFIX = "LOCAL0000000"

# lint_rules/preflight_iam.py keeps the same table for its own resolver: cfn-lint loads those
# rules by path (.cfnlintrc's append_rules, in the SAM CLI's environment too), outside any
# installed package, so neither side can import the other.
NAME_PROPERTIES = {
    "AWS::SQS::Queue": "QueueName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::S3::Bucket": "BucketName",
    "AWS::DynamoDB::Table": "TableName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::IAM::Role": "RoleName",
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
    "AWS::SecretsManager::Secret": "Name",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::KMS::Alias": "AliasName",
    "AWS::SSM::Parameter": "Name",
}


class UnresolvableError(ValueError):
    """An intrinsic this reader has no value for (reported, never guessed)."""


@cache
def aws_managed_policy(arn: str) -> dict[str, Any]:
    """The document of an AWS managed policy as AWS publishes it (moto's import of them)."""
    name = arn.removeprefix(AWS_MANAGED_POLICY_PREFIX).rsplit("/", 1)[-1]
    return dict(json.loads(aws_managed_policies_data)[name]["Document"])


class _Resolver:
    def __init__(self, cfn: dict[str, Any], values: dict[str, str], physical_ids: Mapping[str, str]) -> None:
        self.resources: dict[str, Any] = cfn["Resources"]
        self.values = values
        self.physical_ids = physical_ids

    def name(self, logical_id: str) -> str:
        """The resource's physical name (a queue's name, not its URL; a key's id)."""
        kind = self.resources[logical_id]["Type"]
        physical = self.physical_ids.get(logical_id)
        if physical:
            if kind == "AWS::SQS::Queue":
                return physical.rsplit("/", 1)[-1]  # moto's physical id of a queue is its URL
            if kind in ("AWS::SNS::Topic", "AWS::SecretsManager::Secret", "AWS::IAM::ManagedPolicy"):
                return physical.split(":")[-1].rsplit("/", 1)[-1]
            return physical
        if kind == "AWS::KMS::Key":
            return TEMPLATE_KEY_ID
        prop = NAME_PROPERTIES.get(kind)
        if prop and prop in self.resources[logical_id].get("Properties", {}):
            return str(self.resolve(self.resources[logical_id]["Properties"][prop]))
        # CloudFormation names it <stack>-<logical id>-<random>; the deployed stack's physical id says which.
        return f"{self.values['AWS::StackName']}-{logical_id}-{UNNAMED_SUFFIX}"

    def arn(self, logical_id: str) -> str:
        kind = self.resources[logical_id]["Type"]
        prefix = f"arn:{PARTITION}"
        if kind == "AWS::SecretsManager::Secret":
            secret = f"{self.name(logical_id)}{TEMPLATE_SECRET_SUFFIX}"
            return self.physical_ids.get(logical_id) or f"{prefix}:secretsmanager:{REGION}:{ACCOUNT_ID}:secret:{secret}"
        name = self.name(logical_id)
        arns = {
            "AWS::SQS::Queue": f"{prefix}:sqs:{REGION}:{ACCOUNT_ID}:{name}",
            "AWS::SNS::Topic": f"{prefix}:sns:{REGION}:{ACCOUNT_ID}:{name}",
            "AWS::KMS::Key": f"{prefix}:kms:{REGION}:{ACCOUNT_ID}:key/{name}",
            "AWS::S3::Bucket": f"{prefix}:s3:::{name}",
            "AWS::DynamoDB::Table": f"{prefix}:dynamodb:{REGION}:{ACCOUNT_ID}:table/{name}",
            # CloudFormation's Arn of a log group ends in :* (its streams).
            "AWS::Logs::LogGroup": f"{prefix}:logs:{REGION}:{ACCOUNT_ID}:log-group:{name}:*",
            "AWS::IAM::Role": f"{prefix}:iam::{ACCOUNT_ID}:role/{name}",
            "AWS::IAM::ManagedPolicy": f"{prefix}:iam::{ACCOUNT_ID}:policy/{name}",
            "AWS::Lambda::Function": f"{prefix}:lambda:{REGION}:{ACCOUNT_ID}:function:{name}",
            "AWS::SSM::Parameter": f"{prefix}:ssm:{REGION}:{ACCOUNT_ID}:parameter/{name.lstrip('/')}",
        }
        if kind not in arns:
            raise UnresolvableError(f"no ARN known for {logical_id} ({kind})")
        return arns[kind]

    def ref(self, name: str) -> Any:
        if name in self.values:
            return self.values[name]
        if name not in self.resources:
            raise UnresolvableError(f"Ref {name}: neither a parameter nor a resource")
        kind = self.resources[name]["Type"]
        if kind == "AWS::SQS::Queue":
            return f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT_ID}/{self.name(name)}"
        if kind in ("AWS::SNS::Topic", "AWS::SecretsManager::Secret", "AWS::IAM::ManagedPolicy"):
            return self.arn(name)
        return self.name(name)

    def get_att(self, name: str, attribute: str) -> Any:
        if attribute == "Arn":
            return self.arn(name)
        kind = self.resources[name]["Type"]
        others = {
            ("AWS::SQS::Queue", "QueueName"): lambda: self.name(name),
            ("AWS::SQS::Queue", "QueueUrl"): lambda: self.ref(name),
            ("AWS::SNS::Topic", "TopicArn"): lambda: self.arn(name),
            ("AWS::SNS::Topic", "TopicName"): lambda: self.name(name),
            ("AWS::KMS::Key", "KeyId"): lambda: self.name(name),
        }
        if (kind, attribute) not in others:
            raise UnresolvableError(f"Fn::GetAtt {name}.{attribute} ({kind})")
        return others[(kind, attribute)]()

    def sub(self, text: str, variables: Mapping[str, Any]) -> str:
        def one(match: re.Match[str]) -> str:
            expression = match.group(1)
            if expression.startswith("!"):
                return "${" + expression[1:] + "}"  # ${!Literal} is the text ${Literal}
            if expression in variables:
                return str(variables[expression])
            if "." in expression and expression.split(".", 1)[0] in self.resources:
                return str(self.get_att(*expression.split(".", 1)))
            return str(self.ref(expression))

        return re.sub(r"\$\{([^}]+)\}", one, text)

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (function, argument), *_ = value.items()
            if function == "Ref":
                return self.ref(argument)
            if function == "Fn::GetAtt":
                name, attribute = argument if isinstance(argument, list) else argument.split(".", 1)
                return self.get_att(name, attribute)
            if function == "Fn::Sub":
                text, variables = (argument, {}) if isinstance(argument, str) else argument
                return self.sub(text, {k: self.resolve(v) for k, v in variables.items()})
            if function == "Fn::Join":
                separator, items = argument
                return separator.join(str(item) for item in self.resolve(items))
            if function == "Fn::Select":
                index, items = argument
                return self.resolve(items)[int(self.resolve(index))]
            if function == "Fn::Split":
                separator, text = argument
                return str(self.resolve(text)).split(separator)
            if function.startswith("Fn::"):
                raise UnresolvableError(f"{function} is not resolved here")
        return {key: self.resolve(item) for key, item in value.items()}


@dataclass
class StackPolicies:
    """The stack's policies by what they attach to, every ARN resolved."""

    identity: dict[str, list[Policy]] = field(default_factory=dict)  # role ARN -> its policies
    resource: dict[str, list[Policy]] = field(default_factory=dict)  # queue, topic or bucket ARN -> policies
    key: dict[str, Policy] = field(default_factory=dict)  # key ARN -> key policy
    encryption: dict[str, str] = field(default_factory=dict)  # queue, topic, table, bucket, secret ARN -> key ARN
    roles: dict[str, str] = field(default_factory=dict)  # role logical id -> role ARN
    arns: dict[str, str] = field(default_factory=dict)  # logical id -> ARN, of each resource that has one
    aliases: dict[str, str] = field(default_factory=dict)  # alias/name -> the key ARN it names

    def resource_policies(self, resource_arn: str) -> list[Policy]:
        """The resource policies that apply to `resource_arn` (an object's are its bucket's)."""
        if resource_arn.startswith(f"arn:{PARTITION}:s3:::"):
            resource_arn = resource_arn.split("/", 1)[0]
        return self.resource.get(resource_arn, [])

    def encryption_key(self, resource_arn: str) -> str | None:
        if resource_arn.startswith(f"arn:{PARTITION}:s3:::"):
            resource_arn = resource_arn.split("/", 1)[0]
        return self.encryption.get(resource_arn)


def _key_arn(resolver: _Resolver, key_reference: Any) -> str:
    """A KmsMasterKeyId/KMSMasterKeyId/KmsKeyId, resolved: the key's id, ARN or alias -> its ARN."""
    key = str(resolver.resolve(key_reference))
    if key.startswith("arn:"):
        return key
    return f"arn:{PARTITION}:kms:{REGION}:{ACCOUNT_ID}:key/{key}"


def stack_policies(
    cfn_template: dict[str, Any], parameters: Mapping[str, str] | None = None, physical_ids: Mapping[str, str] = {}
) -> StackPolicies:
    """The policies of a translated template as deployed with these parameters (`physical_ids`:
    the deployed stack's logical id -> physical id, where the emulator chose a name)."""
    values = parameter_values(cfn_template, dict(parameters or {}))
    template = resolved(cfn_template, values)
    stack_name = values.get("AWS::StackName", "automation-dev")
    pseudo = {
        "AWS::Region": REGION,
        "AWS::AccountId": ACCOUNT_ID,
        "AWS::Partition": PARTITION,
        "AWS::StackName": stack_name,
        "AWS::URLSuffix": "amazonaws.com",
    }
    resolver = _Resolver(template, {**values, **pseudo}, physical_ids)
    policies = StackPolicies()
    resources: dict[str, Any] = template["Resources"]
    for logical_id, resource in resources.items():
        kind, properties = resource["Type"], resource.get("Properties", {})
        with contextlib.suppress(UnresolvableError):  # not every resource has an ARN here (an alias, an API)
            policies.arns[logical_id] = resolver.arn(logical_id)
        if kind == "AWS::IAM::Role":
            role_arn = resolver.arn(logical_id)
            policies.roles[logical_id] = role_arn
            role_policies = [
                Policy(f"{logical_id}/{p['PolicyName']}", resolver.resolve(p["PolicyDocument"]))
                for p in properties.get("Policies", [])
            ]
            for managed in resolver.resolve(properties.get("ManagedPolicyArns", [])):
                if managed.startswith(AWS_MANAGED_POLICY_PREFIX):
                    role_policies.append(Policy(managed.rsplit("/", 1)[-1], aws_managed_policy(managed)))
            policies.identity[role_arn] = role_policies
            # Its trust policy is the role's resource policy: who may sts:AssumeRole it.
            trust = resolver.resolve(properties["AssumeRolePolicyDocument"])
            policies.resource[role_arn] = [Policy(f"{logical_id}/AssumeRolePolicyDocument", trust, "resource")]
        elif kind == "AWS::KMS::Key":
            policies.key[resolver.arn(logical_id)] = Policy(
                logical_id, resolver.resolve(properties["KeyPolicy"]), "key"
            )
        elif kind == "AWS::KMS::Alias":
            policies.aliases[resolver.resolve(properties["AliasName"])] = _key_arn(resolver, properties["TargetKeyId"])
        elif kind == "AWS::SQS::QueuePolicy":
            document = resolver.resolve(properties["PolicyDocument"])
            for url in resolver.resolve(properties["Queues"]):
                name = str(url).rsplit("/", 1)[-1]
                arn = f"arn:{PARTITION}:sqs:{REGION}:{ACCOUNT_ID}:{name}"
                policies.resource.setdefault(arn, []).append(Policy(logical_id, document, "resource"))
        elif kind == "AWS::SNS::TopicPolicy":
            document = resolver.resolve(properties["PolicyDocument"])
            for arn in resolver.resolve(properties["Topics"]):
                policies.resource.setdefault(str(arn), []).append(Policy(logical_id, document, "resource"))
        elif kind == "AWS::S3::BucketPolicy":
            bucket = resolver.resolve(properties["Bucket"])
            policies.resource.setdefault(f"arn:{PARTITION}:s3:::{bucket}", []).append(
                Policy(logical_id, resolver.resolve(properties["PolicyDocument"]), "resource")
            )
    for policy_id, resource in resources.items():  # customer managed policies, by the roles they name
        if resource["Type"] == "AWS::IAM::ManagedPolicy":
            properties = resource["Properties"]
            document = resolver.resolve(properties["PolicyDocument"])
            for role in resolver.resolve(properties.get("Roles", [])):
                role_arn = f"arn:{PARTITION}:iam::{ACCOUNT_ID}:role/{role}"
                policies.identity.setdefault(role_arn, []).append(Policy(policy_id, document))
    _read_encryption(resources, resolver, policies)
    return policies


def _read_encryption(resources: dict[str, Any], resolver: _Resolver, policies: StackPolicies) -> None:
    for logical_id, resource in resources.items():
        kind, properties = resource["Type"], resource.get("Properties", {})
        key: Any = None
        if kind in ("AWS::SQS::Queue", "AWS::SNS::Topic"):
            key = properties.get("KmsMasterKeyId")
        elif kind == "AWS::DynamoDB::Table":
            sse = properties.get("SSESpecification", {})
            key = sse.get("KMSMasterKeyId") if sse.get("SSEType") == "KMS" else None
        elif kind == "AWS::S3::Bucket":
            rules = properties.get("BucketEncryption", {}).get("ServerSideEncryptionConfiguration", [])
            defaults = [rule.get("ServerSideEncryptionByDefault", {}) for rule in rules]
            key = next((d.get("KMSMasterKeyID") for d in defaults if d.get("SSEAlgorithm") == "aws:kms"), None)
        elif kind == "AWS::SecretsManager::Secret":
            key = properties.get("KmsKeyId")
        if key is not None:
            policies.encryption[resolver.arn(logical_id)] = _key_arn(resolver, key)


def template_stack_policies(
    parameters: Mapping[str, str] | None = None,
    *,
    template_path: Path = TEMPLATE_PATH,
    stack_name: str = "automation-dev",
    physical_ids: Mapping[str, str] = {},
) -> StackPolicies:
    """template.yaml's policies, translated as the local runtime deploys it."""
    template = load_template(template_path)
    values = parameter_values(template, dict(parameters or {}))
    cfn = translate(template, values, stack_name=stack_name)
    return stack_policies(cfn, {**values, "AWS::StackName": stack_name}, physical_ids)
