"""Deploy preflight, IAM: every policy document is one IAM and KMS accept, and the key policy keeps the account in.

cfn-lint loads this directory file by file, outside any package: this file imports nothing
from its siblings; the resolver both rules use lives here.

Each policy document (the roles' trust and inline policies, managed and standalone policies,
the queue, topic and bucket policies, the key policy) is first resolved the way
CloudFormation would with the parameters' defaults, in us-east-1 of account 123456789012:
Ref, Fn::GetAtt, Fn::Sub, Fn::Join, Fn::If (conditions evaluated), Fn::Select and Fn::Split
become the ARNs, names and URLs those resources really have (a queue's Ref is its URL, a log
group's Arn ends in `:*`, a bucket's has no Region or account).

- E9006 the resolved document passes parliament (https://github.com/duo-labs/parliament, pinned
  in requirements/dev.txt), which checks it offline against its bundled IAM definition: every
  action exists (a misspelt `sqs:SendMesage` is an error IAM only reports at deploy time, or
  never, for an inline policy), every resource ARN is well formed and of a type the action
  applies to, conditions and principals are known, Sids are unique. Parliament's opinions on
  least privilege (RESOURCE_STAR and RESOURCE_EFFECTIVELY_STAR) are left to the role matrix
  test, which holds the exact grants. Parliament 1.6.4's definition dates from April 2025: an
  action AWS added since is reported as unknown until parliament is updated (or the action
  waived here with its source). Policies SAM generates (a function's `Policies`) are not in
  the template cfn-lint shows the rules; every function here has its own role.
- E9007 each KMS key policy keeps the account's root: an unconditional Allow statement for the
  principal `arn:${AWS::Partition}:iam::${AWS::AccountId}:root` (or the account id) with
  `kms:*` (or at least kms:PutKeyPolicy) on `*`, and no Deny that takes kms:PutKeyPolicy back.
  PutKeyPolicy (and CreateKey) refuse a policy that would lock the account out of its key
  (https://docs.aws.amazon.com/kms/latest/APIReference/API_PutKeyPolicy.html, the policy
  lockout safety check; https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html).
"""

from __future__ import annotations

import fnmatch
import json
import warnings
from functools import cache
from typing import Any

from cfnlint.rules import CloudFormationLintRule, RuleMatch

REGION = "us-east-1"
ACCOUNT = "123456789012"
PARTITION = "aws"
STACK_NAME = "automation-dev"
KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
MAPPING_UUID = "a1b2c3d4-5678-90ab-cdef-11111EXAMPLE"
API_ID = "a1b2c3d4e5"
PSEUDO = {
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT,
    "AWS::Partition": PARTITION,
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::StackName": STACK_NAME,
    "AWS::StackId": f"arn:{PARTITION}:cloudformation:{REGION}:{ACCOUNT}:stack/{STACK_NAME}/{KEY_ID}",
    "AWS::NotificationARNs": [],
}
NO_VALUE = object()

# Logical id -> the property holding the physical name (else CloudFormation generates one).
NAME_PROPERTIES = {
    "AWS::SQS::Queue": "QueueName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::S3::Bucket": "BucketName",
    "AWS::DynamoDB::Table": "TableName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::IAM::Role": "RoleName",
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
    "AWS::SecretsManager::Secret": "Name",
    "AWS::Serverless::Function": "FunctionName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::Serverless::LayerVersion": "LayerName",
    "AWS::Lambda::LayerVersion": "LayerName",
    "AWS::KMS::Alias": "AliasName",
    "AWS::SSM::Parameter": "Name",
    "AWS::CloudWatch::Alarm": "AlarmName",
}

# Parliament findings that are opinions on least privilege rather than errors IAM or KMS raise.
IGNORED_FINDINGS = {"RESOURCE_STAR", "RESOURCE_EFFECTIVELY_STAR"}


class UnresolvableError(Exception):
    """An intrinsic the resolver has no realistic value for: reported, never guessed."""


class Resolver:
    """Resolves a template's intrinsics to the values a deployment with the defaults would have."""

    def __init__(self, template: dict[str, Any]) -> None:
        self.parameters = template.get("Parameters", {}) or {}
        self.resources = template.get("Resources", {}) or {}
        self.conditions = template.get("Conditions", {}) or {}

    # -------------------------------------------------- names, Ref and GetAtt
    def physical_name(self, logical_id: str) -> str:
        resource = self.resources[logical_id]
        key = NAME_PROPERTIES.get(resource.get("Type", ""))
        value = resource.get("Properties", {}).get(key) if key else None
        if value is not None:
            resolved = self.resolve(value)
            if isinstance(resolved, str):
                return resolved
        return f"{STACK_NAME}-{logical_id}-1A2B3C4D5E6F"

    def ref(self, name: str) -> Any:
        if name in PSEUDO:
            return PSEUDO[name]
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.parameters:
            parameter = self.parameters[name]
            if "Default" not in parameter:
                raise UnresolvableError(f"parameter {name} has no default")
            default = parameter["Default"]
            if (
                str(parameter.get("Type", "String")).startswith("List<")
                or parameter.get("Type") == "CommaDelimitedList"
            ):
                return [item.strip() for item in str(default).split(",")]
            return str(default)
        if name not in self.resources:
            raise UnresolvableError(f"Ref to {name}, which is neither a parameter nor a resource")
        kind = self.resources[name].get("Type", "")
        physical = self.physical_name(name)
        if kind == "AWS::SQS::Queue":
            return f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{physical}"
        if kind == "AWS::SNS::Topic":
            return f"arn:{PARTITION}:sns:{REGION}:{ACCOUNT}:{physical}"
        if kind == "AWS::KMS::Key":
            return KEY_ID
        if kind == "AWS::SecretsManager::Secret":
            return self._secret_arn(physical)
        if kind == "AWS::Lambda::EventSourceMapping":
            return MAPPING_UUID
        if kind in ("AWS::Serverless::HttpApi", "AWS::ApiGatewayV2::Api"):
            return API_ID
        if kind in ("AWS::Serverless::LayerVersion", "AWS::Lambda::LayerVersion"):
            return f"arn:{PARTITION}:lambda:{REGION}:{ACCOUNT}:layer:{physical}:1"
        if kind == "AWS::IAM::ManagedPolicy":
            return f"arn:{PARTITION}:iam::{ACCOUNT}:policy/{physical}"
        return physical

    @staticmethod
    def _secret_arn(name: str) -> str:
        """Secrets Manager appends a hyphen and six random characters to the name."""
        return f"arn:{PARTITION}:secretsmanager:{REGION}:{ACCOUNT}:secret:{name}-a1B2c3"

    def get_att(self, name: str, attribute: str) -> Any:
        if name not in self.resources:
            raise UnresolvableError(f"Fn::GetAtt of {name}, which is not a resource")
        kind = self.resources[name].get("Type", "")
        physical = self.physical_name(name)
        arns = {
            "AWS::SQS::Queue": f"arn:{PARTITION}:sqs:{REGION}:{ACCOUNT}:{physical}",
            "AWS::SNS::Topic": f"arn:{PARTITION}:sns:{REGION}:{ACCOUNT}:{physical}",
            "AWS::KMS::Key": f"arn:{PARTITION}:kms:{REGION}:{ACCOUNT}:key/{KEY_ID}",
            "AWS::S3::Bucket": f"arn:{PARTITION}:s3:::{physical}",
            "AWS::DynamoDB::Table": f"arn:{PARTITION}:dynamodb:{REGION}:{ACCOUNT}:table/{physical}",
            # A log group's Arn attribute ends in :* (the log streams), as CloudFormation returns it.
            "AWS::Logs::LogGroup": f"arn:{PARTITION}:logs:{REGION}:{ACCOUNT}:log-group:{physical}:*",
            "AWS::IAM::Role": f"arn:{PARTITION}:iam::{ACCOUNT}:role/{physical}",
            "AWS::Serverless::Function": f"arn:{PARTITION}:lambda:{REGION}:{ACCOUNT}:function:{physical}",
            "AWS::Lambda::Function": f"arn:{PARTITION}:lambda:{REGION}:{ACCOUNT}:function:{physical}",
            "AWS::SecretsManager::Secret": self._secret_arn(physical),
        }
        others = {
            ("AWS::SQS::Queue", "QueueName"): physical,
            ("AWS::SQS::Queue", "QueueUrl"): f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{physical}",
            ("AWS::SNS::Topic", "TopicArn"): arns["AWS::SNS::Topic"],
            ("AWS::SNS::Topic", "TopicName"): physical,
            ("AWS::KMS::Key", "KeyId"): KEY_ID,
            ("AWS::DynamoDB::Table", "StreamArn"): f"{arns['AWS::DynamoDB::Table']}/stream/2026-01-01T00:00:00.000",
            ("AWS::SecretsManager::Secret", "Id"): arns["AWS::SecretsManager::Secret"],
            ("AWS::IAM::Role", "RoleId"): "AROAEXAMPLEROLEID1234",
        }
        if attribute == "Arn" and kind in arns:
            return arns[kind]
        if (kind, attribute) in others:
            return others[(kind, attribute)]
        raise UnresolvableError(f"Fn::GetAtt {name}.{attribute} ({kind}) has no realistic value here")

    # -------------------------------------------------- conditions and intrinsics
    def condition(self, name: str) -> bool:
        if name not in self.conditions:
            raise UnresolvableError(f"condition {name} is not defined")
        return self.truth(self.conditions[name])

    def truth(self, value: Any) -> bool:
        if isinstance(value, dict) and len(value) == 1:
            (function, argument), *_ = value.items()
            if function == "Fn::Equals":
                left, right = (self.resolve(a) for a in argument)
                return str(left) == str(right)
            if function == "Fn::Not":
                return not self.truth(argument[0])
            if function == "Fn::And":
                return all(self.truth(a) for a in argument)
            if function == "Fn::Or":
                return any(self.truth(a) for a in argument)
            if function == "Condition":
                return self.condition(argument)
        raise UnresolvableError(f"cannot evaluate the condition {value!r}")

    def sub(self, text: str, variables: dict[str, Any]) -> str:
        out, index = [], 0
        while True:
            start = text.find("${", index)
            if start == -1:
                out.append(text[index:])
                return "".join(out)
            end = text.find("}", start)
            if end == -1:
                raise UnresolvableError(f"unclosed ${{ in {text!r}")
            out.append(text[index:start])
            variable = text[start + 2 : end]
            if variable.startswith("!"):
                out.append("${" + variable[1:] + "}")
            elif variable in variables:
                out.append(str(self.resolve(variables[variable])))
            elif "." in variable and not variable.startswith("AWS::"):
                logical_id, attribute = variable.split(".", 1)
                out.append(str(self.get_att(logical_id, attribute)))
            else:
                out.append(str(self.ref(variable)))
            index = end + 1

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            items = [self.resolve(v) for v in value]
            return [i for i in items if i is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (function, argument), *_ = value.items()
            if function == "Ref":
                return self.ref(argument)
            if function == "Fn::GetAtt":
                logical_id, attribute = argument.split(".", 1) if isinstance(argument, str) else argument
                return self.get_att(logical_id, attribute)
            if function == "Fn::Sub":
                if isinstance(argument, str):
                    return self.sub(argument, {})
                return self.sub(argument[0], argument[1])
            if function == "Fn::Join":
                separator, parts = argument
                return str(separator).join(str(p) for p in self.resolve(parts))
            if function == "Fn::If":
                name, when_true, when_false = argument
                return self.resolve(when_true if self.condition(name) else when_false)
            if function == "Fn::Select":
                index, items = argument
                return self.resolve(items)[int(self.resolve(index))]
            if function == "Fn::Split":
                separator, text = argument
                return str(self.resolve(text)).split(separator)
            if function.startswith("Fn::") or function == "Condition":
                raise UnresolvableError(f"{function} is not resolved here")
        resolved = {k: self.resolve(v) for k, v in value.items()}
        return {k: v for k, v in resolved.items() if v is not NO_VALUE}


# ------------------------------------------------------------------ where the policy documents are
def policy_documents(resources: dict[str, Any]) -> list[tuple[list[str | int], Any]]:
    """(path, document) of every IAM policy document of the template."""
    found: list[tuple[list[str | int], Any]] = []
    single = {
        "AWS::IAM::Policy": "PolicyDocument",
        "AWS::IAM::ManagedPolicy": "PolicyDocument",
        "AWS::SQS::QueuePolicy": "PolicyDocument",
        "AWS::SNS::TopicPolicy": "PolicyDocument",
        "AWS::S3::BucketPolicy": "PolicyDocument",
        "AWS::KMS::Key": "KeyPolicy",
        "AWS::SecretsManager::ResourcePolicy": "ResourcePolicy",
    }
    for logical_id, resource in resources.items():
        if not isinstance(resource, dict):
            continue
        kind = resource.get("Type")
        properties = resource.get("Properties", {}) or {}
        base: list[str | int] = ["Resources", logical_id, "Properties"]
        if kind in single and single[kind] in properties:
            found.append(([*base, single[kind]], properties[single[kind]]))
        if kind == "AWS::IAM::Role":
            if "AssumeRolePolicyDocument" in properties:
                found.append(([*base, "AssumeRolePolicyDocument"], properties["AssumeRolePolicyDocument"]))
            for index, policy in enumerate(properties.get("Policies", []) or []):
                if isinstance(policy, dict) and "PolicyDocument" in policy:
                    found.append(([*base, "Policies", index, "PolicyDocument"], policy["PolicyDocument"]))
    return found


def plain(value: Any) -> Any:
    """cfn-lint's decoded nodes as plain JSON values."""
    return json.loads(json.dumps(value, default=str))


@cache
def parliament_analyze() -> Any:
    """parliament's analyze_policy_string; parliament 1.6 imports pkg_resources (setuptools < 81)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from parliament import analyze_policy_string
    return analyze_policy_string


# Findings about the whole document; the others are read per statement, to name the statement.
DOCUMENT_FINDINGS = {"DUPLICATE_SID", "NO_VERSION", "INVALID_VERSION", "OLD_VERSION", "MALFORMED_JSON", "EXCEPTION"}

# Statements AWS documents as they are, on which parliament's definitions disagree with the
# service: CloudWatch Logs' key policy statement
# (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html) compares
# kms:EncryptionContext:aws:logs:arn (a String key in the IAM definitions) with ArnEquals and
# grants kms:Describe*, whose DescribeKey carries no encryption context. Waived only for a
# statement whose only condition key is that one, and only these two findings.
DOCUMENTED_EXCEPTIONS = {
    "kms:EncryptionContext:aws:logs:arn": {"MISMATCHED_TYPE", "UNKNOWN_CONDITION_FOR_ACTION"},
}


def _condition_keys(statement: dict[str, Any]) -> set[str]:
    condition = statement.get("Condition")
    if not isinstance(condition, dict):
        return set()
    return {key for block in condition.values() if isinstance(block, dict) for key in block}


def _waived(statement: dict[str, Any], issue: str) -> bool:
    keys = _condition_keys(statement)
    return len(keys) == 1 and issue in DOCUMENTED_EXCEPTIONS.get(next(iter(keys)), set())


def _describe(finding: Any) -> str:
    where = finding.location.get("string") if isinstance(finding.location, dict) else None
    return f"{finding.issue}: {finding.detail}" + (f" ({where})" if where and where not in str(finding.detail) else "")


class PolicyDocumentsPassParliament(CloudFormationLintRule):
    id = "E9006"
    shortdesc = "IAM policy documents use real actions and well-formed ARNs (parliament)"
    description = (
        "Each policy document (role trust and inline policies, queue, topic and bucket policies, key policy), "
        "with its intrinsics resolved to realistic ARNs, passes parliament's checks of actions, resource ARN "
        "formats and types, principals and conditions."
    )
    source_url = "https://github.com/duo-labs/parliament"
    tags = ["house", "preflight", "iam"]

    def match(self, cfn):
        matches = []
        try:
            analyze = parliament_analyze()
        except ImportError as error:
            return [
                RuleMatch(["Resources"], f"parliament is not installed ({error}): pip install -r requirements/dev.txt")
            ]
        resolver = Resolver(cfn.template)
        for path, document in policy_documents(cfn.template.get("Resources", {})):
            label = "/".join(map(str, path[1:]))
            try:
                resolved = resolver.resolve(plain(document))
                if isinstance(resolved, str):
                    resolved = json.loads(resolved)
                if path[-1] == "AssumeRolePolicyDocument":
                    resolved = _with_role_as_resource(resolved, resolver.get_att(str(path[1]), "Arn"))
            except (UnresolvableError, TypeError, ValueError, KeyError, IndexError) as error:
                matches.append(RuleMatch(path, f"Policy {label} cannot be resolved to check it: {error}"))
                continue
            for message in self._findings(analyze, resolved):
                matches.append(RuleMatch(path, f"Policy {label}: {message}"))
        return matches

    @staticmethod
    def _findings(analyze: Any, document: Any) -> list[str]:
        def run(policy: Any) -> list[Any]:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return analyze(json.dumps(policy), ignore_private_auditors=True).findings

        whole = run(document)
        statements = document.get("Statement") if isinstance(document, dict) else None
        if not isinstance(statements, (list, dict)):
            return [_describe(f) for f in whole if f.issue not in IGNORED_FINDINGS]
        messages = [_describe(f) for f in whole if f.issue in DOCUMENT_FINDINGS]
        for number, statement in enumerate(_listed(statements)):
            single = {"Version": document.get("Version", "2012-10-17"), "Statement": [statement]}
            sid = statement.get("Sid", number) if isinstance(statement, dict) else number
            # One message per kind of finding and statement (a wrong condition key is one
            # finding per action an `sqs:*` covers).
            by_issue: dict[str, list[str]] = {}
            for finding in run(single):
                if finding.issue in IGNORED_FINDINGS | DOCUMENT_FINDINGS:
                    continue
                if isinstance(statement, dict) and _waived(statement, finding.issue):
                    continue
                by_issue.setdefault(finding.issue, []).append(_describe(finding))
            for described in by_issue.values():
                more = f" (and {len(described) - 1} more like it)" if len(described) > 1 else ""
                messages.append(f"statement {sid}: {described[0]}{more}")
        return messages


def _with_role_as_resource(document: Any, role_arn: str) -> Any:
    """A trust policy names no Resource (its resource is the role): parliament is given the role's ARN."""
    if not isinstance(document, dict):
        return document
    statements = [
        {**s, "Resource": role_arn} if isinstance(s, dict) and "Resource" not in s and "NotResource" not in s else s
        for s in _listed(document.get("Statement", []))
    ]
    return {**document, "Statement": statements}


# ------------------------------------------------------------------ the key policy keeps the account's root
def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _covers(patterns: list[Any], action: str) -> bool:
    return any(isinstance(p, str) and fnmatch.fnmatchcase(action.lower(), p.lower()) for p in patterns)


def _root_principal(principal: Any) -> bool:
    if not isinstance(principal, dict):
        return False
    roots = {f"arn:{PARTITION}:iam::{ACCOUNT}:root", ACCOUNT}
    return any(p in roots for p in _listed(principal.get("AWS")))


class KeyPolicyKeepsTheAccountRoot(CloudFormationLintRule):
    id = "E9007"
    shortdesc = "KMS key policy keeps the account's root"
    description = (
        "Each AWS::KMS::Key's KeyPolicy has an unconditional Allow for the account's root "
        "(arn:${AWS::Partition}:iam::${AWS::AccountId}:root) with kms:* (or kms:PutKeyPolicy) on *, and no Deny "
        "that takes kms:PutKeyPolicy away from it: "
        "CreateKey and PutKeyPolicy refuse a policy that locks the account out."
    )
    source_url = "https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html"
    tags = ["house", "preflight", "kms"]

    def match(self, cfn):
        matches = []
        resolver = Resolver(cfn.template)
        for name, key in cfn.get_resources(["AWS::KMS::Key"]).items():
            path = ["Resources", name, "Properties", "KeyPolicy"]
            try:
                policy = resolver.resolve(plain(key.get("Properties", {}).get("KeyPolicy", {})))
                if isinstance(policy, str):
                    policy = json.loads(policy)
            except (UnresolvableError, TypeError, ValueError, KeyError, IndexError) as error:
                matches.append(RuleMatch(path, f"Key policy of {name} cannot be resolved to check it: {error}"))
                continue
            statements = _listed(policy.get("Statement", [])) if isinstance(policy, dict) else []
            keeps_root = any(
                s.get("Effect") == "Allow"
                and _root_principal(s.get("Principal"))
                and _covers(_listed(s.get("Action", [])), "kms:PutKeyPolicy")
                and "*" in _listed(s.get("Resource", []))
                and not s.get("Condition")
                for s in statements
                if isinstance(s, dict)
            )
            takes_back = [
                s.get("Sid", "?")
                for s in statements
                if isinstance(s, dict)
                and s.get("Effect") == "Deny"
                and (s.get("Principal") == "*" or _root_principal(s.get("Principal")) or "NotPrincipal" in s)
                and (_covers(_listed(s.get("Action", [])), "kms:PutKeyPolicy") or "NotAction" in s)
                and not s.get("Condition")
            ]
            if not keeps_root:
                matches.append(
                    RuleMatch(
                        path,
                        f"Key policy of {name} has no unconditional Allow of kms:* (or kms:PutKeyPolicy) on * for the "
                        "account's root (arn:${AWS::Partition}:iam::${AWS::AccountId}:root): KMS refuses a policy "
                        "that locks the account out",
                    )
                )
            if takes_back:
                matches.append(
                    RuleMatch(path, f"Key policy of {name}: Deny statements {takes_back} take kms:PutKeyPolicy back")
                )
        return matches
