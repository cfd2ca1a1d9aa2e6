"""Figures that need the local runtime (automation_local's pollers and demo load), not there yet.

When it lands, each becomes a `@measurement` here (or in its own module) returning the
same key:
- sends_per_order: SQS send calls per order over 1,000 happy-path orders submitted in
  batches of 10 (webhook, worker and feedback together), counted at the emulator;
- flow_ratio: orders per second end to end, against the emulator's own send + receive +
  delete throughput measured in the same run.
"""

from __future__ import annotations

from .registry import Goal, pending

pending("sends_per_order", Goal("<=", 0.35), "local runtime")
pending("flow_ratio", Goal(">=", 0.5), "local runtime")
