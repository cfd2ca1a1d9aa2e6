"""The SAM template, loaded and translated to CloudFormation the way AWS does it.

The translation is samtranslator's own (the library behind the AWS::Serverless
transform), so the local stack, the snapshot and the tests all see the resources AWS
would create, with no second hand-kept list.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import boto3
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator
from samtranslator.yaml_helper import yaml_parse

from automation_local.aws.identity import ACCOUNT_ID, REGION
from automation_local.cloudformation.project import TEMPLATE_PATH

CODE_PROPERTY = {"AWS::Serverless::Function": "CodeUri", "AWS::Serverless::LayerVersion": "ContentUri"}


def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    return yaml_parse(path.read_text())


def code_resources(template: dict[str, Any]) -> dict[str, str]:
    """Logical id -> local code directory (relative to the template) of each function and
    layer: its own `CodeUri` (`ContentUri`), or the one `Globals` gives every function."""
    global_code_uri = template.get("Globals", {}).get("Function", {}).get("CodeUri")
    return {
        logical_id: resource.get("Properties", {}).get(CODE_PROPERTY[resource["Type"]], global_code_uri)
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] in CODE_PROPERTY
    }


def short_name(logical_id: str) -> str:
    """What the local runtime calls a function: `worker` for WorkerFunction, `order-intake`
    for OrderIntakeFunction (its log file, its caller at the usage meter, `invoke NAME`)."""
    stem = logical_id.removesuffix("Function") or logical_id
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", stem).lower()


def function_names(template: dict[str, Any]) -> dict[str, str]:
    """Short name -> logical id of each `AWS::Serverless::Function` of a SAM template."""
    return {
        short_name(logical_id): logical_id
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }


def parameter_values(template: dict[str, Any], overrides: dict[str, str] | None = None) -> dict[str, str]:
    """Every parameter's value: the override where given, else the template's default."""
    values = {name: str(spec["Default"]) for name, spec in template.get("Parameters", {}).items() if "Default" in spec}
    values.update(overrides or {})
    return values


def translate(
    template: dict[str, Any],
    parameters: dict[str, str] | None = None,
    *,
    code_locations: dict[str, tuple[str, str]] | None = None,
    stack_name: str = "automation-dev",
    region: str = REGION,
    account_id: str = ACCOUNT_ID,
) -> dict[str, Any]:
    """SAM -> CloudFormation.

    `code_locations` maps each function's or layer's logical id to the (bucket, key) its
    package was uploaded to, as `sam package` does; without it a fixed placeholder
    location keeps the output stable for snapshots.
    """
    sam = copy.deepcopy(template)
    for logical_id in code_resources(sam):
        bucket, key = (code_locations or {}).get(logical_id, ("artifacts", f"{logical_id}.zip"))
        resource = sam["Resources"][logical_id]
        resource["Properties"][CODE_PROPERTY[resource["Type"]]] = f"s3://{bucket}/{key}"
    values: dict[str, Any] = parameter_values(sam, parameters)
    values.update(
        {
            "AWS::Region": region,
            "AWS::AccountId": account_id,
            "AWS::Partition": "aws",
            "AWS::StackName": stack_name,
            "AWS::URLSuffix": "amazonaws.com",
        }
    )
    # The template names no managed policy, so the translator needs no IAM lookups: an
    # empty map, and a session that only carries the region (no credentials are used).
    translator = Translator({}, Parser(), boto_session=boto3.Session(region_name=region))
    return translator.translate(sam, parameter_values=values, get_managed_policy_map=dict)


def normalised_json(cfn_template: dict[str, Any]) -> str:
    """Stable text of a translated template, for snapshots and diffs."""
    return json.dumps(cfn_template, indent=2, sort_keys=True) + "\n"
