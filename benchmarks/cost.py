"""Figures of what the backbone costs on AWS, from the local runtime's usage (automation_local/cost).

The happy path's usage is the `local_runtime` measurement's run (orders POSTed 10 a
request, none made to fail; its summary's `cost`), a second run has a fifth of its orders
fail (`--fail-rate 0.2`: requeued, escalated, dead-lettered). Each is priced with the price
table at template.yaml's defaults:

- dynamodb_writes_per_order: PutItem, UpdateItem, DeleteItem (and batch and transaction
  items) the functions made, per order (goal <= 4);
- s3_puts_per_order: S3 PUT-class requests the functions made, per order;
- cost_per_million_orders: the usage of a million orders a month, every service, without
  the fixed monthly costs (goal <= 4 USD); `.fifth_failing`: the same with a fifth failing;
- log_bytes_per_order: bytes the functions' logs took per order, Lambda's START/END/REPORT
  lines and the EMF metric lines included.

It also keeps each run's usage beside latest.json (cost-usage.json, the happy path, which
`automation-local cost` reads; cost-usage-fifth-failing.json) and draws the monthly bill by
service at 10 thousand, 1 million and 100 million orders a month (docs/cost-by-service.png).
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from automation_local.cost.chart import draw
from automation_local.cost.model import SCALES, Bill, monthly_bill
from automation_local.cost.prices import load_prices
from automation_local.cost.report import markdown_table, usd
from automation_local.cost.stack_facts import stack_facts
from automation_local.demo_load import SUBMIT_BATCH_SIZE, Summary, run_demo_load
from automation_local.runtime import LocalRuntime

from .context import Bench
from .registry import Figure, Goal, measurement

SEED = 5
FAIL_RATE = 0.2
SCENARIOS = {"happy path": "cost-usage.json", "a fifth failing": "cost-usage-fifth-failing.json"}


def _load(bench: Bench, orders: int, fail_rate: float, name: str) -> Summary:
    log_dir = bench.scratch / f"cost-{name}-logs"
    log_dir.mkdir()
    with LocalRuntime(log_dir=log_dir) as runtime:
        summary = run_demo_load(runtime, orders=orders, fail_rate=fail_rate, seed=SEED, timeout=bench.runs(1800, 600))
    if summary.lost or "usage" not in summary.cost:
        raise RuntimeError(f"the {name} run did not end or was not measured: {summary.as_json()}")
    return summary


def _usages(bench: Bench) -> dict[str, dict[str, Any]]:
    happy = bench.results.get("local_runtime.summary")
    if happy is None or "usage" not in happy.cost:  # `--only cost`: a happy-path run of its own
        happy = _load(bench, bench.runs(1000, 50), 0.0, "happy")
    failing = _load(bench, bench.runs(500, 50), FAIL_RATE, "failing")
    return {"happy path": happy.cost["usage"], "a fifth failing": failing.cost["usage"]}


def _top(bill: Bill, count: int = 4) -> str:
    services = sorted(bill.by_service().items(), key=lambda item: -item[1])[:count]
    return ", ".join(f"{service} {usd(value)}" for service, value in services)


@measurement("cost")
def cost_figures(bench: Bench) -> list[Figure]:
    started = time.monotonic()
    usages = _usages(bench)
    prices = load_prices()
    facts = stack_facts()
    if bench.output_dir is not None:
        bench.output_dir.mkdir(parents=True, exist_ok=True)
        for scenario, file_name in SCENARIOS.items():
            (bench.output_dir / file_name).write_text(json.dumps(usages[scenario], indent=1) + "\n")
    bills = {
        scenario: {label: monthly_bill(usage, facts, prices, n) for label, n in SCALES.items()}
        for scenario, usage in usages.items()
    }
    if bench.chart is not None:
        draw(bills, bench.chart)
    million = {scenario: by_scale["1 million"] for scenario, by_scale in bills.items()}
    print(f"\nmonthly bill at 1 million orders a month (USD):\n{markdown_table(million)}\n", file=sys.stderr)
    happy, failing = usages["happy path"], usages["a fifth failing"]
    hp, fp = happy["per_order"], failing["per_order"]
    log_bytes = sum(log["bytes"] for log in hp["logs"].values())
    lambda_lines = f"{sum(lam['invocations'] for lam in hp['lambda'].values()):.2f} invocations per order"
    runs = f"{happy['orders']} orders POSTed {SUBMIT_BATCH_SIZE} a request, none failing"
    return [
        Figure(
            "dynamodb_writes_per_order",
            round(hp["dynamodb"]["writes"], 3),
            Goal("<=", 4),
            detail=(
                f"{hp['dynamodb']['write_units']:.2f} WRU from the items' sizes"
                f" ({hp['dynamodb']['item_bytes_written']:.0f} bytes written per order); calls: "
                + ", ".join(f"{c} {n:.2f}" for c, n in hp["calls"].items() if c.startswith("dynamodb:"))
                + f"; {runs}"
            ),
        ),
        Figure(
            "s3_puts_per_order",
            round(hp["s3"]["put_requests"], 3),
            detail=f"{hp['s3']['bytes_put']:.0f} bytes put per order (the archive objects); {runs}",
        ),
        Figure(
            "cost_per_million_orders",
            round(million["happy path"].usage_total, 3),
            Goal("<=", 4),
            unit="USD",
            detail=(
                f"usage of a million orders a month, us-east-1, no free tier: {_top(million['happy path'])}, ...;"
                f" fixed a month besides: {usd(million['happy path'].fixed_total)}; {runs}"
            ),
        ),
        Figure(
            "cost_per_million_orders.fifth_failing",
            round(million["a fifth failing"].usage_total, 3),
            unit="USD",
            detail=(
                f"{_top(million['a fifth failing'])}, ...; {failing['orders']} orders, fail rate {FAIL_RATE}:"
                f" {fp['dynamodb']['writes']:.2f} DynamoDB writes and"
                f" {sum(lam['invocations'] for lam in fp['lambda'].values()):.2f} invocations per order"
                f" (measured in {time.monotonic() - started:.0f} s)"
            ),
        ),
        Figure(
            "log_bytes_per_order",
            round(log_bytes, 1),
            unit="B",
            detail=(
                "the functions' log files, Lambda's INIT_START/START/END/REPORT (and XRAY) lines and the EMF lines"
                " included: "
                + ", ".join(f"{f} {log['bytes']:.0f}" for f, log in hp["logs"].items())
                + f"; {lambda_lines}"
            ),
        ),
    ]
