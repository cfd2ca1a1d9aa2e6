"""cfn-lint with the house rules: zero findings on template.yaml, and each house rule bites."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import ManualArgs, lint

from automation_local.cloudformation.project import REPO_ROOT


def _house_findings(template: dict[str, Any]) -> list[str]:
    config = ManualArgs(append_rules=[str(REPO_ROOT / "lint_rules")], regions=["us-east-1"])
    return [f"{m.rule.id} {m.message}" for m in lint(json.dumps(template), config=config) if m.rule.id.startswith("E9")]


def test_cfn_lint_reports_nothing_on_the_template() -> None:
    # GIVEN the template and the repository's lint configuration
    # WHEN cfn-lint runs with no arguments
    # The command users and the before-stop hook run: .cfnlintrc.yaml adds the house rules.
    result = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint")], cwd=REPO_ROOT, capture_output=True, text=True, check=False
    )
    # THEN it succeeds and reports nothing
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""


def test_house_rules_find_nothing_in_the_template(sam_template: dict[str, Any]) -> None:
    # GIVEN the template as written
    # WHEN the house rules lint it
    # THEN they find nothing
    assert _house_findings(sam_template) == []


def _without(template: dict[str, Any], *path: str) -> dict[str, Any]:
    broken = copy.deepcopy(template)
    node = broken
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]
    return broken


@pytest.mark.parametrize(
    "path, rule",
    [
        (("Resources", "WorkerFunction", "Properties", "LoggingConfig"), "E9001"),
        (("Resources", "WorkerLogGroup", "Properties", "RetentionInDays"), "E9001"),
        (("Resources", "ResultQueue", "Properties", "RedrivePolicy"), "E9002"),
        (("Resources", "OrderDeadLetterQueueAlarm"), "E9002"),
        (("Resources", "OrderQueue", "Properties", "KmsMasterKeyId"), "E9003"),
        (("Resources", "AlertTopic", "Properties", "KmsMasterKeyId"), "E9003"),
    ],
)
def test_each_house_rule_reports_its_violation(sam_template: dict[str, Any], path: tuple[str, ...], rule: str) -> None:
    # GIVEN the template with one house convention broken
    broken = _without(sam_template, *path)
    # WHEN it is linted THEN the matching house rule reports it
    findings = _house_findings(broken)
    assert any(f.startswith(rule) for f in findings), findings
