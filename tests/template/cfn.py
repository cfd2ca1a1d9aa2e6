"""Readers over a translated (CloudFormation) template, for the template tests."""

from __future__ import annotations

from typing import Any


def resources_of_type(cfn: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in cfn["Resources"].items() if r["Type"] == resource_type}


def ref_target(value: Any) -> str | None:
    """Logical id behind Ref / GetAtt, else None."""
    if isinstance(value, dict):
        if "Ref" in value:
            return value["Ref"]
        if "Fn::GetAtt" in value:
            target = value["Fn::GetAtt"]
            return target[0] if isinstance(target, list) else target.split(".")[0]
    return None


def role_statements(cfn: dict[str, Any], role: str) -> list[dict[str, Any]]:
    policies = cfn["Resources"][role]["Properties"].get("Policies", [])
    return [s for p in policies for s in p["PolicyDocument"]["Statement"]]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def actions_on(cfn: dict[str, Any], role: str, logical_id: str) -> set[str]:
    """Actions the role is allowed on the resource `logical_id` (by Ref, GetAtt or Sub of its Arn)."""
    actions: set[str] = set()
    for statement in role_statements(cfn, role):
        if statement["Effect"] != "Allow":
            continue
        for resource in as_list(statement["Resource"]):
            sub = resource.get("Fn::Sub") if isinstance(resource, dict) else None
            if ref_target(resource) == logical_id or (isinstance(sub, str) and sub.startswith(f"${{{logical_id}.")):
                actions |= set(as_list(statement["Action"]))
    return actions


def parameter_default(cfn: dict[str, Any], name: str) -> int:
    return int(cfn["Parameters"][name]["Default"])
