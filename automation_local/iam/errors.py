"""The error each service answers on AWS for a call IAM refuses: code, HTTP status, body shape.

A client must meet locally the error it meets on AWS, in the shape its SDK parses: botocore reads
a JSON protocol's code from `__type` (the part after `#`), or from `x-amzn-query-error` where a
service moved from the query protocol to JSON and keeps its old codes (SQS); a query or REST-XML
protocol's from `<Code>`. Sources, per service:

- SQS, JSON protocol: 403, `x-amzn-query-error: AccessDenied;Sender` and a `__type` body
  (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-json-api-responses.html
  gives the structure; AccessDenied is SQS's code for a refusal, 403, in its query protocol, and
  SDKs report it as `AccessDenied` over JSON too: https://repost.aws/knowledge-center/sqs-accessdenied-errors);
  the key behind the queue refused: 400 `KMS.AccessDeniedException` (the same page's example, and
  SQS's modelled `KmsAccessDenied` error, botocore's sqs service model). Over the query protocol the
  same codes in SQS's XML `ErrorResponse`.
- DynamoDB: 400 `AccessDeniedException` (JSON 1.0; https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.Errors.html,
  "AccessDeniedException ... HTTP 400"); the table's key refused: also AccessDeniedException (DynamoDB
  models no KMS error of its own).
- S3: 403 `AccessDenied`, REST XML `<Error>` (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html);
  the bucket's key refused: the same 403 AccessDenied naming the kms action.
- SNS: 403 `AuthorizationError` (botocore's sns model, AuthorizationErrorException: code
  AuthorizationError, 403); the topic's key refused: 400 `KMSAccessDenied` (KMSAccessDeniedException
  in the same model).
- KMS, SSM, Secrets Manager, CloudWatch Logs: 400 `AccessDeniedException`, JSON 1.1 (each API
  reference's Common Errors: https://docs.aws.amazon.com/kms/latest/APIReference/CommonErrors.html
  "AccessDeniedException ... HTTP Status Code: 400"); Secrets Manager refused the secret's key:
  400 AccessDeniedException "Access to KMS is not allowed".
- STS, CloudFormation (query protocols): 403 `AccessDenied` in an XML `ErrorResponse`.

The message is AWS's: `User: <caller ARN> is not authorized to perform: <action> on resource:
<ARN> because no identity-based policy allows the <action> action` (or `with an explicit deny in
a resource-based policy`, ...), https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from xml.sax.saxutils import escape

from automation_local.iam.policy import Decision

COMMON_ERROR = "com.amazon.coral.service#AccessDeniedException"
QUERY_NAMESPACES = {
    "sqs": "http://queue.amazonaws.com/doc/2012-11-05/",
    "sns": "http://sns.amazonaws.com/doc/2010-03-31/",
    "sts": "https://sts.amazonaws.com/doc/2011-06-15/",
    "cloudformation": "http://cloudformation.amazonaws.com/doc/2010-05-15/",
}
JSON_VERSIONS = {"sqs": "1.0", "dynamodb": "1.0", "kms": "1.1", "ssm": "1.1", "secretsmanager": "1.1", "logs": "1.1"}


@dataclass(frozen=True)
class ErrorResponse:
    status: int
    code: str  # the code the SDK reports (botocore's Error.Code)
    headers: tuple[tuple[str, str], ...]
    body: bytes

    @property
    def status_line(self) -> str:
        reasons = {400: "Bad Request", 403: "Forbidden"}
        return f"{self.status} {reasons[self.status]}"


def denial_message(decision: Decision) -> str:
    request = decision.request
    caller = request.caller_arn or request.principal_arn
    action, resource = request.action, request.resource
    return f"User: {caller} is not authorized to perform: {action} on resource: {resource} {decision.reason()}"


def _json(
    status: int, code: str, type_name: str, message: str, version: str, extra: tuple[tuple[str, str], ...] = ()
) -> ErrorResponse:
    request_id = str(uuid.uuid4())
    body = json.dumps({"__type": type_name, "message": message}).encode()
    headers = (
        ("Content-Type", f"application/x-amz-json-{version}"),
        ("x-amzn-RequestId", request_id),
        *extra,
        ("Content-Length", str(len(body))),
    )
    return ErrorResponse(status, code, headers, body)


def _query_xml(status: int, code: str, message: str, namespace: str) -> ErrorResponse:
    request_id = str(uuid.uuid4())
    body = (
        f'<?xml version="1.0"?><ErrorResponse xmlns="{namespace}"><Error><Type>Sender</Type>'
        f"<Code>{code}</Code><Message>{escape(message)}</Message><Detail/></Error>"
        f"<RequestId>{request_id}</RequestId></ErrorResponse>"
    ).encode()
    headers = (("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id), ("Content-Length", str(len(body))))
    return ErrorResponse(status, code, headers, body)


def _s3_xml(message: str) -> ErrorResponse:
    request_id = uuid.uuid4().hex[:16].upper()
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>'
        f"<Message>{escape(message)}</Message><RequestId>{request_id}</RequestId><HostId></HostId></Error>"
    ).encode()
    headers = (
        ("Content-Type", "application/xml"),
        ("x-amz-request-id", request_id),
        ("Content-Length", str(len(body))),
    )
    return ErrorResponse(403, "AccessDenied", headers, body)


def error_response(service: str, decision: Decision, *, json_protocol: bool, via_kms: bool = False) -> ErrorResponse:
    """What `service` answers on AWS when `decision` refuses a call its request needs. `via_kms`:
    the refused call is the key's, made by the service for the caller; `json_protocol`: the request
    came over a JSON protocol (SQS speaks both)."""
    message = denial_message(decision)
    if service == "sqs":
        code, status = ("KMS.AccessDeniedException", 400) if via_kms else ("AccessDenied", 403)
        if not json_protocol:
            return _query_xml(status, code, message, QUERY_NAMESPACES["sqs"])
        type_name = "com.amazonaws.sqs#KmsAccessDenied" if via_kms else COMMON_ERROR
        return _json(status, code, type_name, message, "1.0", (("x-amzn-query-error", f"{code};Sender"),))
    if service == "s3":
        return _s3_xml(message)
    if service == "sns":
        if via_kms:
            return _query_xml(400, "KMSAccessDenied", message, QUERY_NAMESPACES["sns"])
        return _query_xml(403, "AuthorizationError", message, QUERY_NAMESPACES["sns"])
    if service == "secretsmanager" and via_kms:
        return _json(400, "AccessDeniedException", "AccessDeniedException", "Access to KMS is not allowed", "1.1")
    if service in JSON_VERSIONS:
        type_name = COMMON_ERROR if service == "dynamodb" else "AccessDeniedException"
        return _json(400, "AccessDeniedException", type_name, message, JSON_VERSIONS[service])
    if service in QUERY_NAMESPACES:
        return _query_xml(403, "AccessDenied", message, QUERY_NAMESPACES[service])
    return _json(403, "AccessDeniedException", "AccessDeniedException", message, "1.1")


UNKNOWN_CALLER_MESSAGE = "The security token included in the request is invalid."


def unknown_caller_response(service: str, *, json_protocol: bool) -> ErrorResponse:
    """What `service` answers a request signed with a key no principal holds (before any policy):
    the JSON services 400 `UnrecognizedClientException`
    (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.Errors.html), the
    query ones 403 `InvalidClientTokenId` (SQS keeps that code over JSON, in x-amzn-query-error), S3
    403 `InvalidAccessKeyId` (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html)."""
    if service == "s3":
        request_id = uuid.uuid4().hex[:16].upper()
        message = "The AWS Access Key Id you provided does not exist in our records."
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InvalidAccessKeyId</Code>'
            f"<Message>{message}</Message><RequestId>{request_id}</RequestId><HostId></HostId></Error>"
        ).encode()
        headers = (("Content-Type", "application/xml"), ("x-amz-request-id", request_id))
        return ErrorResponse(403, "InvalidAccessKeyId", (*headers, ("Content-Length", str(len(body)))), body)
    if service == "sqs" and json_protocol:
        query_error = (("x-amzn-query-error", "InvalidClientTokenId;Sender"),)
        type_name = "com.amazon.coral.service#UnrecognizedClientException"
        return _json(403, "InvalidClientTokenId", type_name, UNKNOWN_CALLER_MESSAGE, "1.0", query_error)
    if service in JSON_VERSIONS:
        type_name = "com.amazon.coral.service#UnrecognizedClientException"
        return _json(400, "UnrecognizedClientException", type_name, UNKNOWN_CALLER_MESSAGE, JSON_VERSIONS[service])
    namespace = QUERY_NAMESPACES.get(service, QUERY_NAMESPACES["sts"])
    return _query_xml(403, "InvalidClientTokenId", UNKNOWN_CALLER_MESSAGE, namespace)
