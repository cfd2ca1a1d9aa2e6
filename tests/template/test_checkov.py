"""checkov (framework cloudformation) finds nothing wrong with the template.

It scans the SAM-translated template, the CloudFormation that AWS receives, rather than
template.yaml: checkov reads SAM's Serverless types only in part, so on template.yaml it
never sees what the transform generates (the HTTP API's stage, the functions' Lambda
permissions) and runs no graph check on the functions. SAM copies a resource's Metadata
to what it generates under the same logical id, so the skips written beside each
resource in template.yaml (`Metadata: checkov: skip: [{id, comment}]`) reach the scan;
they are the only skips there are, since the command passes no --skip-check.

checkov runs from its own environment, .venv-checkov (see requirements/checkov.txt).
Run with `-s` to see the figures.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from automation_local.cloudformation.project import REPO_ROOT
from automation_local.cloudformation.template import normalised_json

pytestmark = pytest.mark.slow

Report = dict[str, Any]


@pytest.fixture(scope="module")
def checkov_cli() -> str:
    candidate = os.environ.get("CHECKOV_BIN") or str(REPO_ROOT / ".venv-checkov" / "bin" / "checkov")
    path = shutil.which(candidate)
    if path is None:
        pytest.fail(f"checkov not found at {candidate}: run `make venv` (or the tests with `make test`)")
    return path


def _scan(checkov_cli: str, cfn_template: dict[str, Any], directory: Path) -> Report:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "template.cfn.json").write_text(normalised_json(cfn_template))
    # --skip-download: nothing is fetched from the vendor's platform (no network here).
    result = subprocess.run(
        [checkov_cli, "-f", "template.cfn.json", "--framework", "cloudformation", "-o", "json", "--skip-download"],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode in (0, 1), result.stdout + result.stderr  # 1: some check failed
    report: Report = json.loads(result.stdout)
    assert report["summary"]["parsing_errors"] == 0, report["summary"]
    return report


def _findings(report: Report, kind: str) -> set[tuple[str, str]]:
    return {(check["check_id"], check["resource"]) for check in report["results"][kind]}


def _figures(report: Report) -> str:
    summary = report["summary"]
    counts = " ".join(f"{name}={summary[name]}" for name in ("passed", "failed", "skipped", "resource_count"))
    return f"checkov {summary['checkov_version']}: {counts}"


@pytest.fixture(scope="module")
def report(checkov_cli: str, cfn_template: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Report:
    return _scan(checkov_cli, cfn_template, tmp_path_factory.mktemp("checkov"))


def test_checkov_reports_no_failed_check(report: Report) -> None:
    # GIVEN checkov's scan of the template as CloudFormation receives it
    # WHEN its figures and skips are printed, and its failed checks read
    print(f"\n{_figures(report)}")
    for check in sorted(report["results"]["skipped_checks"], key=lambda c: (c["resource"], c["check_id"])):
        print(f"  skipped {check['check_id']} on {check['resource']}: {check['check_result']['suppress_comment']}")
    failed = sorted(f"{check_id} {resource}" for check_id, resource in _findings(report, "failed_checks"))
    # THEN no check failed, and some passed
    assert failed == [], _figures(report)
    assert report["summary"]["passed"] > 0


def test_checkov_checks_the_resources_the_transform_generates(report: Report) -> None:
    # GIVEN checkov's scan of the template as CloudFormation receives it
    # WHEN the resources its checks passed or skipped are gathered
    checked = {resource for _, resource in _findings(report, "passed_checks") | _findings(report, "skipped_checks")}
    # THEN they include what the transform generates: the HTTP API's stage, the webhook's
    # permission, and the three functions
    assert "AWS::ApiGatewayV2::Stage.HttpApiApiGatewayDefaultStage" in checked
    assert "AWS::Lambda::Permission.WebhookFunctionPostOrdersPermission" in checked
    assert {f"AWS::Lambda::Function.{name}" for name in ("WebhookFunction", "WorkerFunction", "FeedbackFunction")} <= (
        checked
    )


def test_every_skip_gives_its_reason(report: Report) -> None:
    # GIVEN checkov's scan of the template as CloudFormation receives it
    # WHEN the checks it skipped without a comment are gathered
    unexplained = [
        f"{check['check_id']} {check['resource']}"
        for check in report["results"]["skipped_checks"]
        if check["check_result"].get("suppress_comment", "No comment provided") in ("", "No comment provided")
    ]
    # THEN there are none: every skip says why
    assert unexplained == []


def _without_checkov_skips(cfn_template: dict[str, Any]) -> dict[str, Any]:
    stripped = copy.deepcopy(cfn_template)
    for resource in stripped["Resources"].values():
        resource.get("Metadata", {}).pop("checkov", None)
    return stripped


def test_every_skip_covers_a_check_that_fails_without_it(
    report: Report, checkov_cli: str, cfn_template: dict[str, Any], tmp_path: Path
) -> None:
    # GIVEN the same template with every checkov skip taken out
    unskipped = _scan(checkov_cli, _without_checkov_skips(cfn_template), tmp_path)
    # THEN exactly the skipped checks fail: no skip is stale, none hides a second finding
    assert _findings(unskipped, "failed_checks") == _findings(report, "skipped_checks")
    assert _findings(unskipped, "skipped_checks") == set()
