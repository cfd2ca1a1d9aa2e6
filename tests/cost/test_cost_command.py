"""`automation-local cost --orders-per-month N [--config-env ENV] [--usage FILE]`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from automation_local.cli import main
from tests.cost.usage_fixture import usage

pytestmark = pytest.mark.fast


@pytest.fixture
def usage_file(tmp_path: Path) -> Path:
    path = tmp_path / "cost-usage.json"
    path.write_text(json.dumps(usage()))
    return path


def _lines(output: str) -> dict[tuple[str, str], float]:
    """(service or "fixed", item) -> USD, from the breakdown's table rows."""
    rows = {}
    for line in output.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] not in ("service",):
            try:
                rows[(parts[0], parts[1])] = float(parts[2].replace(",", ""))
            except ValueError:
                continue
    return rows


def test_the_bill_at_a_million_orders_is_printed_with_its_breakdown(usage_file: Path, capsys) -> None:
    # GIVEN a usage file  WHEN the bill at a million orders a month is asked for
    assert main(["cost", "--orders-per-month", "1000000", "--usage", str(usage_file)]) == 0
    output = capsys.readouterr().out
    rows = _lines(output)
    # THEN it says the volume and the usage it priced, and each service's items with their dollars
    assert output.startswith("monthly bill at 1,000,000 orders a month (us-east-1, USD, free tiers left out)")
    assert str(usage_file) in output
    assert rows[("dynamodb", "writes")] == 2.50
    assert rows[("s3", "put_requests")] == 2.50
    assert rows[("fixed", "dashboard")] == 3.00 and rows[("fixed", "kms_key")] == 1.00
    total = float(next(line for line in output.splitlines() if line.startswith("total")).split()[-1].replace(",", ""))
    assert total == pytest.approx(sum(rows.values()), abs=0.05)


def test_the_json_bill_grows_with_the_orders_and_the_fixed_costs_do_not(usage_file: Path, capsys) -> None:
    # GIVEN a usage file
    # WHEN the JSON bill is asked for at ten thousand and at a hundred million orders a month
    bills = {}
    for orders in ("10000", "100000000"):
        assert main(["cost", "--orders-per-month", orders, "--usage", str(usage_file), "--json"]) == 0
        bills[orders] = json.loads(capsys.readouterr().out)
    # THEN the usage grows with the orders, the fixed costs stay the same,
    # and each total is above the fixed costs alone
    small, large = bills["10000"], bills["100000000"]
    assert large["usage"]["dynamodb"] == pytest.approx(small["usage"]["dynamodb"] * 10_000)
    assert large["fixed"] == small["fixed"]
    assert large["total"] > small["total"] > sum(small["fixed"].values())


def test_a_config_env_with_a_longer_retention_stores_more_logs(tmp_path: Path, capsys) -> None:
    # GIVEN usage with compressed logs  WHEN priced for dev (14 days) and prod (90 days, samconfig.toml)
    path = tmp_path / "usage.json"
    path.write_text(json.dumps(usage(logs={"worker": {"bytes": 1e3, "events": 4.0, "compressed_bytes": 1e3}})))
    storage = {}
    for env in ("default", "prod"):
        assert main(["cost", "--orders-per-month", "1e6", "--usage", str(path), "--config-env", env, "--json"]) == 0
        storage[env] = json.loads(capsys.readouterr().out)["usage_items"]["cloudwatch_logs"]["storage"]
    # THEN prod's bill keeps 90/14 as much
    assert storage["prod"] == pytest.approx(storage["default"] * 90 / 14)


def test_a_region_without_prices_and_a_missing_usage_file_are_refused(usage_file: Path, tmp_path: Path, capsys) -> None:
    # GIVEN a usage file
    # WHEN the bill is asked for in a region the price table does not hold
    assert main(["cost", "--orders-per-month", "1e6", "--usage", str(usage_file), "--region", "ap-south-1"]) == 2
    # THEN it is refused, naming the region
    assert "no prices for region 'ap-south-1'" in capsys.readouterr().err
    # WHEN it is asked for with a usage file that does not exist
    assert main(["cost", "--orders-per-month", "1e6", "--usage", str(tmp_path / "none.json")]) == 2
    # THEN it is refused, saying how to make one
    assert "make bench" in capsys.readouterr().err


def test_a_runs_json_summary_serves_as_usage(tmp_path: Path, capsys) -> None:
    # GIVEN a run's output whose last line is its JSON summary with `cost.usage`
    path = tmp_path / "run.txt"
    path.write_text("summary\n  submitted 10\n" + json.dumps({"submitted": 10, "cost": {"usage": usage()}}) + "\n")
    assert main(["cost", "--orders-per-month", "1000", "--usage", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["usage"]["dynamodb"] == pytest.approx(
        1000 * 4 * 0.625e-6 + 1000 * 0.5 * 0.125e-6, abs=1e-6
    )
