"""`automation-local cost --orders-per-month N [--config-env ENV] [--usage FILE] [--region R]`.

Prints the monthly bill at N orders a month, service by service and item by item: the usage
per order measured by the last `make bench` (bench/cost-usage.json, the happy path), or by
a file (a usage document, or a run's `--json` summary), priced with prices.json; the fixed
costs from template.yaml, its parameters overridden by samconfig.toml's `parameter_overrides`
for `--config-env` (log retention, KMS reuse period, alert e-mail: what changes the bill).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from automation_local.cloudformation.project import TEMPLATE_PATH
from automation_local.cost.model import monthly_bill
from automation_local.cost.prices import DEFAULT_REGION, UnknownRegionError, load_prices
from automation_local.cost.report import bill_text
from automation_local.cost.stack_facts import config_env_parameters, stack_facts
from automation_local.cost.usage import load_usage

DEFAULT_USAGE = TEMPLATE_PATH.parent / "bench" / "cost-usage.json"
SAMCONFIG = TEMPLATE_PATH.parent / "samconfig.toml"


def _orders(text: str) -> float:
    value = float(text.replace("_", "").replace(",", ""))
    if value < 0:
        raise argparse.ArgumentTypeError("orders a month cannot be negative")
    return value


def add_parser(commands: Any) -> None:
    cost = commands.add_parser("cost", help="the monthly AWS bill at a volume, from the usage make bench measured")
    cost.add_argument("--orders-per-month", type=_orders, required=True, metavar="N", help="e.g. 1000000 or 1e6")
    cost.add_argument("--config-env", help="samconfig.toml config-env whose parameter overrides apply (e.g. prod)")
    cost.add_argument("--usage", type=Path, default=DEFAULT_USAGE, help="default bench/cost-usage.json")
    cost.add_argument("--region", default=DEFAULT_REGION, help="prices of this region (default us-east-1)")
    cost.add_argument("--json", action="store_true", help="the bill as JSON")
    cost.set_defaults(command=run)


def run(args: argparse.Namespace) -> int:
    try:
        prices = load_prices(args.region)
    except UnknownRegionError as error:
        print(f"automation-local cost: {error}", file=sys.stderr)
        return 2
    if not args.usage.is_file():
        print(f"automation-local cost: no usage at {args.usage}: run `make bench` (or --usage FILE)", file=sys.stderr)
        return 2
    usage = load_usage(args.usage)
    parameters = config_env_parameters(SAMCONFIG, args.config_env) if args.config_env else {}
    facts = stack_facts(parameters=parameters)
    bill = monthly_bill(usage, facts, prices, args.orders_per_month)
    if args.json:
        print(
            json.dumps(
                {
                    "orders_per_month": args.orders_per_month,
                    "region": prices.region,
                    "config_env": args.config_env,
                    "usage": {s: round(v, 6) for s, v in bill.by_service().items()},
                    "usage_items": bill.usage,
                    "fixed": bill.fixed,
                    "total": round(bill.total, 4),
                }
            )
        )
        return 0
    source = f"{args.usage} ({usage['orders']} orders, fail rate {usage['fail_rate']})"
    if args.config_env:
        source += f"; config-env {args.config_env}: LogRetentionDays {facts.log_retention_days}"
    print(bill_text(bill, region=prices.region, source=source))
    return 0
