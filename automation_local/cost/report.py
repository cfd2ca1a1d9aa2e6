"""The bill as text: the run summary's cost table and `automation-local cost`'s breakdown."""

from __future__ import annotations

from typing import Any

from automation_local.cost.model import SCALES, Bill


def usd(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) < 0.01:
        return f"{value:.4f}"
    return f"{value:,.2f}"


def summary_lines(cost: dict[str, Any]) -> list[str]:
    """The `cost` of a run's summary, as the table the run prints."""
    if "error" in cost:
        return [f"  cost               not measured: {cost['error']}"]
    per_order = cost["per_order"]
    lines = [
        f"  cost ({cost['region']}, USD, free tiers left out)",
        f"    per million orders (usage)  {usd(cost['per_million_orders_total'])}",
    ]
    lines += [f"      {service:26} {usd(value)}" for service, value in cost["per_million_orders"].items()]
    lines.append(f"    fixed a month               {usd(cost['monthly_fixed_total'])}")
    lines += [f"      {item:26} {usd(value)}" for item, value in cost["monthly_fixed"].items()]
    lines.append("    monthly bill at " + ", ".join(f"{k}: {usd(v)}" for k, v in cost["monthly_bill"].items()))
    lines.append(
        f"    per order: {per_order['emulator_calls']} AWS calls, {per_order['dynamodb_writes']} DynamoDB writes"
        f" ({per_order['dynamodb_write_units']} WRU), {per_order['s3_puts']} S3 PUTs,"
        f" {per_order['log_bytes']:.0f} log bytes"
    )
    return lines


def bill_text(bill: Bill, *, region: str, source: str) -> str:
    """`automation-local cost`: the monthly bill at a volume with its breakdown."""
    q = bill.quantities
    lines = [
        f"monthly bill at {bill.orders_per_month:,.0f} orders a month ({region}, USD, free tiers left out)",
        f"usage measured: {source}",
        "",
        f"{'service':18} {'item':28} {'USD':>12}",
    ]
    for service, items in bill.usage.items():
        for item, value in items.items():
            lines.append(f"{service:18} {item:28} {usd(value):>12}")
    lines.append(f"{'usage':47} {usd(bill.usage_total):>12}")
    lines.append("")
    for item, value in bill.fixed.items():
        lines.append(f"{'fixed':18} {item:28} {usd(value):>12}")
    lines.append(f"{'fixed':47} {usd(bill.fixed_total):>12}")
    lines.append("")
    lines.append(f"{'total':47} {usd(bill.total):>12}")
    lines.append("")
    lines.append(
        f"priced: {q['lambda_invocations']:,.0f} invocations, {q['lambda_gb_seconds']:,.0f} GB-s"
        f" (INIT {q['lambda_init_gb_seconds']:,.0f}), {q['sqs_requests']:,.0f} SQS requests,"
        f" {q['dynamodb_write_units']:,.0f} WRU, {q['dynamodb_read_units']:,.0f} RRU,"
        f" {q['lambda_log_gb']:,.2f} GB of Lambda logs, {q['xray_traces']:,.0f} traces"
    )
    return "\n".join(lines)


def markdown_table(bills: dict[str, Bill]) -> str:
    """Services x scenarios at one volume, for the README."""
    services = list(dict.fromkeys(s for bill in bills.values() for s in bill.with_fixed_by_service()))
    header = "| service | " + " | ".join(bills) + " |"
    rows = [header, "|---|" + "---:|" * len(bills)]
    for service in services:
        rows.append(
            f"| {service} | "
            + " | ".join(usd(b.with_fixed_by_service().get(service, 0.0)) for b in bills.values())
            + " |"
        )
    rows.append("| **total** | " + " | ".join(f"**{usd(b.total)}**" for b in bills.values()) + " |")
    return "\n".join(rows)


__all__ = ["SCALES", "bill_text", "markdown_table", "summary_lines", "usd"]
