"""The price table (prices.json beside this module): every price the cost model uses."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PRICES_PATH = Path(__file__).with_name("prices.json")
DEFAULT_REGION = "us-east-1"


class UnknownRegionError(ValueError):
    """The price table holds no prices for the region asked for."""


@dataclass(frozen=True)
class Price:
    id: str
    service: str
    price: float  # USD per `per` units (the first tier's, where tiered)
    per: float
    unit: str
    region: str
    source: str
    read: str
    tiers: tuple[tuple[float | None, float], ...] = ()  # (up to units a month, USD per `per`)

    def cost(self, units: float) -> float:
        """USD for this many units in a month, tier by tier."""
        if not self.tiers:
            return units * self.price / self.per
        total, below = 0.0, 0.0
        for upper, price in self.tiers:
            in_tier = units - below if upper is None else min(units, upper) - below
            if in_tier <= 0:
                break
            total += in_tier * price / self.per
            if upper is None:
                break
            below = upper
        return total


class PriceTable:
    def __init__(self, rows: list[dict[str, Any]], facts: list[dict[str, Any]], region: str) -> None:
        regions = sorted({row["region"] for row in rows})
        if region not in regions:
            raise UnknownRegionError(
                f"no prices for region {region!r}: {PRICES_PATH.name} holds {', '.join(regions)} only"
            )
        self.region = region
        self.prices = {
            row["id"]: Price(
                id=row["id"],
                service=row["service"],
                price=float(row["price"]),
                per=float(row["per"]),
                unit=row["unit"],
                region=row["region"],
                source=row["source"],
                read=row["read"],
                tiers=tuple((t[0], float(t[1])) for t in row.get("tiers", ())),
            )
            for row in rows
            if row["region"] == region
        }
        self.facts = {fact["id"]: fact["value"] for fact in facts}

    def cost(self, price_id: str, units: float) -> float:
        return self.prices[price_id].cost(units)

    def __getitem__(self, price_id: str) -> Price:
        return self.prices[price_id]


def load_prices(region: str = DEFAULT_REGION, path: Path = PRICES_PATH) -> PriceTable:
    document = json.loads(path.read_text())
    return PriceTable(document["rows"], document.get("facts", []), region)
