"""What the backbone costs on AWS, measured on the local runtime and priced.

- `prices.json` / `prices.py`: the price table, us-east-1, each price with its source and
  the date it was read; the model refuses a region the table has no prices for;
- `aws/usage_meter.py` (in the emulator's server, so beside it in aws/) meters each request
  of the functions and the mappings' pollers (SQS 64 KiB chunks, DynamoDB request units from
  the item sizes of `aws/dynamodb_item_size.py`, S3, SNS, Secrets Manager, SSM, KMS);
- `lambda_logs.py`: Lambda's START/END/REPORT lines the sandboxes write, and what the logs
  hold (bytes, billed duration, cold starts and init, EMF metrics);
- `usage.py`: one run's usage per order; `stack_facts.py`: what the template fixes (memory,
  alarms, secrets, retention, KMS reuse, principals); `model.py`: the monthly bill at a
  volume; `run.py`: the cost of a local run; `report.py`: the bill as text; `chart.py`:
  the chart `make bench` draws.

Where the local run differs from AWS, and what is modeled from AWS's documentation instead:

- Lambda's SQS pollers are AWS's own: the local pollers' receives that return messages and
  their deletes stand for the mappings' (counted), their empty receives do not; an idle
  mapping's empty receives are modeled (5 pollers long-polling 20 s);
- the demo's own calls (its progress display and order tracker, the DLQ peeks, the orders
  it writes straight into the queue) are not the backbone's and are not metered: only
  callers with the functions' and pollers' access keys are;
- X-Ray has no daemon here: traces are modeled from the invocations and Lambda's default
  sampling (1 a second per function, then 5 %);
- KMS calls are AWS's, not the emulator's: modeled from SQS's data key reuse period, one
  Decrypt per GetSecretValue of a CMK-encrypted secret, DynamoDB's 5-minute table key cache,
  the S3 Bucket Key's 99 % cut, one per SNS publish;
- durations are this machine's: the functions run on a shared local CPU against an
  emulator on loopback, not on Lambda's CPU share of their MemorySize against AWS's
  endpoints, so billed milliseconds on AWS differ (network calls take longer there, CPU
  work at 256-512 MB may too); cold starts are the run's sandboxes, few over a long month;
- the HTTP API's requests are counted at the local API server, their access log lines
  rendered in the template's format; CloudWatch's compression of stored logs is this
  machine's gzip of the same lines.
- Free tiers are left out: a team pays at scale.
"""
