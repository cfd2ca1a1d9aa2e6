"""kms_calls_per_day: KMS data-key calls a day for the encrypted queues, at production settings.

The SQS developer guide's estimate for a queue with server-side encryption:
    calls per period = period / reuse period x (2 x producing principals + consuming principals)
(a producer calls GenerateDataKey and Decrypt once per reuse period, a consumer Decrypt).
Principals are read from the built template: the IAM roles allowed to send to a queue
(sqs:SendMessage, sqs:*) produce, those allowed to receive consume. The reuse period is
the template's KmsDataKeyReusePeriodSeconds as the prod config-env of samconfig.toml
deploys it (its override, else the default); the reference is SQS's default of 300 s.
"""

from __future__ import annotations

import shlex
import tomllib
from pathlib import Path
from typing import Any

from .artifacts import referenced
from .context import Bench
from .registry import Figure, Goal, measurement

GOAL = Goal("<=", 120)
DAY_SECONDS = 86_400
DEFAULT_REUSE_SECONDS = 300
PARAMETER = "KmsDataKeyReusePeriodSeconds"
SENDS = ("sqs:SendMessage", "sqs:SendMessageBatch", "sqs:*")
RECEIVES = ("sqs:ReceiveMessage", "sqs:*")


def _statements(role: dict[str, Any]) -> list[dict[str, Any]]:
    policies = role.get("Properties", {}).get("Policies", [])
    return [s for p in policies for s in p["PolicyDocument"]["Statement"] if s.get("Effect") == "Allow"]


def principals(template: dict[str, Any]) -> dict[str, tuple[set[str], set[str]]]:
    """Each KMS-encrypted queue -> (producing roles, consuming roles)."""
    queues: dict[str, tuple[set[str], set[str]]] = {
        name: (set(), set())
        for name, resource in template["Resources"].items()
        if resource["Type"] == "AWS::SQS::Queue" and "KmsMasterKeyId" in resource.get("Properties", {})
    }
    for role_name, role in template["Resources"].items():
        if role["Type"] != "AWS::IAM::Role":
            continue
        for statement in _statements(role):
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            for queue in referenced(statement.get("Resource")) & queues.keys():
                if any(action in SENDS for action in actions):
                    queues[queue][0].add(role_name)
                if any(action in RECEIVES for action in actions):
                    queues[queue][1].add(role_name)
    return queues


def production_reuse_seconds(template: dict[str, Any], samconfig: Path) -> tuple[int, str]:
    default = int(template["Parameters"][PARAMETER]["Default"])
    if samconfig.is_file():
        config = tomllib.loads(samconfig.read_text())
        overrides = config.get("prod", {}).get("deploy", {}).get("parameters", {}).get("parameter_overrides", "")
        for item in shlex.split(overrides):
            name, _, value = item.partition("=")
            if name == PARAMETER:
                return int(value), "prod override"
    return default, "template default"


@measurement("kms_calls_per_day")
def kms_calls_per_day(bench: Bench) -> list[Figure]:
    template = bench.artifacts.template
    reuse, source = production_reuse_seconds(template, bench.repo_root / "samconfig.toml")
    queues = {name: roles for name, roles in principals(template).items() if roles[0] or roles[1]}
    weight = sum(2 * len(producers) + len(consumers) for producers, consumers in queues.values())
    per_queue = "; ".join(f"{name} {len(p)}P/{len(c)}C" for name, (p, c) in sorted(queues.items()))
    return [
        Figure(
            "kms_calls_per_day",
            round(DAY_SECONDS / reuse * weight, 1),
            GOAL,
            detail=(
                f"reuse {reuse} s ({source}), {per_queue}; at the {DEFAULT_REUSE_SECONDS} s default: "
                f"{DAY_SECONDS / DEFAULT_REUSE_SECONDS * weight:,.0f}"
            ),
        )
    ]
