"""The chart `make bench` draws: the monthly bill by service at three volumes, two scenarios.

One panel per volume (10 thousand, 1 million, 100 million orders a month), each with a
stacked bar per scenario (the happy path, a fifth failing), fixed costs included in their
service. matplotlib with the Agg backend: no display needed.
"""

from __future__ import annotations

from pathlib import Path

from automation_local.cost.model import SCALES, SERVICE_ORDER, Bill

COLOURS = {
    "dynamodb": "#4053d3",
    "lambda": "#ddb310",
    "cloudwatch_logs": "#b51d14",
    "s3": "#00beff",
    "xray": "#fb49b0",
    "sqs": "#00b25d",
    "apigateway": "#cacaca",
    "secretsmanager": "#8c564b",
    "kms": "#17becf",
    "sns": "#9467bd",
    "ssm": "#7f7f7f",
    "cloudwatch": "#ff7f0e",
}


def draw(bills: dict[str, dict[str, Bill]], path: Path) -> Path:
    """`bills`: scenario -> volume label (SCALES) -> bill."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scenarios = list(bills)
    figure, axes = plt.subplots(1, len(SCALES), figsize=(12, 4.8))
    for axis, label in zip(axes, SCALES, strict=True):
        bottoms = [0.0] * len(scenarios)
        for service in SERVICE_ORDER:
            values = [bills[s][label].with_fixed_by_service().get(service, 0.0) for s in scenarios]
            if not any(values):
                continue
            axis.bar(scenarios, values, bottom=bottoms, color=COLOURS.get(service), label=service, width=0.6)
            bottoms = [b + v for b, v in zip(bottoms, values, strict=True)]
        for x, total in enumerate(bottoms):
            axis.annotate(f"${total:,.2f}", (x, total), ha="center", va="bottom", fontsize=9)
        axis.set_title(f"{label} orders a month")
        axis.set_ylabel("USD a month")
        axis.set_ylim(0, max(bottoms) * 1.15)
        axis.tick_params(axis="x", labelsize=9)
    handles, labels = axes[0].get_legend_handles_labels()
    seen = dict(zip(labels, handles, strict=True))
    for axis in axes[1:]:
        for handle, name in zip(*axis.get_legend_handles_labels(), strict=True):
            seen.setdefault(name, handle)
    ordered = [s for s in SERVICE_ORDER if s in seen]
    figure.legend([seen[s] for s in ordered], ordered, loc="lower center", ncol=len(ordered), fontsize=8)
    figure.suptitle("What the backbone costs on AWS a month, by service (us-east-1, usage measured locally)")
    figure.tight_layout(rect=(0, 0.08, 1, 0.95))
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
