"""An emulator HTTP request, read as IAM reads it: who calls, and which actions on which resources it needs.

The input is the request as moto's server receives it (method, path with its query, headers,
body), in each protocol this stack's clients speak: SQS's JSON protocol (`X-Amz-Target:
AmazonSQS.SendMessage`, and its older query protocol), DynamoDB's, KMS's, SSM's, Secrets
Manager's and CloudWatch Logs' JSON protocols, S3's REST API (path-style, as botocore addresses
an emulator at an IP address), Lambda's REST API (the calls the runtime makes), and the query
protocols of SNS, STS and CloudFormation.

The caller is the access key id of the SigV4 `Authorization` header
(`Credential=<key id>/<date>/<region>/<service>/aws4_request`). Which role a key belongs to is
the emulator's: its STS AssumeRole records each session's keys (moto/sts/models.py,
`assumed_roles`), and moto's own enforcement finds a role's session the same way
(moto/iam/access_control.py, `AssumedRoleAccessKey`): `moto_principal` reads it there.

Each request needs one or more calls (action, resource, condition context): a batch needs the
action of its entries (`SendMessageBatch` is authorised as `sqs:SendMessage`), a transaction the
action of each item, and a call to a resource encrypted with a KMS key needs the key too, with the
caller's own permissions and `kms:ViaService` naming the service
(https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service):
- SQS (SSE-KMS): a producer needs kms:GenerateDataKey and kms:Decrypt, a consumer kms:Decrypt
  (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html),
  encryption context `aws:sqs:arn`;
- SNS: a publisher to an encrypted topic needs kms:GenerateDataKey* and kms:Decrypt
  (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html), context `aws:sns:topicArn`;
- S3 (SSE-KMS by the bucket's default): PutObject kms:GenerateDataKey, GetObject/HeadObject
  kms:Decrypt (https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html);
  context `aws:s3:arn` of the bucket (the bucket's S3 Bucket Key is on in this template);
- Secrets Manager: GetSecretValue kms:Decrypt, PutSecretValue/CreateSecret kms:GenerateDataKey
  (https://docs.aws.amazon.com/secretsmanager/latest/userguide/security-encryption.html), context
  `SecretARN`;
- DynamoDB: kms:Decrypt with the caller's permissions on every read and write of a table with a
  customer managed key. DynamoDB really calls KMS for the table key only when it has none cached
  (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/encryption.howitworks.html),
  so a missing grant fails some calls, not every one; judging every call is the strict reading
  (a role that can read the table on AWS for minutes and then not is the same defect).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from automation_local.aws.identity import ACCOUNT_ID, REGION
from automation_local.iam.policy import ContextValue

PARTITION = "aws"
CREDENTIAL = re.compile(r"Credential=([^/]+)/[^/]+/[^/]+/([^/]+)/aws4_request")
# X-Amz-Target prefix -> service (IAM's prefix).
TARGET_SERVICES = {
    "AmazonSQS": "sqs",
    "DynamoDB_20120810": "dynamodb",
    "TrentService": "kms",
    "AmazonSSM": "ssm",
    "secretsmanager": "secretsmanager",
    "Logs_20140328": "logs",
}
# Operations authorised by another action's name (the batch APIs).
SQS_ACTIONS = {
    "SendMessageBatch": "SendMessage",
    "DeleteMessageBatch": "DeleteMessage",
    "ChangeMessageVisibilityBatch": "ChangeMessageVisibility",
}
DYNAMODB_TRANSACT_ACTIONS = {"ConditionCheck": "ConditionCheckItem", "Put": "PutItem", "Delete": "DeleteItem"}
DYNAMODB_TRANSACT_ACTIONS |= {"Update": "UpdateItem", "Get": "GetItem"}
# Operations that need no authorisation at all.
UNAUTHORISED = {("sts", "GetCallerIdentity")}
# Implied key actions: (service, IAM action) -> the KMS actions the caller needs on the resource's key.
IMPLIED_KEY_ACTIONS: dict[tuple[str, str], tuple[str, ...]] = {
    ("sqs", "sqs:SendMessage"): ("kms:GenerateDataKey", "kms:Decrypt"),
    ("sqs", "sqs:ReceiveMessage"): ("kms:Decrypt",),
    ("sns", "sns:Publish"): ("kms:GenerateDataKey", "kms:Decrypt"),
    ("s3", "s3:PutObject"): ("kms:GenerateDataKey",),
    ("s3", "s3:GetObject"): ("kms:Decrypt",),
    ("secretsmanager", "secretsmanager:GetSecretValue"): ("kms:Decrypt",),
    ("secretsmanager", "secretsmanager:PutSecretValue"): ("kms:GenerateDataKey",),
    ("secretsmanager", "secretsmanager:CreateSecret"): ("kms:GenerateDataKey",),
}
DYNAMODB_DATA_ACTIONS = {"GetItem", "PutItem", "UpdateItem", "DeleteItem", "BatchGetItem", "BatchWriteItem"}
DYNAMODB_DATA_ACTIONS |= {"Query", "Scan", "ConditionCheckItem"}
# The encryption context each service gives KMS, by the resource it encrypts.
ENCRYPTION_CONTEXT_KEYS = {"sqs": "aws:sqs:arn", "sns": "aws:sns:topicArn", "s3": "aws:s3:arn"}


@dataclass(frozen=True)
class EmulatorRequest:
    """An HTTP request as the emulator's server receives it. `secure_transport`: whether it counts
    as TLS (aws:SecureTransport): the emulator's loopback http does; a request marked insecure not."""

    method: str
    path: str  # with its query string
    headers: Mapping[str, str]
    body: bytes = b""
    secure_transport: bool = True

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((value for key, value in self.headers.items() if key.lower() == wanted), None)


@dataclass(frozen=True)
class Call:
    """One action on one resource that a request needs. `via`: the service that makes a KMS call
    on the caller's behalf (None: the caller's own call)."""

    action: str
    resource: str
    context: Mapping[str, ContextValue] = field(default_factory=dict)
    via: str | None = None


@dataclass(frozen=True)
class ParsedRequest:
    service: str
    operation: str
    access_key_id: str | None
    calls: tuple[Call, ...]  # the service's own actions first, then the implied KMS calls


# Access key id -> (principal ARN, caller ARN): a role and its session; None for a key no one holds.
PrincipalLookup = Callable[[str], tuple[str, str] | None]


class ResourceNames(Protocol):
    """What the request alone does not say: a secret's full ARN (its random suffix), a key's ARN
    from an alias or id, and which key encrypts a resource (template_policies.StackPolicies)."""

    def secret_arn(self, secret_id: str) -> str: ...

    def key_arn(self, key_id: str) -> str: ...

    def encryption_key(self, resource_arn: str) -> str | None: ...


@dataclass
class StackResourceNames:
    """ResourceNames from the stack's policies and the account's secrets (name -> ARN)."""

    encryption: Mapping[str, str]
    secrets: Mapping[str, str] = field(default_factory=dict)
    aliases: Mapping[str, str] = field(default_factory=dict)  # alias/name -> key ARN

    def secret_arn(self, secret_id: str) -> str:
        if secret_id.startswith("arn:"):
            return secret_id
        return self.secrets.get(secret_id, f"arn:{PARTITION}:secretsmanager:{REGION}:{ACCOUNT_ID}:secret:{secret_id}")

    def key_arn(self, key_id: str) -> str:
        if key_id.startswith("arn:") and ":alias/" not in key_id:
            return key_id
        alias = key_id.split(":")[-1]
        if alias.startswith("alias/"):
            return self.aliases.get(alias, f"arn:{PARTITION}:kms:{REGION}:{ACCOUNT_ID}:{alias}")
        return f"arn:{PARTITION}:kms:{REGION}:{ACCOUNT_ID}:key/{key_id}"

    def encryption_key(self, resource_arn: str) -> str | None:
        if resource_arn.startswith(f"arn:{PARTITION}:s3:::"):
            resource_arn = resource_arn.split("/", 1)[0]
        return self.encryption.get(resource_arn)


def access_key_id(request: EmulatorRequest) -> str | None:
    found = CREDENTIAL.search(request.header("Authorization") or "")
    if found:
        return found.group(1)
    query = parse_qs(urlsplit(request.path).query)  # a presigned URL
    credential = query.get("X-Amz-Credential", [""])[0]
    return credential.split("/", 1)[0] or None


def moto_principal(key_id: str) -> tuple[str, str] | None:
    """(role ARN, session ARN) of an emulator STS session's access key, None for another key.
    Runs inside the emulator's server process, where moto's backends live."""
    from moto.sts.models import sts_backends  # the emulator's process only: its backends

    for assumed in sts_backends[ACCOUNT_ID][PARTITION].assumed_roles:
        if assumed.access_key_id == key_id:
            return assumed.role_arn, assumed.arn
    return None


def _queue_arn(url_or_name: str) -> str:
    """A queue URL (any host: AWS's or the emulator's) or name -> the queue's ARN."""
    parts = [part for part in urlsplit(url_or_name).path.split("/") if part]
    account, name = (parts[-2], parts[-1]) if len(parts) >= 2 else (ACCOUNT_ID, url_or_name)
    return f"arn:{PARTITION}:sqs:{REGION}:{account}:{name}"


def _table_arn(table: str, index: str | None = None) -> str:
    arn = table if table.startswith("arn:") else f"arn:{PARTITION}:dynamodb:{REGION}:{ACCOUNT_ID}:table/{table}"
    return f"{arn}/index/{index}" if index else arn


def _parameter_arn(name: str) -> str:
    return (
        name if name.startswith("arn:") else f"arn:{PARTITION}:ssm:{REGION}:{ACCOUNT_ID}:parameter/{name.lstrip('/')}"
    )


def _log_arn(group: str, stream: str | None = None) -> str:
    arn = f"arn:{PARTITION}:logs:{REGION}:{ACCOUNT_ID}:log-group:{group}"
    return f"{arn}:log-stream:{stream}" if stream is not None else arn


def _sqs(operation: str, params: Mapping[str, Any]) -> list[Call]:
    action = f"sqs:{SQS_ACTIONS.get(operation, operation)}"
    if operation == "StartMessageMoveTask":
        # The task reads, deletes and counts the source's messages and sends them on, as the caller.
        source = params["SourceArn"]
        calls = [Call(action, source)] + [
            Call(f"sqs:{a}", source) for a in ("ReceiveMessage", "DeleteMessage", "GetQueueAttributes")
        ]
        if params.get("DestinationArn"):
            calls.append(Call("sqs:SendMessage", params["DestinationArn"]))
        return calls
    if operation in ("ListMessageMoveTasks", "CancelMessageMoveTask"):
        return [Call(action, params.get("SourceArn") or "*")]
    if operation == "ListQueues":
        return [Call(action, "*")]
    if "QueueUrl" in params:
        return [Call(action, _queue_arn(params["QueueUrl"]))]
    if "QueueName" in params:
        return [Call(action, _queue_arn(params["QueueName"]))]
    return [Call(action, "*")]


def _dynamodb(operation: str, params: Mapping[str, Any]) -> list[Call]:
    if operation in ("BatchGetItem", "BatchWriteItem"):
        return [Call(f"dynamodb:{operation}", _table_arn(table)) for table in params.get("RequestItems", {})]
    if operation in ("TransactWriteItems", "TransactGetItems"):
        calls = []
        for item in params.get("TransactItems", []):
            for kind, body in item.items():
                calls.append(Call(f"dynamodb:{DYNAMODB_TRANSACT_ACTIONS[kind]}", _table_arn(body["TableName"])))
        return calls
    if "TableName" in params:
        return [Call(f"dynamodb:{operation}", _table_arn(params["TableName"], params.get("IndexName")))]
    return [Call(f"dynamodb:{operation}", "*")]


def _kms(operation: str, params: Mapping[str, Any], names: ResourceNames) -> list[Call]:
    key = params.get("KeyId")
    if key is None and "CiphertextBlob" in params:
        key = _ciphertext_key_id(params["CiphertextBlob"])
    return [Call(f"kms:{operation}", names.key_arn(key) if key else "*")]


def _ciphertext_key_id(blob: str) -> str | None:
    """The emulator's ciphertext begins with its key's 36-character id (moto/kms/utils.py,
    CIPHERTEXT_HEADER_FORMAT); AWS's format is opaque, and so is a blob this cannot read."""
    try:
        head = base64.b64decode(blob)[:36].decode("ascii")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return head if re.fullmatch(r"[0-9a-f-]{36}", head) else None


def _ssm(operation: str, params: Mapping[str, Any]) -> list[Call]:
    names = params.get("Names") or [params.get("Name") or params.get("Path")]
    return [Call(f"ssm:{operation}", _parameter_arn(name) if name else "*") for name in names]


def _secretsmanager(operation: str, params: Mapping[str, Any], names: ResourceNames) -> list[Call]:
    secret = params.get("SecretId") or params.get("Name")
    return [Call(f"secretsmanager:{operation}", names.secret_arn(secret) if secret else "*")]


def _logs(operation: str, params: Mapping[str, Any]) -> list[Call]:
    group = params.get("logGroupName")
    if not group:
        return [Call(f"logs:{operation}", "*")]
    # Stream actions name the stream; the `:*` a log group's Arn ends in covers its streams.
    stream = params.get("logStreamName")
    return [Call(f"logs:{operation}", _log_arn(group, stream))]


def _query_service(service: str, operation: str, params: Mapping[str, str]) -> list[Call]:
    if service == "sqs":
        return _sqs(operation, params)
    if service == "sns":
        return [Call(f"sns:{operation}", params.get("TopicArn") or params.get("TargetArn") or "*")]
    if service == "sts":
        return [Call(f"sts:{operation}", params.get("RoleArn") or "*")]
    if service == "cloudformation" and params.get("StackName"):
        stack = params["StackName"]
        arn = (
            stack
            if stack.startswith("arn:")
            else f"arn:{PARTITION}:cloudformation:{REGION}:{ACCOUNT_ID}:stack/{stack}/*"
        )
        return [Call(f"cloudformation:{operation}", arn)]
    return [Call(f"{service}:{operation}", "*")]


def _s3(request: EmulatorRequest) -> tuple[str, list[Call]]:
    """S3's REST API, path-style: /bucket[/key][?subresource]."""
    split = urlsplit(request.path)
    bucket, _, key = unquote(split.path).lstrip("/").partition("/")
    query = parse_qs(split.query, keep_blank_values=True)
    method = request.method.upper()
    bucket_arn = f"arn:{PARTITION}:s3:::{bucket}"
    if not bucket:
        return "ListBuckets", [Call("s3:ListAllMyBuckets", "*")]
    if key:
        object_arn = f"{bucket_arn}/{key}"
        if method in ("GET", "HEAD"):
            operation = "GetObject" if method == "GET" else "HeadObject"
            return operation, [Call("s3:GetObject", object_arn)]  # HeadObject is authorised as GetObject
        if method == "PUT":
            calls = [Call("s3:PutObject", object_arn)]
            source = request.header("x-amz-copy-source")
            if source:  # a copy reads its source as the caller
                calls.append(Call("s3:GetObject", f"arn:{PARTITION}:s3:::{unquote(source).lstrip('/')}"))
            return ("CopyObject" if source else "PutObject"), calls
        if method == "DELETE":
            return "DeleteObject", [Call("s3:DeleteObject", object_arn)]
        return f"{method} object", [Call(f"s3:{method}", object_arn)]
    if method == "POST" and "delete" in query:
        return "DeleteObjects", [Call("s3:DeleteObject", f"{bucket_arn}/*")]
    if method in ("GET", "HEAD"):
        if "versions" in query:
            return "ListObjectVersions", [Call("s3:ListBucketVersions", bucket_arn)]
        if "location" in query:
            return "GetBucketLocation", [Call("s3:GetBucketLocation", bucket_arn)]
        return ("ListObjects" if method == "GET" else "HeadBucket"), [Call("s3:ListBucket", bucket_arn)]
    if method == "PUT":
        if "policy" in query:
            return "PutBucketPolicy", [Call("s3:PutBucketPolicy", bucket_arn)]
        return "CreateBucket", [Call("s3:CreateBucket", bucket_arn)]
    if method == "DELETE":
        return "DeleteBucket", [Call("s3:DeleteBucket", bucket_arn)]
    return f"{method} bucket", [Call(f"s3:{method}", bucket_arn)]


# Lambda's REST API (botocore's lambda model, API version 2015-03-31): (method, path after the
# version, as a pattern) -> (operation, IAM action, what the resource is). The runtime reads the
# deployed functions and mappings through it (lambda_/functions.py, lambda_/esm/poller.py).
LAMBDA_ROUTES: tuple[tuple[str, re.Pattern[str], str, str], ...] = tuple(
    (method, re.compile(pattern), operation, action)
    for method, pattern, operation, action in (
        ("GET", r"/functions/?", "ListFunctions", "lambda:ListFunctions"),
        ("GET", r"/functions/(?P<function>[^/]+)", "GetFunction", "lambda:GetFunction"),
        (
            "GET",
            r"/functions/(?P<function>[^/]+)/configuration",
            "GetFunctionConfiguration",
            "lambda:GetFunctionConfiguration",
        ),
        ("POST", r"/functions/(?P<function>[^/]+)/invocations", "Invoke", "lambda:InvokeFunction"),
        ("GET", r"/event-source-mappings/?", "ListEventSourceMappings", "lambda:ListEventSourceMappings"),
        ("GET", r"/event-source-mappings/(?P<mapping>[^/]+)", "GetEventSourceMapping", "lambda:GetEventSourceMapping"),
        (
            "PUT",
            r"/event-source-mappings/(?P<mapping>[^/]+)",
            "UpdateEventSourceMapping",
            "lambda:UpdateEventSourceMapping",
        ),
    )
)
LAMBDA_API_VERSION = "/2015-03-31"


def _lambda(request: EmulatorRequest) -> tuple[str, list[Call]]:
    """Lambda's REST API: a function by its name or ARN (a qualifier after `:` dropped), a mapping
    by its UUID (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awslambda.html)."""
    path = unquote(urlsplit(request.path).path).removeprefix(LAMBDA_API_VERSION)
    method = request.method.upper()
    prefix = f"arn:{PARTITION}:lambda:{REGION}:{ACCOUNT_ID}"
    for route_method, pattern, operation, action in LAMBDA_ROUTES:
        found = pattern.fullmatch(path) if method == route_method else None
        if found is None:
            continue
        parameters = found.groupdict()
        if "function" in parameters:
            name = parameters["function"]
            name = name.split(":")[6] if name.startswith("arn:") else name.split(":")[0]
            return operation, [Call(action, f"{prefix}:function:{name}")]
        if "mapping" in parameters:
            return operation, [Call(action, f"{prefix}:event-source-mapping:{parameters['mapping']}")]
        return operation, [Call(action, "*")]
    return f"{method} {path}", [Call(f"lambda:{method}", "*")]


def _implied_key_calls(service: str, calls: list[Call], names: ResourceNames) -> list[Call]:
    implied = []
    for call in calls:
        actions = IMPLIED_KEY_ACTIONS.get((service, call.action), ())
        if service == "dynamodb" and call.action.split(":", 1)[1] in DYNAMODB_DATA_ACTIONS:
            actions = ("kms:Decrypt",)
        key = names.encryption_key(call.resource) if actions else None
        if key is None:
            continue
        context: dict[str, ContextValue] = {
            "kms:ViaService": f"{service}.{REGION}.amazonaws.com",
            "kms:CallerAccount": ACCOUNT_ID,
        }
        encryption_context = _encryption_context(service, call.resource)
        for name, value in encryption_context.items():
            context[f"kms:EncryptionContext:{name}"] = value
        context["kms:EncryptionContextKeys"] = list(encryption_context)
        for action in actions:
            implied.append(Call(action, key, context, via=service))
    return implied


def _encryption_context(service: str, resource: str) -> dict[str, str]:
    if service in ENCRYPTION_CONTEXT_KEYS:
        if service == "s3":
            resource = resource.split("/", 1)[0]  # the bucket's S3 Bucket Key: the bucket's ARN
        return {ENCRYPTION_CONTEXT_KEYS[service]: resource}
    if service == "secretsmanager":
        return {"SecretARN": resource}
    if service == "dynamodb":
        table = resource.split(":table/", 1)[-1].split("/", 1)[0]
        return {"aws:dynamodb:tableName": table, "aws:dynamodb:subscriberId": ACCOUNT_ID}
    return {}


def _form(request: EmulatorRequest) -> dict[str, str]:
    """A query protocol's parameters: the form body's and the URL query's (first of each)."""
    fields = parse_qs(urlsplit(request.path).query)
    content_type = request.header("Content-Type") or ""
    if content_type.startswith("application/x-www-form-urlencoded"):
        fields.update(parse_qs(request.body.decode("utf-8", "replace")))
    return {name: values[0] for name, values in fields.items()}


def parse_request(request: EmulatorRequest, names: ResourceNames) -> ParsedRequest:
    """The calls `request` needs (module docstring). A request this reader does not know is one
    call of `service:Operation` on `*`, so a policy still judges it (and a narrow one refuses it)."""
    key_id = access_key_id(request)
    credential = CREDENTIAL.search(request.header("Authorization") or "")
    signing_service = credential.group(2) if credential else None
    target = request.header("X-Amz-Target")
    calls: list[Call]
    if target:
        prefix, _, operation = target.rpartition(".")
        service = TARGET_SERVICES.get(prefix, signing_service or prefix.lower())
        params: dict[str, Any] = json.loads(request.body or b"{}")
        if service == "sqs":
            calls = _sqs(operation, params)
        elif service == "dynamodb":
            calls = _dynamodb(operation, params)
        elif service == "kms":
            calls = _kms(operation, params, names)
        elif service == "ssm":
            calls = _ssm(operation, params)
        elif service == "secretsmanager":
            calls = _secretsmanager(operation, params, names)
        elif service == "logs":
            calls = _logs(operation, params)
        else:
            calls = [Call(f"{service}:{operation}", "*")]
    elif signing_service == "s3":
        service = "s3"
        operation, calls = _s3(request)
    elif signing_service == "lambda":
        service = "lambda"
        operation, calls = _lambda(request)
    else:
        service = signing_service or "unsigned"
        form = _form(request)
        operation = form.get("Action", request.method.upper())
        calls = _query_service(service, operation, form)
    if (service, operation) in UNAUTHORISED:
        calls = []
    calls += _implied_key_calls(service, calls, names)
    return ParsedRequest(service, operation, key_id, tuple(calls))
