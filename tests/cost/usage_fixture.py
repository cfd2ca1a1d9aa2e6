"""A hand-made usage document with round numbers, for the model's and the command's tests."""

from __future__ import annotations

from typing import Any

from automation_local.cost.stack_facts import StackFacts


def usage(**per_order: Any) -> dict[str, Any]:
    """Per order: one worker invocation in ten (1 GB, 100 ms billed each, 10 of them INIT),
    0.5 SQS requests, 4 WRU and 0.5 RRU, half an S3 PUT, a tenth of an API request and
    1073.741824 log bytes (1 GB a million orders)."""
    document = {
        "version": 1,
        "orders": 1000,
        "fail_rate": 0.0,
        "per_order": {
            "calls": {"dynamodb:PutItem": 4.0},
            "calls_by_caller": {"worker": {"dynamodb:PutItem": 4.0}},
            "lambda": {
                "worker": {
                    "invocations": 0.1,
                    "billed_ms": 10.0,
                    "init_ms": 1.0,
                    "cold_starts": 0.001,
                    "memory_mb": 1024,
                }
            },
            "sqs": {
                "function_requests": 0.3,
                "esm_requests": 0.2,
                "esm_empty_receives_local": 3.0,
                "payload_bytes": 1.0,
            },
            "dynamodb": {
                "writes": 4.0,
                "write_units": 4.0,
                "reads": 1.0,
                "read_units": 0.5,
                "item_bytes_written": 400.0,
                "conditional_check_failures": 0.0,
            },
            "s3": {"put_requests": 0.5, "get_requests": 0.0, "bytes_put": 100.0},
            "sns": {"publish_requests": 0.0, "publishes": 0.0},
            "secretsmanager": {"calls": 0.0, "cmk_calls": 0.0, "by_function": {}},
            "ssm": {"calls": 0.0},
            "kms": {"calls": 0.0},
            "apigateway": {"requests": 0.1, "billed_requests": 0.1, "access_log_bytes": 0.0},
            "logs": {"worker": {"bytes": 1073.741824, "events": 4.0, "compressed_bytes": 0.0}},
        },
        "metrics": [["ns", f"Metric{i}", [["service", "worker"]]] for i in range(5)],
    }
    document["per_order"].update(per_order)
    return document


def facts(**overrides: Any) -> StackFacts:
    """A stack like the template's: one key, 14 alarms, a dashboard, 1 + 3 secrets, 2 mappings."""
    values: dict[str, Any] = {
        "memory_mb": {"worker": 1024},
        "traced": {"worker": True},
        "kms_keys": 1,
        "alarms": 14,
        "alarm_metrics": 14,
        "dashboards": 1,
        "stack_secrets": 1,
        "integration_secrets": 3,
        "mappings": 2,
        "mappings_with_event_count_metrics": 0,
        "log_retention_days": 30,
        "kms_data_key_reuse_seconds": 21600,
        "queue_principals": {},
        "table_principals": 0,
    }
    values.update(overrides)
    return StackFacts(**values)
