"""A translated template as CloudFormation deploys it for given parameter values: its
`Conditions` evaluated, each `Fn::If` replaced by the branch it takes, `AWS::NoValue`
properties left out, and resources whose `Condition` is false dropped.

The template tests judge each deployment mode (`QueueType=standard` or `fifo`) on what
it deploys, and the snapshots keep one resolved template per mode. Only the condition
functions CloudFormation allows in `Conditions` are evaluated (Equals, Not, And, Or,
Condition) over parameter references; anything else is left as it is.

`broken_rules`: the template's `Rules` whose assertions the parameter values fail, as
CloudFormation refuses a change set with them (with Fn::Contains too, the one rule
function the template's assertions use besides those).
"""

from __future__ import annotations

from typing import Any

from automation_local.cloudformation.template import parameter_values

NO_VALUE = {"Ref": "AWS::NoValue"}


class _Omitted:
    """What an `AWS::NoValue` (or a branch that resolves to it) leaves: nothing."""


OMITTED = _Omitted()


def resolved(cfn_template: dict[str, Any], parameters: dict[str, str] | None = None) -> dict[str, Any]:
    values = parameter_values(cfn_template, parameters)
    conditions: dict[str, bool] = {}
    definitions = cfn_template.get("Conditions", {})

    def condition(name: str) -> bool:
        if name not in conditions:
            conditions[name] = _truth(definitions[name], values, condition)
        return conditions[name]

    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            if value == NO_VALUE:
                return OMITTED
            if len(value) == 1 and "Fn::If" in value:
                name, when_true, when_false = value["Fn::If"]
                return walk(when_true if condition(name) else when_false)
            kept = {key: walk(item) for key, item in value.items()}
            return {key: item for key, item in kept.items() if item is not OMITTED}
        if isinstance(value, list):
            return [item for item in (walk(element) for element in value) if item is not OMITTED]
        return value

    template = {key: walk(item) for key, item in cfn_template.items() if key != "Resources"}
    template["Resources"] = {
        logical_id: walk({key: item for key, item in resource.items() if key != "Condition"})
        for logical_id, resource in cfn_template["Resources"].items()
        if "Condition" not in resource or condition(resource["Condition"])
    }
    return template


def _truth(expression: Any, values: dict[str, str], condition: Any) -> bool:
    (function, argument), *_ = expression.items()
    if function == "Condition":
        return bool(condition(argument))
    if function == "Fn::Not":
        return not _truth(argument[0], values, condition)
    if function == "Fn::And":
        return all(_truth(item, values, condition) for item in argument)
    if function == "Fn::Or":
        return any(_truth(item, values, condition) for item in argument)
    if function == "Fn::Equals":
        left, right = (_value(item, values) for item in argument)
        return left == right
    if function == "Fn::Contains":
        allowed, item = argument
        return _value(item, values) in {str(value) for value in allowed}
    raise ValueError(f"not a condition function: {function}")


def _value(item: Any, values: dict[str, str]) -> str:
    if isinstance(item, dict) and "Ref" in item:
        return str(values[item["Ref"]])
    return str(item)


def broken_rules(cfn_template: dict[str, Any], parameters: dict[str, str] | None = None) -> list[str]:
    """The description of each rule assertion these parameter values fail (none: CloudFormation
    accepts them)."""
    values = parameter_values(cfn_template, parameters)

    def no_conditions(name: str) -> bool:
        raise ValueError(f"a rule refers to the condition {name}: rules cannot")

    broken = []
    for name, rule in cfn_template.get("Rules", {}).items():
        if "RuleCondition" in rule and not _truth(rule["RuleCondition"], values, no_conditions):
            continue
        for assertion in rule["Assertions"]:
            if not _truth(assertion["Assert"], values, no_conditions):
                broken.append(f"{name}: {assertion.get('AssertDescription', 'assertion failed')}")
    return broken
