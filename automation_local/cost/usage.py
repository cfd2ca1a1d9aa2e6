"""One run's usage per order, measured: what the functions and the mappings did, and their logs.

From the usage meter's counts (the functions' own AWS calls and the mappings' receives and
deletes, see aws/usage_meter.py), the functions' logs (Lambda's REPORT lines and the EMF metrics, see
lambda_logs.py) and the requests the local HTTP API answered. Everything per order of the
run, so a bill at any volume is the usage times the orders (model.py). The document is what
`make bench` saves in bench/cost-usage.json and `automation-local cost --usage` reads.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

from automation_local.aws.usage_meter import ESM_CALLER_PREFIX, FUNCTION_CALLER_PREFIX
from automation_local.cost.lambda_logs import FunctionLog

USAGE_VERSION = 1
# What $context.* of the access log's format stands for in a line (sizes as on AWS).
ACCESS_LOG_VALUES = {
    "requestId": "JTHoQgr2oAMEPMg=",
    "identity.sourceIp": "203.0.113.10",
    "requestTime": "01/Dec/2026:20:53:33 +0000",
    "integrationErrorMessage": "-",
}
MAX_API_PAYLOAD_UNIT = 512 * 1024  # HTTP APIs are metered in 512 KB increments


def subtract(after: dict[str, Any], before: dict[str, Any]) -> dict[str, dict[str, dict[str, float]]]:
    """The meter's counts between two readings, by caller."""
    difference: dict[str, dict[str, dict[str, float]]] = {}
    for caller, usage in after.items():
        earlier = before.get(caller, {})
        difference[caller] = {
            part: {k: v - earlier.get(part, {}).get(k, 0) for k, v in usage.get(part, {}).items()}
            for part in ("calls", "units")
        }
    return difference


def access_log_bytes(log_format: str, route_key: str, status: int, response_bytes: int) -> int:
    """The bytes of one line of the HTTP API's access log in the template's format."""
    values = {**ACCESS_LOG_VALUES, "routeKey": route_key, "status": str(status), "responseLength": str(response_bytes)}
    line = re.sub(r"\$context\.([A-Za-z.]+)", lambda m: values.get(m.group(1), "-"), log_format)
    return len(line.replace("\n", "").encode()) + 1


def measure(
    *,
    orders: int,
    fail_rate: float,
    meter: dict[str, Any],
    logs: dict[str, FunctionLog],
    http_requests: list[tuple[str, int, int, int]],
    access_log_format: str,
    cmk_secret_names: list[str],
) -> dict[str, Any]:
    """The usage document of a run: `meter` by caller (the run's part), `logs` by function,
    `http_requests` as (route key, request bytes, status, response bytes)."""
    if orders <= 0:
        raise ValueError("a run of no orders has no usage per order")
    calls: Counter[str] = Counter()
    function_calls: dict[str, dict[str, float]] = {}
    units: dict[str, Counter[str]] = {"functions": Counter(), "esm": Counter()}
    secrets_by_function: dict[str, dict[str, float]] = {}
    for caller, usage in sorted(meter.items()):
        if caller.startswith(FUNCTION_CALLER_PREFIX):
            kind, name = "functions", caller.removeprefix(FUNCTION_CALLER_PREFIX)
        elif caller.startswith(ESM_CALLER_PREFIX):
            kind, name = "esm", caller.removeprefix(ESM_CALLER_PREFIX)
        else:
            continue
        calls.update(usage.get("calls", {}))
        units[kind].update(usage.get("units", {}))
        if kind == "functions":
            secret_calls_of = {
                k.split(":", 1)[1]: v
                for k, v in usage.get("units", {}).items()
                if k.startswith("secretsmanager.get_secret_value:")
            }
            secrets_by_function[name] = {
                "calls": sum(secret_calls_of.values()) / orders,
                "cmk_calls": sum(v for s, v in secret_calls_of.items() if any(c in s for c in cmk_secret_names))
                / orders,
            }
        function_calls[name] = {call: n / orders for call, n in sorted(usage.get("calls", {}).items()) if n}
    f, esm = units["functions"], units["esm"]
    secret_calls = {k.split(":", 1)[1]: v for k, v in f.items() if k.startswith("secretsmanager.get_secret_value:")}
    cmk_calls = sum(v for name, v in secret_calls.items() if any(s in name for s in cmk_secret_names))
    api_units = sum(max(1, -(-request_bytes // MAX_API_PAYLOAD_UNIT)) for _, request_bytes, _, _ in http_requests)
    access_bytes = sum(access_log_bytes(access_log_format, r, s, b) for r, _, s, b in http_requests)
    metrics = sorted({m for log in logs.values() for m in log.metrics})

    def per(value: float) -> float:
        return value / orders

    return {
        "version": USAGE_VERSION,
        "orders": orders,
        "fail_rate": fail_rate,
        "per_order": {
            "calls": {call: per(n) for call, n in sorted(calls.items()) if n},
            "calls_by_caller": function_calls,
            "lambda": {
                name: {
                    "invocations": per(log.invocations),
                    "billed_ms": per(log.billed_ms),  # on this machine (reported; see model.lambda_gb_seconds)
                    "init_ms": per(log.init_ms),
                    "cpu_ms": per(log.cpu_ms),
                    "init_cpu_ms": per(log.init_cpu_ms),
                    "cold_starts": per(log.cold_starts),
                    "memory_mb": log.memory_mb,
                }
                for name, log in sorted(logs.items())
                if log.invocations
            },
            "sqs": {
                "function_requests": per(f["sqs.requests"]),
                # The local pollers' empty receives are not AWS's (the idle pollers are modeled).
                "esm_requests": per(esm["sqs.requests"] - esm["sqs.empty_receives"]),
                "esm_empty_receives_local": per(esm["sqs.empty_receives"]),
                "payload_bytes": per(f["sqs.payload_bytes"] + esm["sqs.payload_bytes"]),
            },
            "dynamodb": {
                "writes": per(f["dynamodb.writes"]),
                "write_units": per(f["dynamodb.write_units"]),
                "reads": per(f["dynamodb.reads"]),
                "read_units": per(f["dynamodb.read_units"]),
                "item_bytes_written": per(f["dynamodb.item_bytes_written"]),
                "conditional_check_failures": per(f["dynamodb.conditional_check_failures"]),
            },
            "s3": {
                "put_requests": per(f["s3.put_class_requests"]),
                "get_requests": per(f["s3.get_class_requests"]),
                "bytes_put": per(f["s3.bytes_put"]),
            },
            "sns": {"publish_requests": per(f["sns.publish_requests"]), "publishes": per(f["sns.publishes"])},
            "secretsmanager": {
                "calls": per(sum(secret_calls.values())),
                "cmk_calls": per(cmk_calls),
                "by_function": secrets_by_function,
            },
            "ssm": {"calls": per(sum(n for c, n in calls.items() if c.startswith("ssm:")))},
            "kms": {"calls": per(sum(n for c, n in calls.items() if c.startswith("kms:")))},
            "apigateway": {
                "requests": per(len(http_requests)),
                "billed_requests": per(api_units),
                "access_log_bytes": per(access_bytes),
            },
            "logs": {
                name: {
                    "bytes": per(log.bytes),
                    "events": per(log.events),
                    "compressed_bytes": per(log.compressed_bytes),
                }
                for name, log in sorted(logs.items())
            },
        },
        "metrics": [[namespace, name, [list(d) for d in dims]] for namespace, name, dims in metrics],
    }


def load_usage(path: Path) -> dict[str, Any]:
    """A usage document, or the `cost.usage` of a run's JSON summary (`automation-local --json`)."""
    text = path.read_text().strip()
    if not text.startswith("{"):  # a run's whole output: the summary is its last line
        text = text.splitlines()[-1]
    document = json.loads(text)
    if "cost" in document and isinstance(document["cost"], dict):
        document = document["cost"].get("usage", document)
    if document.get("version") != USAGE_VERSION or "per_order" not in document:
        raise ValueError(f"{path}: not a usage document (bench/cost-usage.json or a run's --json summary)")
    return document
