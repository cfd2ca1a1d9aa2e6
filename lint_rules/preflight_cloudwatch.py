"""Deploy preflight, CloudWatch: what PutDashboard and the alarms need and the emulator never checks.

cfn-lint loads this directory file by file, outside any package: this file imports nothing
from its siblings; the dashboard reader both rules use lives here. The catalogue of the
metrics AWS publishes (with each namespace's documentation page) is aws_catalogue.json's
`metrics` beside it.

- E9004 each dashboard body follows the documented grammar
  (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html):
  a `widgets` array of widgets with a documented type, x/y/width/height within the 24-column
  grid and properties; in a metric widget, a region and each metric array as
  `[Namespace, MetricName, DimensionName, DimensionValue, ..., {rendering options}]` or an
  expression `[{"expression": ...}]`. In a metric after the first, "." repeats the element at
  the same position of the previous metric; "..." may only be the first element, and stands for
  the previous metric's elements up to the ones that follow it (["...", "X"] changes the last
  value). The DashboardBody (a string, Fn::Sub or Fn::Join) is resolved with placeholder values
  before its JSON is read: PutDashboard refuses a body that breaks the grammar, and moto does not.
- E9005 each alarm's metric (also those of its Metrics list) and each metric of a dashboard
  (after "." and "..." are expanded) names a namespace, a metric and a set of dimension names
  that AWS publishes together. A namespace that does not begin with AWS/ is the application's
  own and not checked; one that does must be in the catalogue. An alarm on a metric that is
  never published stays in INSUFFICIENT_DATA (or OK with notBreaching) and never fires.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from cfnlint.rules import CloudFormationLintRule, RuleMatch

CATALOGUE = Path(__file__).with_name("aws_catalogue.json")
BODY_STRUCTURE_URL = (
    "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html"
)

WIDGET_TYPES = {"metric", "text", "log", "alarm", "explorer"}
WIDGET_KEYS = {"type", "x", "y", "width", "height", "properties"}
BODY_KEYS = {"widgets", "variables", "start", "end", "periodOverride"}
GRID_COLUMNS = 24
RENDERING_KEYS = {"accountId", "color", "id", "label", "period", "region", "stat", "visible", "yAxis"}
EXPRESSION_KEYS = RENDERING_KEYS | {"expression"}
VIEWS = {"timeSeries", "singleValue", "gauge", "bar", "pie", "table"}
# The statistics of https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Statistics-definitions.html
STATISTIC = re.compile(
    r"^(SampleCount|Average|Sum|Minimum|Maximum|IQM|p\d{1,2}(\.\d{1,10})?|p100|"
    r"(tm|wm|tc|ts)\d{1,2}(\.\d{1,10})?|(TM|WM|TC|TS|PR)\([^()]+\))$"
)
COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
METRIC_ID = re.compile(r"^[a-z][A-Za-z0-9_]*$")
SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


@cache
def metric_catalogue() -> dict[str, Any]:
    return json.loads(CATALOGUE.read_text())["metrics"]["namespaces"]


class BodyError(Exception):
    """A dashboard body that cannot be read at all."""


# ------------------------------------------------------------------ reading the body
def _placeholder(variable: str, parameters: dict[str, Any]) -> str:
    """A stand-in for ${variable}: a parameter's default (a number stays a number), else a plain word."""
    if variable == "AWS::Region":
        return "us-east-1"
    parameter = parameters.get(variable)
    if isinstance(parameter, dict) and "Default" in parameter:
        return str(parameter["Default"])
    return "placeholder-" + re.sub(r"[^A-Za-z0-9-]", "-", variable)


def _substitute(text: str, parameters: dict[str, Any]) -> str:
    def replace(match: re.Match[str]) -> str:
        variable = match.group(1)
        return "${" + variable[1:] + "}" if variable.startswith("!") else _placeholder(variable, parameters)

    return SUB_VARIABLE.sub(replace, text)


def body_text(body: Any, parameters: dict[str, Any]) -> str:
    """The DashboardBody as PutDashboard would receive it, intrinsics replaced with placeholders."""
    if isinstance(body, str):
        return body
    if isinstance(body, dict) and len(body) == 1:
        (function, argument), *_ = body.items()
        if function == "Fn::Sub":
            text = argument if isinstance(argument, str) else argument[0]
            if isinstance(text, str):
                return _substitute(text, parameters)
        if function == "Fn::Join" and isinstance(argument, list) and len(argument) == 2:
            separator, parts = argument
            return str(separator).join(
                body_text(p, parameters) if isinstance(p, (str, dict)) else str(p) for p in parts
            )
        if function in ("Ref", "Fn::GetAtt", "Fn::ImportValue", "Fn::FindInMap"):
            return "placeholder"
    raise BodyError(f"cannot resolve a DashboardBody given as {type(body).__name__} {body!r:.80}")


def expand_metric(entry: list[Any], previous: list[str] | None) -> tuple[list[str], dict[str, Any] | None, list[str]]:
    """A metric array's elements with "." and "..." expanded, its rendering options, and what is wrong."""
    errors: list[str] = []
    options = entry[-1] if entry and isinstance(entry[-1], dict) else None
    positional = entry[:-1] if options is not None else list(entry)
    if any(not isinstance(item, str) for item in positional):
        errors.append("has an element that is neither a string nor a trailing rendering-options object")
        return [], options, errors
    if "..." in positional[1:]:
        errors.append('has "..." after its first element ("..." may only come first)')
        return [], options, errors
    if positional and positional[0] == "...":
        following = positional[1:]
        if previous is None:
            errors.append('begins with "..." but no metric array comes before it')
            return [], options, errors
        repeated = len(previous) - len(following)
        if repeated < 1:
            errors.append(
                f'has "..." followed by {len(following)} elements: nothing left to repeat of the previous metric'
            )
            return [], options, errors
        positional = ["."] * repeated + following
    expanded = []
    for index, item in enumerate(positional):
        if item == ".":
            if previous is None:
                errors.append('has "." but no metric array comes before it')
                return [], options, errors
            if index >= len(previous):
                errors.append(f'has "." at position {index}, beyond the previous metric\'s {len(previous)} elements')
                return [], options, errors
            expanded.append(previous[index])
        else:
            expanded.append(item)
    if len(expanded) < 2:
        errors.append("needs at least a namespace and a metric name")
    elif len(expanded) % 2:
        errors.append(f"has a dimension name without a value ({expanded[-1]!r})")
    if any(not item for item in expanded):
        errors.append("has an empty element")
    names = expanded[2::2]
    if len(set(names)) != len(names):
        errors.append("names a dimension twice")
    if len(names) > 30:
        errors.append("has more than 30 dimensions")
    return expanded, options, errors


def _check_options(options: dict[str, Any], allowed: set[str], where: str) -> list[str]:
    errors = [f"{where}: unknown rendering option {key!r}" for key in options if key not in allowed]
    checks = {
        "label": lambda v: isinstance(v, str),
        "color": lambda v: isinstance(v, str) and COLOR.match(v),
        "id": lambda v: isinstance(v, str) and METRIC_ID.match(v),
        "period": lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 60 and v % 60 == 0,
        "stat": lambda v: isinstance(v, str) and STATISTIC.match(v),
        "visible": lambda v: isinstance(v, bool),
        "yAxis": lambda v: v in ("left", "right"),
        "region": lambda v: isinstance(v, str) and v,
        "accountId": lambda v: isinstance(v, str) and re.fullmatch(r"\d{12}", v),
        "expression": lambda v: isinstance(v, str) and v,
    }
    for key, check in checks.items():
        if key in options and not check(options[key]):
            errors.append(f"{where}: {key} {options[key]!r} is not valid")
    return errors


def read_dashboard(body: Any, parameters: dict[str, Any]) -> tuple[list[str], list[tuple[str, list[str]]]]:
    """(grammar errors, [(where, expanded metric)]) of a DashboardBody."""
    try:
        text = body_text(body, parameters)
    except BodyError as error:
        return [str(error)], []
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        return [f"the body is not JSON once its variables are replaced: {error}"], []
    if not isinstance(document, dict):
        return ["the body must be a JSON object"], []
    errors = [f"unknown top-level key {key!r}" for key in document if key not in BODY_KEYS]
    if document.get("periodOverride", "auto") not in ("auto", "inherit"):
        errors.append(f"periodOverride {document['periodOverride']!r} is neither auto nor inherit")
    widgets = document.get("widgets")
    if not isinstance(widgets, list):
        return [*errors, "the body has no widgets array"], []
    if len(widgets) > 500:
        errors.append(f"{len(widgets)} widgets (at most 500)")
    metrics: list[tuple[str, list[str]]] = []
    for number, widget in enumerate(widgets):
        where = f"widget {number}"
        if not isinstance(widget, dict):
            errors.append(f"{where} is not an object")
            continue
        title = widget.get("properties", {}).get("title") if isinstance(widget.get("properties"), dict) else None
        if title:
            where += f" ({title!r})"
        errors += _check_widget(widget, where, metrics)
    return errors, metrics


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_widget(widget: dict[str, Any], where: str, metrics: list[tuple[str, list[str]]]) -> list[str]:
    errors = [f"{where}: unknown key {key!r}" for key in widget if key not in WIDGET_KEYS]
    kind = widget.get("type")
    if kind not in WIDGET_TYPES:
        errors.append(f"{where}: type {kind!r} is not one of {sorted(WIDGET_TYPES)}")
    if ("x" in widget) != ("y" in widget):
        errors.append(f"{where}: x and y go together")
    x, y = widget.get("x", 0), widget.get("y", 0)
    width, height = widget.get("width", 6), widget.get("height", 6)
    if not (_whole(x) and 0 <= x <= GRID_COLUMNS - 1):
        errors.append(f"{where}: x {x!r} is not 0-23")
    if not (_whole(y) and y >= 0):
        errors.append(f"{where}: y {y!r} is not a whole number >= 0")
    if not (_whole(width) and 1 <= width <= GRID_COLUMNS):
        errors.append(f"{where}: width {width!r} is not 1-24")
    if not (_whole(height) and 1 <= height <= 1000):
        errors.append(f"{where}: height {height!r} is not 1-1000")
    if _whole(x) and _whole(width) and x + width > GRID_COLUMNS:
        errors.append(f"{where}: x {x} + width {width} runs past the 24-column grid")
    properties = widget.get("properties")
    if not isinstance(properties, dict):
        return [*errors, f"{where}: properties must be an object"]
    if kind == "metric":
        errors += _check_metric_widget(properties, where, metrics)
    elif kind == "text" and not isinstance(properties.get("markdown"), str):
        errors.append(f"{where}: a text widget needs markdown")
    elif kind == "log":
        for key in ("query", "region"):
            if not isinstance(properties.get(key), str):
                errors.append(f"{where}: a log widget needs {key}")
    elif kind == "alarm":
        alarms = properties.get("alarms")
        if not (isinstance(alarms, list) and 1 <= len(alarms) <= 100):
            errors.append(f"{where}: an alarm widget needs 1-100 alarm ARNs")
    return errors


def _check_metric_widget(properties: dict[str, Any], where: str, metrics: list[tuple[str, list[str]]]) -> list[str]:
    errors = []
    if not isinstance(properties.get("region"), str) or not properties.get("region"):
        errors.append(f"{where}: a metric widget needs region")
    entries = properties.get("metrics")
    annotations = properties.get("annotations")
    has_alarm = isinstance(annotations, dict) and bool(annotations.get("alarms"))
    if entries is None and not has_alarm:
        errors.append(f"{where}: a metric widget needs metrics (or an alarm annotation)")
    if "period" in properties:
        period = properties["period"]
        if not (_whole(period) and period >= 60 and period % 60 == 0):
            errors.append(f"{where}: period {period!r} is not a multiple of 60")
    if "stat" in properties and not (isinstance(properties["stat"], str) and STATISTIC.match(properties["stat"])):
        errors.append(f"{where}: stat {properties['stat']!r} is not a CloudWatch statistic")
    if "view" in properties and properties["view"] not in VIEWS:
        errors.append(f"{where}: view {properties['view']!r} is not one of {sorted(VIEWS)}")
    for flag in ("stacked", "liveData", "sparkline"):
        if flag in properties and not isinstance(properties[flag], bool):
            errors.append(f"{where}: {flag} must be true or false")
    if entries is None:
        return errors
    if not isinstance(entries, list):
        return [*errors, f"{where}: metrics must be an array of arrays"]
    if len(entries) > 500:
        errors.append(f"{where}: {len(entries)} metrics (at most 500)")
    previous: list[str] | None = None
    for number, entry in enumerate(entries):
        label = f"{where}, metric {number} {json.dumps(entry)}"
        if not isinstance(entry, list) or not entry:
            errors.append(f"{label}: a metric must be a non-empty array")
            previous = None
            continue
        if len(entry) == 1 and isinstance(entry[0], dict):
            if "expression" not in entry[0]:
                errors.append(f"{label}: a one-object metric must be an expression")
            errors += _check_options(entry[0], EXPRESSION_KEYS, label)
            previous = None
            continue
        expanded, options, problems = expand_metric(entry, previous)
        errors += [f"{label} {problem}" for problem in problems]
        if options is not None:
            errors += _check_options(options, RENDERING_KEYS, label)
        if problems:
            previous = None
            continue
        metrics.append((label, expanded))
        previous = expanded
    return errors


# ------------------------------------------------------------------ the catalogue
def catalogue_problem(namespace: Any, metric: Any, dimensions: list[Any]) -> str | None:
    """Why AWS publishes no such metric, or None if it does (or the namespace is the application's own)."""
    if not isinstance(namespace, str) or not namespace.startswith("AWS/"):
        return None
    entry = metric_catalogue().get(namespace)
    if entry is None:
        return f"namespace {namespace} is not in the catalogue (lint_rules/aws_catalogue.json): add it with its source"
    if not isinstance(metric, str):
        return f"metric name {metric!r} of {namespace} is not a string"
    groups = [g for g in entry["groups"] if metric in g["metrics"]]
    if not groups:
        return f"{namespace} publishes no metric {metric} ({entry['source']})"
    source = groups[0].get("source", entry["source"])
    if any(not isinstance(d, str) for d in dimensions):
        return None  # an intrinsic dimension name: nothing to compare
    names = frozenset(dimensions)
    sets = [frozenset(s) for g in groups for s in g["dimension_sets"]]
    if len(names) != len(dimensions) or names not in sets:
        shown = " | ".join("{" + ", ".join(sorted(s)) + "}" for s in sets)
        return (
            f"{namespace} {metric} is published with dimensions {shown}, not "
            f"{{{', '.join(sorted(map(str, dimensions)))}}} ({source})"
        )
    return None


def alarm_metrics(properties: dict[str, Any]) -> list[tuple[list[str | int], Any, Any, list[Any]]]:
    """(path, namespace, metric name, dimension names) of an alarm's metric and of its Metrics list."""
    found = []
    if "MetricName" in properties:
        dimensions = [d.get("Name") for d in properties.get("Dimensions", []) if isinstance(d, dict)]
        found.append((["Properties"], properties.get("Namespace"), properties["MetricName"], dimensions))
    for index, query in enumerate(properties.get("Metrics", []) or []):
        metric = query.get("MetricStat", {}).get("Metric") if isinstance(query, dict) else None
        if isinstance(metric, dict):
            dimensions = [d.get("Name") for d in metric.get("Dimensions", []) if isinstance(d, dict)]
            path: list[str | int] = ["Properties", "Metrics", index, "MetricStat", "Metric"]
            found.append((path, metric.get("Namespace"), metric.get("MetricName"), dimensions))
    return found


# ------------------------------------------------------------------ the rules
class DashboardBodyFollowsTheDocumentedGrammar(CloudFormationLintRule):
    id = "E9004"
    shortdesc = "Dashboard body follows CloudWatch's documented grammar"
    description = (
        "Each AWS::CloudWatch::Dashboard's DashboardBody, with its Fn::Sub variables replaced by placeholders, "
        "is JSON with a widgets array; each widget has a documented type, fits the 24-column grid and has "
        "properties; each metric array is [Namespace, MetricName, (DimensionName, DimensionValue)..., {options}] "
        'with "." and "..." used as documented.'
    )
    source_url = BODY_STRUCTURE_URL
    tags = ["house", "preflight", "cloudwatch"]

    def match(self, cfn):
        matches = []
        parameters = cfn.template.get("Parameters", {})
        for name, dashboard in cfn.get_resources(["AWS::CloudWatch::Dashboard"]).items():
            body = dashboard.get("Properties", {}).get("DashboardBody")
            errors, _ = read_dashboard(body, parameters)
            path = ["Resources", name, "Properties", "DashboardBody"]
            matches += [RuleMatch(path, f"Dashboard {name}: {error}") for error in errors]
        return matches


class MetricsArePublishedByAws(CloudFormationLintRule):
    id = "E9005"
    shortdesc = "Alarms and dashboards watch metrics AWS publishes"
    description = (
        "Each alarm's metric and each dashboard metric in an AWS/ namespace is a metric of that namespace, "
        "with a set of dimension names it is published with (lint_rules/aws_catalogue.json)."
    )
    source_url = "https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/aws-services-cloudwatch-metrics.html"
    tags = ["house", "preflight", "cloudwatch"]

    def match(self, cfn):
        matches = []
        for name, alarm in cfn.get_resources(["AWS::CloudWatch::Alarm"]).items():
            for path, namespace, metric, dimensions in alarm_metrics(alarm.get("Properties", {})):
                problem = catalogue_problem(namespace, metric, dimensions)
                if problem:
                    matches.append(RuleMatch(["Resources", name, *path], f"Alarm {name}: {problem}"))
        parameters = cfn.template.get("Parameters", {})
        for name, dashboard in cfn.get_resources(["AWS::CloudWatch::Dashboard"]).items():
            _, metrics = read_dashboard(dashboard.get("Properties", {}).get("DashboardBody"), parameters)
            for where, expanded in metrics:
                problem = catalogue_problem(expanded[0], expanded[1], expanded[2::2])
                if problem:
                    path = ["Resources", name, "Properties", "DashboardBody"]
                    matches.append(RuleMatch(path, f"Dashboard {name}, {where}: {problem}"))
        return matches
