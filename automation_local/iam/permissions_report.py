"""The least-privilege report (`automation-local permissions`, issue 20): what each role of the stack
used in a run with IAM enforced, against every statement it holds.

Read from two things the emulator keeps (aws/iam_gate.py): the configuration it judges with (the
deployed stack's resolved policies, emulator_judge.configuration) and its record of decisions, each
naming the statements that allowed or refused a call (`Policy#Sid`, or `Policy#<index>` without a
Sid). So the report needs no second reading of the template: a statement is used when some
decision names it.

Per role: every (action, resource) it was allowed, with its calls (an S3 object's key shown up to
its first folder, `bucket/payloads/*`: a run writes one object per order, and the folder is what a
statement grants), each call refused, and each statement of its policies, used or not; then the
statements of the resource policies (queues, bucket, topic, the roles' trust policies) and of the
key policy, the same way. For a used statement, the actions in it no call used are shown too (a
hint, not a failure: `OrderRecords` granting GetItem for a redelivery the run had none of).

A statement nothing used is a grant no path of the run needs, unless `UNDRIVEN_STATEMENTS` names
the AWS path that needs it and why no local run drives it (the log and tracing statements: Lambda's
log delivery and the X-Ray daemon are not emulated; the statements for CloudWatch's and CloudWatch
Logs' service principals; the TLS-only Deny statements). The table is kept here, short, with its
reasons, so a statement added to the template without a path shows up as unexplained. A Deny
grants nothing: an unused one is listed, with its reason if the table has one, and never fails
the report. The report fails (`passed` false, the command's exit 1) on any refused call and on any
unused Allow the table does not explain.
"""

from __future__ import annotations

import fnmatch
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from rich.console import Console
from rich.table import Table

from automation_local.iam.policy import action_matches

WIDE_LINES = 180


@dataclass(frozen=True)
class UndrivenPath:
    """The AWS path that needs a statement no local run uses, and why no run drives it; `fifo_only`:
    it explains the statement only on FIFO queues (on standard ones the demo load uses it)."""

    needed_by: str
    not_driven: str
    fifo_only: bool = False


# (policy name pattern, Sid) -> its path. A role's policy is named `<RoleLogicalId>/<PolicyName>`.
UNDRIVEN_STATEMENTS: dict[tuple[str, str], UndrivenPath] = {
    ("*Role/*", "WriteOwnLogs"): UndrivenPath(
        "Lambda's log delivery: the Lambda service writes each invocation's output to the function's log"
        " group with its execution role (logs:CreateLogStream, logs:PutLogEvents)",
        "not emulated: the local sandboxes write their log files themselves; no CloudWatch Logs call is made",
    ),
    ("*Role/*", "Tracing"): UndrivenPath(
        "active tracing: the X-Ray daemon in the function's environment sends its segments with the"
        " execution role (xray:PutTraceSegments, xray:PutTelemetryRecords)",
        "not emulated: no X-Ray daemon runs locally (the log's XRAY line is written, nothing is sent)",
    ),
    ("EncryptionKey", "CloudWatchAlarmsPublishToEncryptedTopic"): UndrivenPath(
        "a CloudWatch alarm publishing to the KMS-encrypted alert topic: cloudwatch.amazonaws.com uses the key",
        "no alarm is evaluated locally (CloudWatch metrics and alarms are not emulated)",
    ),
    ("EncryptionKey", "CloudWatchLogsEncryptStackLogGroups"): UndrivenPath(
        "CloudWatch Logs (logs.<region>.amazonaws.com) encrypting and reading the stack's log groups' events",
        "not emulated: the local logs are files, no log group receives events",
    ),
    ("AlertTopicPolicy", "CloudWatchAlarmsPublish"): UndrivenPath(
        "a CloudWatch alarm (queue depth, age, errors) publishing to the alert topic as cloudwatch.amazonaws.com",
        "no alarm is evaluated locally (CloudWatch metrics and alarms are not emulated)",
    ),
    ("*", "DenyNonTlsAccess"): UndrivenPath(
        "a request over plain http (aws:SecureTransport false): the statement refuses it",
        "every local request counts as TLS (tests/e2e/test_iam_enforced.py shows a send marked insecure refused)",
    ),
    ("*", "DenyNonTlsPublish"): UndrivenPath(
        "a publish over plain http (aws:SecureTransport false): the statement refuses it",
        "every local request counts as TLS",
    ),
    # FIFO mode (README, "FIFO mode"): the worker holds a failed order in its group itself.
    ("FeedbackRole/*", "RequeueOrders"): UndrivenPath(
        "on FIFO queues, a requeue result from a worker of a standard deployment (results in flight when a"
        " stack changes queue type): feedback sends the order to the end of its user's group",
        "a FIFO run's worker requeues by holding the order's message; the demo load has no standard worker",
        fifo_only=True,
    ),
    ("FeedbackRole/*", "ReturnRefusedResults"): UndrivenPath(
        "on FIFO queues, a result the contract refuses: feedback returns it to the result queue at once",
        "the demo load writes the messages the contract refuses to the order queue only",
        fifo_only=True,
    ),
}


def undriven_path(policy: str, sid: str | None, *, fifo: bool = False) -> UndrivenPath | None:
    """The path that explains this statement's being unused, in a run on FIFO queues or not."""
    return next(
        (
            path
            for (pattern, wanted), path in UNDRIVEN_STATEMENTS.items()
            if sid == wanted and fnmatch.fnmatchcase(policy, pattern) and (fifo or not path.fifo_only)
        ),
        None,
    )


def shown_resource(arn: str) -> str:
    """An S3 object's ARN up to its key's first folder (`arn:aws:s3:::bucket/year=2026/*`); others as they are."""
    if not arn.startswith("arn:aws:s3:::") or "/" not in arn:
        return arn
    bucket, _, key = arn.partition("/")
    folder, slash, _rest = key.partition("/")
    return f"{bucket}/{folder}/*" if slash else arn


def _listed(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


@dataclass
class StatementUse:
    """One statement of one policy and the calls it decided in the run."""

    policy: str
    index: int
    sid: str | None
    effect: str
    kind: str  # identity, resource, key
    actions: list[str]
    attached_to: list[str] = field(default_factory=list)  # a resource or key policy's resources
    calls: int = 0
    used_by: list[str] = field(default_factory=list)  # principals whose calls it decided
    unused_actions: list[str] = field(default_factory=list)  # of a used statement: no call used these
    undriven: UndrivenPath | None = None

    @property
    def ref(self) -> str:
        """As the decisions name it (policy.StatementRef)."""
        return f"{self.policy}#{self.sid or self.index}"

    @property
    def used(self) -> bool:
        return self.calls > 0

    @property
    def unexplained(self) -> bool:
        return not self.used and self.effect == "Allow" and self.undriven is None

    @property
    def state(self) -> str:
        if self.used:
            return "used"
        if self.undriven is not None:
            return "unused, explained"
        return "unused (a Deny)" if self.effect == "Deny" else "UNUSED, unexplained"

    def as_dict(self) -> dict[str, Any]:
        document = asdict(self)
        document.update(statement=self.ref, state=self.state)
        return document


@dataclass(frozen=True)
class CallUse:
    action: str
    resource: str  # shown_resource
    calls: int
    resources: int  # distinct ARNs behind `resource` (objects of one folder)


@dataclass
class RoleReport:
    logical_id: str
    arn: str
    used: list[CallUse]
    refused: list[CallUse]
    statements: list[StatementUse]

    def as_dict(self) -> dict[str, Any]:
        return {
            "role": self.logical_id,
            "arn": self.arn,
            "used": [asdict(call) for call in self.used],
            "refused": [asdict(call) for call in self.refused],
            "statements": [statement.as_dict() for statement in self.statements],
        }


@dataclass
class PermissionsReport:
    roles: list[RoleReport]
    resource_statements: list[StatementUse]  # queue, bucket, topic and trust policies, the key policy
    calls_judged: int
    refused_calls: int
    refusals: list[dict[str, Any]]  # the gate's record of the refused requests (service, operation, code, ...)

    @property
    def statements(self) -> list[StatementUse]:
        return [s for role in self.roles for s in role.statements] + self.resource_statements

    @property
    def unexplained(self) -> list[StatementUse]:
        return [statement for statement in self.statements if statement.unexplained]

    @property
    def passed(self) -> bool:
        return self.refused_calls == 0 and not self.unexplained

    def as_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "calls_judged": self.calls_judged,
            "refused_calls": self.refused_calls,
            "unexplained_statements": [statement.ref for statement in self.unexplained],
            "roles": [role.as_dict() for role in self.roles],
            "resource_statements": [statement.as_dict() for statement in self.resource_statements],
            "refusals": self.refusals,
        }


def _statements(policy: Mapping[str, Any], attached_to: list[str], fifo: bool) -> list[StatementUse]:
    listed = policy["document"].get("Statement", [])
    listed = [listed] if isinstance(listed, Mapping) else listed
    return [
        StatementUse(
            policy["name"],
            index,
            statement.get("Sid"),
            statement.get("Effect", ""),
            policy["kind"],
            _listed(statement.get("Action")),
            attached_to,
            undriven=undriven_path(policy["name"], statement.get("Sid"), fifo=fifo),
        )
        for index, statement in enumerate(listed)
    ]


def _calls(decisions: Iterable[Mapping[str, Any]]) -> list[CallUse]:
    calls: Counter[tuple[str, str]] = Counter()
    resources: defaultdict[tuple[str, str], set[str]] = defaultdict(set)
    for decision in decisions:
        key = (decision["action"], shown_resource(decision["resource"]))
        calls[key] += decision["count"]
        resources[key].add(decision["resource"])
    return [
        CallUse(action, resource, count, len(resources[(action, resource)]))
        for (action, resource), count in sorted(calls.items())
    ]


def _mark_use(statements: Iterable[StatementUse], decisions: list[Mapping[str, Any]]) -> None:
    by_ref: defaultdict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for decision in decisions:
        for ref in decision.get("statements") or ():
            by_ref[ref].append(decision)
    for statement in statements:
        deciding = by_ref.get(statement.ref, [])
        statement.calls = sum(d["count"] for d in deciding)
        statement.used_by = sorted({str(d["principal"]) for d in deciding})
        if deciding:
            statement.unused_actions = [
                pattern
                for pattern in statement.actions
                if not any(action_matches(pattern, d["action"]) for d in deciding)
            ]


def permissions_report(configuration: Mapping[str, Any], record: Mapping[str, Any]) -> PermissionsReport:
    """The report of a run: the gate's `configuration` (what it judged with) and its `record`
    (GET /_emulator/iam/decisions)."""
    decisions: list[Mapping[str, Any]] = list(record.get("decisions", []))
    fifo = any(str(arn).endswith(".fifo") for arn in configuration.get("arns", {}).values())
    roles = []
    for logical_id, arn in sorted(configuration["roles"].items()):
        statements = [s for policy in configuration["identity"].get(arn, []) for s in _statements(policy, [], fifo)]
        mine = [d for d in decisions if d["principal"] == arn]
        roles.append(
            RoleReport(
                logical_id,
                arn,
                _calls(d for d in mine if d["outcome"] == "allowed"),
                _calls(d for d in mine if d["outcome"] != "allowed"),
                statements,
            )
        )
    # A resource policy may be attached to several resources (one queue policy, four queues): one statement each.
    attached: defaultdict[str, list[str]] = defaultdict(list)
    resource_policies: dict[str, Mapping[str, Any]] = {}
    for resource, policies in configuration["resource"].items():
        for policy in policies:
            attached[policy["name"]].append(resource)
            resource_policies[policy["name"]] = policy
    for key, policy in configuration["key"].items():
        attached[policy["name"]].append(key)
        resource_policies[policy["name"]] = policy
    resource_statements = [
        s
        for name, policy in sorted(resource_policies.items())
        for s in _statements(policy, sorted(attached[name]), fifo)
    ]
    _mark_use([s for role in roles for s in role.statements] + resource_statements, decisions)
    return PermissionsReport(
        roles,
        resource_statements,
        calls_judged=sum(d["count"] for d in decisions),
        refused_calls=sum(d["count"] for d in decisions if d["outcome"] != "allowed"),
        refusals=list(record.get("refusals", [])),
    )


# ---------------------------------------------------------------- shown


def _statements_table(title: str, statements: list[StatementUse]) -> Table:
    table = Table(title=title, title_justify="left", box=None, pad_edge=False)
    for column in ("statement", "effect", "calls", "state", "actions no call used"):
        table.add_column(column, overflow="fold")
    for statement in statements:
        state = f"[bold red]{statement.state}[/]" if statement.unexplained else statement.state
        table.add_row(statement.ref, statement.effect, str(statement.calls), state, ", ".join(statement.unused_actions))
    return table


def _print_statements(out: Console, title: str, statements: list[StatementUse]) -> None:
    """The table, then the path each unused statement waits for (too long for a cell)."""
    out.print(_statements_table(title, statements))
    for statement in statements:
        if not statement.used and statement.undriven is not None:
            path = statement.undriven
            out.print(f"    {statement.ref}: needed by {path.needed_by}. Here: {path.not_driven}.")


def _calls_table(title: str, calls: list[CallUse]) -> Table:
    table = Table(title=title, title_justify="left", box=None, pad_edge=False)
    for column in ("action", "resource", "calls"):
        table.add_column(column, overflow="fold")
    for call in calls:
        resource = call.resource if call.resources == 1 else f"{call.resource} ({call.resources} objects)"
        table.add_row(call.action, resource, str(call.calls))
    return table


def print_report(report: PermissionsReport, console: Console | None = None) -> None:
    # No emoji codes (a secret's ARN holds `:secret:`); a log or pipe gets lines wide enough for ARNs.
    out = console or Console(highlight=False, soft_wrap=True, emoji=False)
    if not out.is_terminal:
        out.width = max(out.width, WIDE_LINES)
    for role in report.roles:
        out.print(f"\n[bold]role {role.logical_id}[/] {role.arn}")
        out.print(_calls_table("  used", role.used))
        if role.refused:
            out.print(_calls_table("  [bold red]refused[/]", role.refused))
        _print_statements(out, "  grants", role.statements)
    out.print()
    _print_statements(out, "resource, trust and key policies", report.resource_statements)
    for refusal in report.refusals:
        out.print(
            f"[bold red]refused[/]: {refusal.get('principal')} {refusal.get('service')}:{refusal.get('operation')}"
            f" {refusal.get('action')} on {refusal.get('resource')} -> {refusal.get('status')} {refusal.get('code')}"
        )
    unexplained = ", ".join(s.ref for s in report.unexplained) or "none"
    verdict = "[bold green]passed[/]" if report.passed else "[bold red]failed[/]"
    out.print(
        f"\npermissions: {report.calls_judged} calls judged, {report.refused_calls} refused;"
        f" unused grants without an explanation: {unexplained}. {verdict}"
    )
