"""The cost of a local run: marks where a load starts, measures its usage when it ends."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from automation_local.aws.emulator import Emulator
from automation_local.cloudformation.project import TEMPLATE_PATH
from automation_local.cloudformation.stack import DeployedStack
from automation_local.cloudformation.template import load_template
from automation_local.cost.lambda_logs import log_sizes_with_cpu, read_logs
from automation_local.cost.model import cost_summary
from automation_local.cost.prices import DEFAULT_REGION, load_prices
from automation_local.cost.stack_facts import stack_facts
from automation_local.cost.usage import measure, subtract


class LocalRun(Protocol):
    """What the measurement reads of a running local runtime (automation_local.runtime,
    which sits above the cost model): the emulator's meter, the functions' logs, the HTTP
    API's requests (`http_api.answered`) and the stack's parameters."""

    emulator: Emulator
    log_dir: Path
    stack: DeployedStack | None
    http_api: Any


@dataclass
class RunMark:
    meter: dict[str, Any]
    log_offsets: dict[str, int]
    http_requests: int


def mark(runtime: LocalRun) -> RunMark:
    """Where the run's part of the meter, the logs and the HTTP API's requests begins."""
    answered = runtime.http_api.answered if runtime.http_api else []
    return RunMark(runtime.emulator.usage(), log_sizes_with_cpu(runtime.log_dir), len(answered))


def mark_or_reason(runtime: LocalRun) -> RunMark | str:
    """The mark, or why the usage cannot be measured (an emulator without the usage meter:
    `python -m moto.server` given with --emulator-url)."""
    try:
        return mark(runtime)
    except Exception as error:
        return f"no usage meter at {runtime.emulator.endpoint_url}: {type(error).__name__}: {error}"


def access_log_format(template: dict[str, Any]) -> str:
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::HttpApi":
            return str(resource.get("Properties", {}).get("AccessLogSettings", {}).get("Format", ""))
    return ""


def run_usage(runtime: LocalRun, since: RunMark, *, orders: int, fail_rate: float) -> dict[str, Any]:
    """The usage per order of the run since `since`."""
    assert runtime.stack is not None
    answered = (runtime.http_api.answered if runtime.http_api else [])[since.http_requests :]
    template = load_template(TEMPLATE_PATH)
    facts = stack_facts(template, runtime.stack.parameters)
    return measure(
        orders=orders,
        fail_rate=fail_rate,
        meter=subtract(runtime.emulator.usage(), since.meter),
        logs=read_logs(runtime.log_dir, since.log_offsets),
        http_requests=[(r.route_key, r.request_bytes, r.status, r.response_bytes) for r in answered],
        access_log_format=access_log_format(template),
        cmk_secret_names=facts.cmk_secret_names,
    )


def run_cost(
    runtime: LocalRun, since: RunMark, *, orders: int, fail_rate: float, region: str = DEFAULT_REGION
) -> dict[str, Any]:
    """The run's `cost` (see model.cost_summary); the stack's parameters as deployed locally
    size the fixed costs, except the local runtime's own (timeouts, concurrency), which do not."""
    assert runtime.stack is not None
    usage = run_usage(runtime, since, orders=orders, fail_rate=fail_rate)
    return cost_summary(usage, stack_facts(parameters=runtime.stack.parameters), load_prices(region))
