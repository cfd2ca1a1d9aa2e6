"""`automation-local`: the backbone on this machine, from template.yaml, with no AWS account.

Without options it starts the local runtime (embedded emulator, the stack deployed into
it, stand-ins, the HTTP API on localhost, the event source mapping pollers), runs a short
demo load through it, prints the summary and stops. `--serve` keeps everything up until
Ctrl-C instead, with the console in the browser on 127.0.0.1 (`--console` serves it during
the demo load and after its summary, until Ctrl-C; see console/). `invoke FUNCTION EVENT`
runs one function once with an event file, like `sam local invoke` without Docker;
`redrive QUEUE` moves a DLQ's messages back (`--renew-only`: only renews what keeps their
orders from running twice, before a redrive by the AWS CLI); `cost --orders-per-month N`
prices the usage `make bench` measured (see cost/); `permissions` runs a small load with IAM
enforced and reports, per role, what it used against every grant it holds (see `_permissions`).

`--fault NAME=RATE` deals faults to the functions (see aws/fault_proxy.py);
`--emulator-url` runs against an emulator already up, and `--state-dir` keeps what a run
needs to be started again after it was killed (see run_state).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from automation_local.apigateway.client import signed_request
from automation_local.aws import iam_gate
from automation_local.aws.emulator import Emulator
from automation_local.aws.fault_proxy import FAULT_NAMES, FaultPlan
from automation_local.cloudformation.outputs import BackboneOutputs
from automation_local.cloudformation.stack import DeployedStack, deploy
from automation_local.cloudformation.template import function_names, load_template
from automation_local.console.server import ConsoleServer
from automation_local.cost import command as cost_command
from automation_local.demo.orders import task_parameters
from automation_local.demo.plan import DEFAULT_USERS
from automation_local.demo_load import Progress, Summary, run_demo_load, tracker_of
from automation_local.iam.permissions_report import permissions_report, print_report
from automation_local.invoke import invoke_event_file
from automation_local.ops.redrive import redrive_backbone, renew_backbone_dead_letters
from automation_local.outside.standins import STAND_IN_NETWORKS
from automation_local.run_state import DemoArguments, RunState
from automation_local.runtime import IAM_VARIABLE, LocalRuntime
from automation_local.terminal import RunDisplay, print_summary
from automation_shared.contracts import TaskType
from automation_shared.order_records import FINAL_STATES
from automation_shared.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER


def _local(value: str, api_url: str) -> str:
    """An output or SSM value as it works here: the API's AWS address (moto's CloudFormation
    leaves `${HttpApi}` in it, and it would not answer locally) is the local HTTP API's."""
    if ".execute-api." in value:
        return api_url + "/" + value.split("/", 3)[3] if value.count("/") >= 3 else api_url
    return value


def _print_stack(emulator: Emulator, stack: DeployedStack, api_url: str) -> None:
    print(f"stack {stack.stack_name}: {len(stack.resources)} resources on {emulator.endpoint_url}")
    print("\noutputs:")
    for key, value in sorted(stack.outputs.items()):
        print(f"  {key:28} {_local(value, api_url)}")
    print(f"\nSSM parameters under {stack.ssm_prefix}/:")
    paginator = emulator.client("ssm").get_paginator("get_parameters_by_path")
    for page in paginator.paginate(Path=stack.ssm_prefix, Recursive=True):
        for parameter in page["Parameters"]:
            print(f"  {parameter['Name']:52} {_local(parameter['Value'], api_url)}")
    print(
        "\nThe queue URLs name SQS's AWS address: a client reaches them here with the endpoint"
        f" set (AWS_ENDPOINT_URL={emulator.endpoint_url}), as boto3 and the AWS CLI honour it."
    )


def _curl_example(runtime: LocalRuntime) -> str:
    """A signed POST and a signed GET of the same order (HMAC over `<ts>.<METHOD>.<path>.<body>`)."""
    assert runtime.http_api is not None
    url = runtime.http_api.url
    order_id = "0b6f4a52-5d3e-4c1a-9f7e-2a8d6c4b1e90"
    body = (
        f'{{"orderId":"{order_id}","taskType":"text-processing","userId":"user-1",'
        '"payload":{"parameters":{"text":"Hello queues."}}}'
    )
    sign = 'openssl dgst -sha256 -hmac "$SECRET" | cut -d" " -f2'
    return (
        f"SECRET='{runtime.webhook_secret}'\n"
        f"BODY='{body}'\n"
        f'TS=$(date +%s); SIG=$(printf \'%s.POST./orders.%s\' "$TS" "$BODY" | {sign})\n'
        f"curl -sS -w ' -> HTTP %{{http_code}}\\n' -X POST {url}/orders -H 'content-type: application/json' \\\n"
        f'  -H "{TIMESTAMP_HEADER}: $TS" -H "{SIGNATURE_HEADER}: sha256=$SIG" -d "$BODY"\n'
        f"sleep 1; TS=$(date +%s); SIG=$(printf '%s.GET./orders/{order_id}.' \"$TS\" | {sign})\n"
        f"curl -sS -w ' -> HTTP %{{http_code}}\\n' {url}/orders/{order_id} \\\n"
        f'  -H "{TIMESTAMP_HEADER}: $TS" -H "{SIGNATURE_HEADER}: sha256=$SIG"'
    )


def _completed_twice(summary: Summary) -> int:
    return summary.duplicates.get("notifications", 0) + summary.duplicates.get("archives", 0)


def _run(args: argparse.Namespace) -> int:
    state = RunState(Path(args.state_dir)) if args.state_dir else None
    demo = DemoArguments(args.orders, args.fail_rate, args.seed, args.users)
    if state is not None:
        demo, resumed = state.demo_arguments(demo)
        if resumed:
            print(f"resuming the run in {state.directory}: {demo.orders} orders, fail rate {demo.fail_rate}")
    faults = FaultPlan.parse(args.fault, seed=args.seed) if args.fault else None
    with (
        LocalRuntime(
            environment=args.environment,
            built=args.built,
            emulator=Emulator.at(args.emulator_url) if args.emulator_url else None,
            faults=faults,
            state=state,
            parameters=dict(args.parameter),
            poll=args.serve or not args.preload,
            iam=args.iam or None,  # off: as the environment says (runtime.IAM_VARIABLE)
        ) as runtime,
        contextlib.ExitStack() as console_up,
    ):
        assert runtime.stack is not None
        assert runtime.http_api is not None
        if args.serve:
            _print_stack(runtime.emulator, runtime.stack, runtime.http_api.url)
        print(f"local runtime up: HTTP API {runtime.http_api.url}, emulator {runtime.emulator.endpoint_url}")
        print(f"function logs in {runtime.log_dir}; a signed order with curl:\n{_curl_example(runtime)}\n")
        if args.serve or args.console:
            console = console_up.enter_context(ConsoleServer(runtime, site_url=runtime.site.base_url))
            print(f"console in the browser: {console.url}/")
        if args.serve:
            print(f"export AWS_ENDPOINT_URL={runtime.emulator.endpoint_url} to use the emulator. Ctrl-C stops.")
            while True:
                time.sleep(3600)
        with RunDisplay() as display:
            summary = run_demo_load(
                runtime,
                orders=demo.orders,
                fail_rate=demo.fail_rate,
                seed=demo.seed,
                users=demo.users,
                timeout=args.timeout,
                preload=args.preload,
                progress=display.show,
                note=display.note,
            )
        fifo = runtime.stack.fifo
        print_summary(summary)
        refused_calls = _print_iam_record(runtime) if runtime.iam else 0
        if args.json:
            print(summary.as_json())
        if args.console:
            _keep_console_up(console.url)
    # Under injected faults an order may end elsewhere than planned (a record that kept
    # failing goes to its DLQ, as it should); lost or twice-completed orders always fail.
    expected_ends = summary.unexpected == 0 or faults is not None
    # FIFO queues keep each user's order (standard ones do not: a retry joins the queue's end).
    in_user_order = summary.out_of_user_order == 0 or not fifo
    passed = summary.lost == 0 and _completed_twice(summary) == 0 and expected_ends and in_user_order
    return 0 if passed and refused_calls == 0 else 1


def _print_iam_record(runtime: LocalRuntime) -> int:
    """What IAM enforcement judged during the run: calls by principal, and each refusal; the refusals' count."""
    record = iam_gate.decisions(runtime.emulator.endpoint_url)
    by_principal: Counter[str] = Counter()
    for decision in record["decisions"]:
        by_principal[f"{decision['principal']} {decision['outcome']}"] += decision["count"]
    refused = sum(count for key, count in by_principal.items() if not key.endswith(" allowed"))
    print(f"\nIAM enforced: {sum(by_principal.values())} calls judged, {refused} refused")
    for key, count in sorted(by_principal.items()):
        print(f"  {count:8} {key}")
    for refusal in record["refusals"]:
        print(
            f"  refused: {refusal.get('principal')} {refusal['service']}:{refusal['operation']}"
            f" {refusal.get('action')} on {refusal.get('resource')} -> {refusal['status']} {refusal['code']}"
        )
    return refused


class _CallRefusedError(Exception):
    """A call of the permissions run was refused: the run stops there, its report says which."""


def _permissions(args: argparse.Namespace) -> int:
    """The least-privilege report (iam/permissions_report.py): of a runtime up with IAM enforced
    (`--emulator-url`, e.g. `automation-local --iam --serve`), or of a run of its own: the demo
    load (standard queues, or `--fifo`), then the paths the load leaves out (below). Exit 1 on
    any refused call or an unused grant the report cannot explain; 2 if the emulator judges nothing."""
    if args.emulator_url:
        configuration, record = iam_gate.configuration(args.emulator_url), iam_gate.decisions(args.emulator_url)
    else:
        configuration, record = _permissions_run(args)
    if not configuration:
        print(f"the emulator at {args.emulator_url} judges nothing: start the runtime with --iam", file=sys.stderr)
        return 2
    report = permissions_report(configuration, record)
    if args.json:
        print(json.dumps(report.as_dict()))
    else:
        print_report(report)
    return 0 if report.passed else 1


def _permissions_run(args: argparse.Namespace) -> tuple[dict[str, Any], dict[str, Any]]:
    """A run with IAM enforced, stopped at the first refused call (a refused path would only
    retry until the load's timeout); what the emulator judged with, and its record."""
    parameters = {**dict(args.parameter), **({"QueueType": "fifo"} if args.fifo else {})}
    template = Path(args.template) if args.template else None
    with LocalRuntime(iam=True, parameters=parameters, template_path=template) as runtime:
        url = runtime.emulator.endpoint_url

        def stop_on_refusal(progress: Progress) -> None:
            display.show(progress)
            if iam_gate.decisions(url)["refusals"]:
                raise _CallRefusedError

        try:
            with RunDisplay() as display:
                summary = run_demo_load(
                    runtime,
                    orders=args.orders,
                    fail_rate=args.fail_rate,
                    seed=args.seed,
                    timeout=args.timeout,
                    progress=stop_on_refusal,
                )
            print(
                f"demo load: {summary.submitted} orders, {summary.completed} completed, {summary.escalated} escalated,"
                f" {summary.dead_lettered} dead-lettered, {summary.lost} lost",
                file=sys.stderr,
            )
            _drive_paths_the_load_leaves_out(runtime, args.timeout)
        except _CallRefusedError:
            print("a call was refused: the run stopped there", file=sys.stderr)
        return iam_gate.configuration(url), iam_gate.decisions(url)


def _drive_paths_the_load_leaves_out(runtime: LocalRuntime, timeout: float) -> None:
    """A result too large for its message (the worker stores its data in the archive bucket, the
    feedback reads it back to archive it: `/large/` pages of the site stand-in), and an order's
    status read (GET /orders/{id}): the paths of the template's grants the demo load never takes."""
    assert runtime.http_api is not None
    order_id = str(uuid.uuid4())
    document = {
        "orderId": order_id,
        "taskType": TaskType.PLAYWRIGHT_SCRAPING.value,
        "userId": "user-permissions",
        "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "payload": {
            "url": f"{runtime.site.base_url}/large/{order_id}",
            "parameters": task_parameters(TaskType.PLAYWRIGHT_SCRAPING),
            "configuration": {"followUpAction": "archive"},
        },
    }
    api, secret = runtime.http_api.url, runtime.webhook_secret
    status, answer = signed_request(api, secret, "POST", "/orders", json.dumps(document).encode())
    if status != 202:
        raise RuntimeError(f"the large-result order was refused: {status} {answer}")
    tracker, deadline = tracker_of(runtime), time.monotonic() + timeout
    while (state := tracker.states([order_id]).get(order_id)) is None or state.status not in FINAL_STATES:
        if time.monotonic() > deadline or iam_gate.decisions(runtime.emulator.endpoint_url)["refusals"]:
            raise _CallRefusedError
        time.sleep(0.5)
    signed_request(api, secret, "GET", f"/orders/{order_id}")


def _keep_console_up(url: str) -> None:
    """After the run's summary, the console stays up (the runtime with it) for a look at
    where each order ended, until Ctrl-C; the run's exit code is kept."""
    print(f"console still up at {url}/ (the pollers too); Ctrl-C stops.", file=sys.stderr)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)


def _invoke(args: argparse.Namespace) -> int:
    with Emulator() as emulator:
        stack = deploy(
            emulator,
            stack_name=f"automation-{args.environment}",
            # The stand-ins the function calls listen on 127.0.0.1.
            parameters={"Environment": args.environment, "OutboundAllowedNetworks": STAND_IN_NETWORKS},
            built=args.built,
        )
        invocation = invoke_event_file(emulator, stack, args.function, Path(args.event))
    if invocation.error is not None:
        print(json.dumps({"errorMessage": invocation.error}, indent=2), file=sys.stderr)
        return 1
    print(json.dumps(invocation.response, indent=2))
    print(f"duration {invocation.duration_ms:.0f} ms", file=sys.stderr)
    return 0


def _redrive(args: argparse.Namespace) -> int:
    """Against AWS, or any endpoint AWS_ENDPOINT_URL names (the local runtime's emulator)."""
    config = Config(retries={"mode": "standard", "max_attempts": 2})
    outputs = {
        o["OutputKey"]: o["OutputValue"]
        for o in boto3.client("cloudformation", config=config).describe_stacks(StackName=args.stack_name)["Stacks"][0][
            "Outputs"
        ]
    }
    sqs, dynamodb, backbone = (
        boto3.client("sqs", config=config),
        boto3.client("dynamodb", config=config),
        BackboneOutputs.of(outputs),
    )
    if args.renew_only:
        if renew_backbone_dead_letters(sqs, dynamodb, backbone, args.queue):
            print(json.dumps({"renewed": True}))
            return 0
        print(
            "some messages could not be read (another reader holds them, or a FIFO group of more than 10):"
            " redrive with this command instead",
            file=sys.stderr,
        )
        return 1
    report = redrive_backbone(sqs, dynamodb, backbone, args.queue, Path(args.journal_dir))
    if report.note:
        print(report.note, file=sys.stderr)
    print(json.dumps(report.__dict__))
    return 0


def _parameter(text: str) -> tuple[str, str]:
    name, equals, value = text.partition("=")
    if not name or not equals:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, not {text!r}")
    return name, value


def _stop_on_signals() -> None:
    """Ctrl-C and SIGTERM both stop the runtime cleanly (emulator, sandboxes, servers), also
    when the shell started this in the background with SIGINT ignored."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, interrupt)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="automation-local", description=__doc__.splitlines()[0])
    parser.add_argument("--environment", default="dev", choices=["dev", "staging", "prod"])
    parser.add_argument("--built", action="store_true", help="use the `sam build` output (.aws-sam/build)")
    parser.add_argument(
        "--serve", action="store_true", help="keep the runtime up until Ctrl-C, no demo load, with the console"
    )
    parser.add_argument(
        "--console", action="store_true", help="serve the console in the browser during the demo load and after it"
    )
    parser.add_argument(
        "--iam",
        action="store_true",
        help=f"enforce IAM: every call judged against the stack's policies, each function calling with its role"
        f" (also {IAM_VARIABLE}=1)",
    )
    parser.add_argument(
        "--parameter",
        action="append",
        type=_parameter,
        default=[],
        metavar="NAME=VALUE",
        help="a stack parameter over the local runtime's (e.g. WorkerTimeoutSeconds=50); repeatable",
    )
    load = parser.add_argument_group("demo load")
    load.add_argument("--orders", type=int, default=30, help="orders to send (default 30)")
    load.add_argument("--fail-rate", type=float, default=0.2, help="share of orders made to fail (default 0.2)")
    load.add_argument("--seed", type=int, default=7)
    load.add_argument(
        "--users", type=int, default=DEFAULT_USERS, help=f"users the orders are spread over (default {DEFAULT_USERS})"
    )
    load.add_argument("--timeout", type=float, default=600, help="give up after this many seconds")
    load.add_argument("--json", action="store_true", help="end with the summary as one line of JSON")
    load.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="NAME=RATE",
        help=f"deal a fault to the functions at this rate (repeatable): {', '.join(FAULT_NAMES)}",
    )
    load.add_argument("--emulator-url", help="use this emulator (already running) instead of starting one")
    load.add_argument(
        "--state-dir", help="keep the run's state here; started again with it, the run resumes where it stopped"
    )
    load.add_argument(
        "--preload",
        action="store_true",
        help="put every order straight into the order queue (SendMessageBatch) before the pollers start",
    )
    parser.set_defaults(command=_run)
    commands = parser.add_subparsers(title="commands")
    cost_command.add_parser(commands)
    invoke = commands.add_parser("invoke", help="run one function once with an event file")
    invoke.add_argument("function", choices=sorted(function_names(load_template())))
    invoke.add_argument("event", help="an events/*.json file")
    invoke.set_defaults(command=_invoke)
    redrive_command = commands.add_parser("redrive", help="move a DLQ's messages back to their source queue")
    redrive_command.add_argument("queue", choices=["order", "result"])
    redrive_command.add_argument("--stack-name", default="automation-dev")
    redrive_command.add_argument("--journal-dir", default=".", help="where an interrupted move keeps its journal")
    redrive_command.add_argument(
        "--renew-only",
        action="store_true",
        help="only renew what keeps each DLQ message's order from running twice (before an AWS CLI move task)",
    )
    redrive_command.set_defaults(command=_redrive)
    permissions = commands.add_parser(
        "permissions",
        help="run a small load with IAM enforced and report per role what it used against every grant it holds",
    )
    permissions.add_argument("--orders", type=int, default=10, help="orders of the demo load (default 10)")
    permissions.add_argument("--fail-rate", type=float, default=0.2, help="share made to fail (default 0.2)")
    permissions.add_argument("--seed", type=int, default=7)
    permissions.add_argument("--timeout", type=float, default=300, help="give up on the load after this many seconds")
    permissions.add_argument("--fifo", action="store_true", help="with FIFO queues (QueueType=fifo)")
    permissions.add_argument(
        "--parameter", action="append", type=_parameter, default=[], metavar="NAME=VALUE", help="a stack parameter"
    )
    permissions.add_argument("--template", help="another SAM template than template.yaml (a modified copy)")
    permissions.add_argument("--emulator-url", help="report on this emulator's run (up with --iam) instead")
    permissions.add_argument("--json", action="store_true", help="the report as one JSON document")
    permissions.set_defaults(command=_permissions)
    args = parser.parse_args(argv)
    _stop_on_signals()
    try:
        return int(args.command(args))
    except KeyboardInterrupt:
        print("\nstopped", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
