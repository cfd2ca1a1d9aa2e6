"""The monthly bill at a volume: measured usage per order x orders, priced, plus the stack's fixed costs.

Usage (usage.py) is per order; the bill at N orders a month multiplies it by N and prices
each service with the price table (prices.json), tier by tier where AWS lowers the price
with volume. Free tiers are left out: they are per account, and a team pays at scale.

Two usage items are not linear in N and are priced at N:
- X-Ray traces: Lambda's default sampling records 1 request a second per function and 5 %
  of the rest, so below one invocation a second every invocation is a trace; invocations
  are taken as spread evenly over the month (a busy hour records fewer of its requests);
- Secrets Manager and SSM calls: each execution environment fetches a value once per cache
  period (5 minutes), so they grow with the functions' concurrency, not with the orders
  (see cached_calls; the run measures the calls per environment);
- CloudWatch Logs and Lambda duration fall in price past their volume tiers.

Fixed a month, whatever the volume (from the template, stack_facts.py):
- the KMS key; the KMS data-key calls of the encrypted queues: per queue, a month / reuse
  period x (2 x producing principals + consuming principals) (SQS's documented estimate,
  the README's `kms_calls_per_day`); DynamoDB's table key: one Decrypt per principal per
  5 minutes of use (its cache), taken as used all month;
- alarms (their metrics), the dashboard, the secrets (the stack's and the integrations');
- custom metrics: the distinct EMF metric names x dimension values the functions emitted
  in the run, and each mapping's EventCount metrics (MetricsConfig), taken as billed like
  custom metrics;
- the mappings' idle pollers: AWS polls each SQS mapping with 5 pollers long-polling 20 s,
  so an idle mapping makes 5 x a month / 20 s empty receives (an upper bound: a busy
  mapping's receives return messages, and those are in the usage).

Log storage grows with the volume, so it is usage: at LogRetentionDays the stored logs hold
that many days of ingestion, compressed (gzip of the run's own lines).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from automation_local.cost.prices import PriceTable
from automation_local.cost.stack_facts import StackFacts

SECONDS_PER_MONTH = 2_629_746  # 365.2425 days / 12
# The functions cache secrets and parameters this long per execution environment (Powertools
# Parameters' max_age in src/: SECRET_CACHE_SECONDS, CACHE_SECONDS).
PARAMETER_CACHE_SECONDS = 300
DAYS_PER_MONTH = SECONDS_PER_MONTH / 86_400
GB = 1024**3
SCALES = {"10 thousand": 10_000, "1 million": 1_000_000, "100 million": 100_000_000}
SERVICE_ORDER = (
    "dynamodb",
    "lambda",
    "cloudwatch_logs",
    "s3",
    "xray",
    "sqs",
    "apigateway",
    "secretsmanager",
    "kms",
    "sns",
    "ssm",
    "cloudwatch",
)


@dataclass
class Bill:
    orders_per_month: float
    usage: dict[str, dict[str, float]] = field(default_factory=dict)  # service -> item -> USD
    fixed: dict[str, float] = field(default_factory=dict)  # item -> USD
    quantities: dict[str, float] = field(default_factory=dict)  # what was priced, for the breakdown

    def add(self, service: str, item: str, usd: float) -> None:
        self.usage.setdefault(service, {})[item] = self.usage.get(service, {}).get(item, 0.0) + usd

    def by_service(self) -> dict[str, float]:
        return {service: sum(self.usage[service].values()) for service in SERVICE_ORDER if service in self.usage}

    @property
    def usage_total(self) -> float:
        return sum(self.by_service().values())

    @property
    def fixed_total(self) -> float:
        return sum(self.fixed.values())

    @property
    def total(self) -> float:
        return self.usage_total + self.fixed_total

    def with_fixed_by_service(self) -> dict[str, float]:
        """Usage and fixed costs together, by service (the chart's stacks)."""
        services = self.by_service()
        for item, usd in self.fixed.items():
            service = FIXED_SERVICE[item]
            services[service] = services.get(service, 0.0) + usd
        return {s: services[s] for s in SERVICE_ORDER if s in services}


FIXED_SERVICE = {
    "kms_key": "kms",
    "kms_queue_data_keys": "kms",
    "kms_table_key": "kms",
    "alarms": "cloudwatch",
    "dashboard": "cloudwatch",
    "custom_metrics": "cloudwatch",
    "mapping_metrics": "cloudwatch",
    "secrets": "secretsmanager",
    "idle_pollers": "sqs",
}


def aws_milliseconds(lam: dict[str, Any], calls_per_order: float, prices: PriceTable) -> tuple[float, float]:
    """A function's billed milliseconds per order on AWS: its invocations', and the init's.

    The local run's durations are mostly waiting: for an emulator that one Python process
    serves to every function and poller on two shared cores, tens to hundreds of
    milliseconds a call, where AWS answers in about ten. So the bill is built from what does
    not depend on this machine: the CPU time each invocation used (measured, all threads;
    Lambda gives CPU in proportion to MemorySize, one vCPU at 1,769 MB, so below that the
    same work takes 1,769 / MemorySize times as long) and a round trip to AWS per call on a
    record's path (a record's calls run one after another and a batch's records at once, so
    an invocation waits for about one record's calls, plus its batch's shared send). Waits
    for the integrations (Telegram, Perplexity, target sites: local stand-ins here) are not
    in it: that is their latency, priced at MemorySize for as long as they take."""
    if "cpu_ms" not in lam:  # usage measured before CPU times were kept: this machine's durations
        return lam["billed_ms"] - lam["init_ms"], lam["init_ms"]
    stretch = max(1.0, prices.facts["lambda.vcpu_memory_mb"] / lam["memory_mb"])
    waits = (calls_per_order + 1) * lam["invocations"] * prices.facts["aws.api_round_trip_ms"]
    return lam["cpu_ms"] * stretch + waits, lam["init_cpu_ms"] * stretch


def xray_traces(invocations_per_month: float, reservoir: float, share: float) -> float:
    """Traces Lambda's sampling records from one function's invocations, spread evenly."""
    rate = invocations_per_month / SECONDS_PER_MONTH
    return SECONDS_PER_MONTH * (min(rate, reservoir) + share * max(rate - reservoir, 0.0))


def cached_calls(
    calls_per_order: float, lam: dict[str, float] | None, orders: float, billed_ms_per_order: float | None = None
) -> float:
    """Calls a month of a value each execution environment fetches once per cache period.

    The run measures the calls per environment (per cold start: a short run fetches each
    value once per sandbox); on AWS an environment fetches again every cache period while it
    lives, and the environments alive are the function's mean concurrency (invocations a
    second x their duration), at least one while there is traffic; never more than one call
    per value per invocation (below one invocation a cache period, each one fetches)."""
    if not calls_per_order or not lam or not lam.get("invocations"):
        return calls_per_order * orders
    per_environment = calls_per_order / max(lam["cold_starts"], lam["invocations"] * 1e-9)
    invocations = lam["invocations"] * orders
    billed = lam["billed_ms"] if billed_ms_per_order is None else billed_ms_per_order
    concurrency = invocations / SECONDS_PER_MONTH * billed / lam["invocations"] / 1000
    refreshes = max(1.0, concurrency) * SECONDS_PER_MONTH / PARAMETER_CACHE_SECONDS
    return per_environment * min(invocations, refreshes)


def fixed_costs(facts: StackFacts, usage: dict[str, Any], prices: PriceTable) -> dict[str, float]:
    producers_consumers = sum(2 * p + c for p, c in facts.queue_principals.values())
    queue_kms_calls = SECONDS_PER_MONTH / facts.kms_data_key_reuse_seconds * producers_consumers
    table_kms_calls = facts.table_principals * SECONDS_PER_MONTH / prices.facts["dynamodb.table_key_cache_seconds"]
    pollers, wait_seconds = prices.facts["sqs.esm_idle_pollers"]
    custom_metrics = len(usage.get("metrics", []))
    mapping_metrics = facts.mappings_with_event_count_metrics * prices.facts["lambda.esm_event_count_metrics"]
    return {
        "kms_key": prices.cost("kms.key_month", facts.kms_keys),
        "kms_queue_data_keys": prices.cost("kms.request", queue_kms_calls),
        "kms_table_key": prices.cost("kms.request", table_kms_calls),
        "alarms": prices.cost("cloudwatch.alarm_metric", facts.alarm_metrics),
        "dashboard": prices.cost("cloudwatch.dashboard", facts.dashboards),
        "custom_metrics": prices.cost("cloudwatch.custom_metric", custom_metrics),
        "mapping_metrics": prices.cost("cloudwatch.custom_metric", mapping_metrics),
        "secrets": prices.cost("secretsmanager.secret_month", facts.stack_secrets + facts.integration_secrets),
        "idle_pollers": prices.cost("sqs.request", facts.mappings * pollers * SECONDS_PER_MONTH / wait_seconds),
    }


def monthly_bill(usage: dict[str, Any], facts: StackFacts, prices: PriceTable, orders_per_month: float) -> Bill:
    n = orders_per_month
    u = usage["per_order"]
    bill = Bill(orders_per_month=n)
    q = bill.quantities

    # Lambda: requests, billed duration (INIT included, as since 2025-08) x MemorySize, the
    # duration as AWS would bill it (aws_milliseconds).
    invocations = gb_seconds = init_gb_seconds = 0.0
    aws_ms: dict[str, float] = {}  # per order, by function (for the environments alive: cached_calls)
    for function, lam in u["lambda"].items():
        lam = {**lam, "memory_mb": facts.memory_mb.get(function, lam["memory_mb"])}
        memory_gb = lam["memory_mb"] / 1024
        calls = sum(u.get("calls_by_caller", {}).get(function, {}).values())
        duration_ms, init_ms = aws_milliseconds(lam, calls, prices)
        aws_ms[function] = duration_ms + init_ms
        invocations += lam["invocations"] * n
        gb_seconds += (duration_ms + init_ms) / 1000 * memory_gb * n
        init_gb_seconds += init_ms / 1000 * memory_gb * n
    duration_usd = prices.cost("lambda.arm64.gb_second", gb_seconds)
    init_share = init_gb_seconds / gb_seconds if gb_seconds else 0.0
    bill.add("lambda", "requests", prices.cost("lambda.request", invocations))
    bill.add("lambda", "duration", duration_usd * (1 - init_share))
    bill.add("lambda", "init", duration_usd * init_share)
    q.update(lambda_invocations=invocations, lambda_gb_seconds=gb_seconds, lambda_init_gb_seconds=init_gb_seconds)

    sqs_requests = (u["sqs"]["function_requests"] + u["sqs"]["esm_requests"]) * n
    bill.add("sqs", "requests", prices.cost("sqs.request", sqs_requests))
    q["sqs_requests"] = sqs_requests

    bill.add("dynamodb", "writes", prices.cost("dynamodb.write_request_unit", u["dynamodb"]["write_units"] * n))
    bill.add("dynamodb", "reads", prices.cost("dynamodb.read_request_unit", u["dynamodb"]["read_units"] * n))
    q.update(dynamodb_write_units=u["dynamodb"]["write_units"] * n, dynamodb_read_units=u["dynamodb"]["read_units"] * n)

    bill.add("s3", "put_requests", prices.cost("s3.put_request", u["s3"]["put_requests"] * n))
    bill.add("s3", "get_requests", prices.cost("s3.get_request", u["s3"]["get_requests"] * n))

    publishes = u["sns"]["publish_requests"] * n
    bill.add("sns", "publishes", prices.cost("sns.publish", publishes))
    if facts.email_subscriptions:
        emails = u["sns"]["publishes"] * n * facts.email_subscriptions
        bill.add("sns", "email", prices.cost("sns.email_notification", emails))

    # Secrets and parameters: fetched once per cache period per execution environment.
    secret_calls = cmk_secret_calls = ssm_calls = 0.0
    for function, calls in u["calls_by_caller"].items():
        lam = u["lambda"].get(function)
        billed = aws_ms.get(function)
        secret_calls += cached_calls(calls.get("secretsmanager:GetSecretValue", 0.0), lam, n, billed)
        ssm_calls += cached_calls(calls.get("ssm:GetParameter", 0.0), lam, n, billed)
        cmk = u["secretsmanager"].get("by_function", {}).get(function, {}).get("cmk_calls", 0.0)
        cmk_secret_calls += cached_calls(cmk, lam, n, billed)
    bill.add("secretsmanager", "api_calls", prices.cost("secretsmanager.api_call", secret_calls))
    bill.add("ssm", "api_calls", prices.cost("ssm.standard_parameter_call", ssm_calls))
    q.update(secretsmanager_calls=secret_calls, ssm_calls=ssm_calls)

    # KMS calls AWS makes for the usage: a GetSecretValue of a CMK-encrypted secret is one
    # Decrypt; an S3 Bucket Key cuts the object requests' calls to 1 %; an SNS publish to the
    # encrypted topic one data key (taken as no reuse); and any the functions make themselves.
    kms_calls = cmk_secret_calls + n * (
        prices.facts["s3.bucket_key_kms_share"] * (u["s3"]["put_requests"] + u["s3"]["get_requests"])
        + u["sns"]["publishes"]
        + u["kms"]["calls"]
    )
    bill.add("kms", "requests", prices.cost("kms.request", kms_calls))
    q["kms_usage_calls"] = kms_calls

    api_requests = u["apigateway"]["billed_requests"] * n
    bill.add("apigateway", "requests", prices.cost("apigateway.http_api_request", api_requests))

    lambda_log_gb = sum(log["bytes"] for log in u["logs"].values()) * n / GB
    access_log_gb = u["apigateway"]["access_log_bytes"] * n / GB
    stored_gb = sum(log["compressed_bytes"] for log in u["logs"].values()) * n / GB + access_log_gb * 0.15
    bill.add("cloudwatch_logs", "lambda_ingestion", prices.cost("logs.lambda_ingestion", lambda_log_gb))
    bill.add("cloudwatch_logs", "api_access_log_ingestion", prices.cost("logs.standard_ingestion", access_log_gb))
    retention_months = facts.log_retention_days / DAYS_PER_MONTH
    bill.add("cloudwatch_logs", "storage", prices.cost("logs.storage", stored_gb * retention_months))
    q.update(lambda_log_gb=lambda_log_gb, access_log_gb=access_log_gb, stored_log_gb=stored_gb * retention_months)

    reservoir, share = prices.facts["xray.lambda_sampling"]
    traces = sum(
        xray_traces(lam["invocations"] * n, reservoir, share)
        for function, lam in u["lambda"].items()
        if facts.traced.get(function, True)
    )
    bill.add("xray", "traces_recorded", prices.cost("xray.trace_recorded", traces))
    q["xray_traces"] = traces

    bill.fixed = fixed_costs(facts, usage, prices)
    return bill


def cost_summary(usage: dict[str, Any], facts: StackFacts, prices: PriceTable) -> dict[str, Any]:
    """What a run's JSON summary carries as `cost`: the usage priced at a million orders a
    month, the fixed monthly costs, the bill at three volumes and the usage itself."""
    million = monthly_bill(usage, facts, prices, 1_000_000)
    u = usage["per_order"]
    return {
        "region": prices.region,
        "per_million_orders": {s: round(v, 4) for s, v in million.by_service().items()},
        "per_million_orders_total": round(million.usage_total, 4),
        "monthly_fixed": {k: round(v, 4) for k, v in million.fixed.items()},
        "monthly_fixed_total": round(million.fixed_total, 4),
        "monthly_bill": {label: round(monthly_bill(usage, facts, prices, n).total, 2) for label, n in SCALES.items()},
        "per_order": {
            "emulator_calls": round(sum(u["calls"].values()), 3),
            "dynamodb_writes": round(u["dynamodb"]["writes"], 3),
            "dynamodb_write_units": round(u["dynamodb"]["write_units"], 3),
            "s3_puts": round(u["s3"]["put_requests"], 3),
            "log_bytes": round(sum(log["bytes"] for log in u["logs"].values()), 1),
        },
        "usage": usage,
    }
