"""Deploy preflight, names: every name the stack gives a resource is one AWS accepts, for every allowed parameter value.

cfn-lint loads this directory file by file, outside any package: this file imports nothing
from its siblings. The limits (with their documentation pages) are aws_catalogue.json's
`names` beside it; Region, partition and URL-suffix names come from botocore's endpoints.json.

- E9008 each name property (bucket, queue, topic, role and inline policy, function, layer, log
  group, alarm, dashboard, secret, table, KMS alias, SSM parameter) is worked out for the worst
  case rather than the defaults: a parameter with AllowedValues stands for each value, one with
  an AllowedPattern for every string the pattern admits, the pseudo parameters for every
  account, stack name, Region and partition. The name is refused if some admitted value makes it
  too long or too short, puts a character AWS refuses in it or at its ends, or makes it begin or
  end with what AWS reserves. A parameter or pattern the rule cannot reason about is itself a
  finding (the rule never guesses).

A name is a sequence of atoms: a choice between literal strings (template text, AllowedValues,
Region names) or a run of `min..max` characters of one class (from a pattern). Patterns must be
the simple forms used here: `^`, an optional negative lookahead of literal alternatives
(`(?!xn-|aws)`), then character classes, escaped or plain characters, each with an optional
`{m}`, `{m,n}`, `?`, `*` or `+`, then `$`.
"""

from __future__ import annotations

import json
import re
from functools import cache
from itertools import product
from pathlib import Path
from typing import Any, NamedTuple

from cfnlint.rules import CloudFormationLintRule, RuleMatch

CATALOGUE = Path(__file__).with_name("aws_catalogue.json")
PRINTABLE = [chr(code) for code in range(0x20, 0x7F)]
DIGITS_AND_DOTS = frozenset("0123456789.")


class UnreasonableError(Exception):
    """A value the rule cannot bound: reported as a finding, never guessed."""


class Choice(NamedTuple):
    """One of these literal strings."""

    values: tuple[str, ...]
    owner: str | None = None


class Run(NamedTuple):
    """min..max characters (max None: unbounded), each from `chars`."""

    chars: frozenset[str]
    min: int
    max: int | None
    owner: str | None = None


Atom = Choice | Run


@cache
def catalogue() -> dict[str, Any]:
    return json.loads(CATALOGUE.read_text())["names"]


def char_class(pattern: str) -> frozenset[str]:
    """The printable ASCII characters a regular-expression character class matches."""
    compiled = re.compile(pattern)
    return frozenset(c for c in PRINTABLE if compiled.fullmatch(c))


# ------------------------------------------------------------------ patterns
def _class_end(pattern: str, start: int) -> int:
    """Index of the `]` closing the class opened at `start`."""
    index = start + 1
    if index < len(pattern) and pattern[index] == "]":
        index += 1
    while index < len(pattern):
        if pattern[index] == "\\":
            index += 2
            continue
        if pattern[index] == "]":
            return index
        index += 1
    raise UnreasonableError(f"unclosed character class in {pattern!r}")


ESCAPES = {"d": "[0-9]", "w": "[A-Za-z0-9_]"}
QUANTIFIER = re.compile(r"\{(\d+)(,(\d*))?\}|[?*+]")


def parse_pattern(pattern: str, owner: str) -> tuple[list[Atom], tuple[str, ...]]:
    """Atoms of a simple anchored pattern, and the literal prefixes its leading lookahead refuses."""
    if not (pattern.startswith("^") and pattern.endswith("$")) or pattern.endswith("\\$"):
        raise UnreasonableError(f"pattern {pattern!r} is not anchored with ^ and $")
    body = pattern[1:-1]
    forbidden: tuple[str, ...] = ()
    lookahead = re.match(r"\(\?!([^()]*)\)", body)
    if lookahead:
        alternatives = lookahead.group(1).split("|")
        literal = re.compile(r"(?:[A-Za-z0-9_/@=,+-]|\\.)+")
        if not all(literal.fullmatch(a) for a in alternatives):
            raise UnreasonableError(f"lookahead of {pattern!r} is not a list of literal prefixes")
        forbidden = tuple(re.sub(r"\\(.)", r"\1", a) for a in alternatives)
        body = body[lookahead.end() :]
    atoms: list[Atom] = []
    index = 0
    while index < len(body):
        char = body[index]
        if char == "[":
            end = _class_end(body, index)
            text = body[index : end + 1]
            if text.startswith("[^"):
                raise UnreasonableError(f"negated class {text} in {pattern!r} admits characters beyond ASCII")
            chars = char_class(text)
            index = end + 1
        elif char == "\\":
            escaped = body[index + 1 : index + 2]
            if escaped in ESCAPES:
                chars = char_class(ESCAPES[escaped])
            elif escaped and not escaped.isalnum():
                chars = frozenset(escaped)
            else:
                raise UnreasonableError(f"escape \\{escaped} in {pattern!r}")
            index += 2
        elif char in ".|()*+?{}^$":
            raise UnreasonableError(
                f"{char!r} at {index} of {pattern!r}: only classes, characters and counts are understood"
            )
        else:
            chars = frozenset(char)
            index += 1
        low, high = 1, 1
        quantifier = QUANTIFIER.match(body, index)
        if quantifier:
            text = quantifier.group(0)
            if text == "?":
                low, high = 0, 1
            elif text == "*":
                low, high = 0, None
            elif text == "+":
                low, high = 1, None
            else:
                low = int(quantifier.group(1))
                upper = quantifier.group(3)
                high = low if quantifier.group(2) is None else (int(upper) if upper else None)
            index = quantifier.end()
        if not chars:
            raise UnreasonableError(f"an empty class in {pattern!r}")
        atoms.append(Run(chars, low, high, owner))
    return atoms, forbidden


# ------------------------------------------------------------------ values of parameters
@cache
def endpoint_names() -> dict[str, tuple[str, ...]]:
    """Regions, partitions and DNS suffixes of botocore's endpoints.json (all partitions)."""
    try:
        import botocore
    except ImportError as error:  # pragma: no cover - the project's environments all have it
        raise UnreasonableError("botocore is not installed: no list of Regions to reason about") from error
    data = json.loads((Path(botocore.__file__).parent / "data" / "endpoints.json").read_text())
    partitions = data["partitions"]
    return {
        "AWS::Region": tuple(sorted({r for p in partitions for r in p["regions"]})),
        "AWS::Partition": tuple(sorted({p["partition"] for p in partitions})),
        "AWS::URLSuffix": tuple(sorted({p["dnsSuffix"] for p in partitions})),
    }


class Domains:
    """The atoms each parameter and pseudo parameter of a template stands for."""

    def __init__(self, parameters: dict[str, Any]) -> None:
        self.parameters = parameters
        self.forbidden: dict[str, tuple[str, ...]] = {}

    def atoms(self, name: str) -> list[Atom]:
        pseudo = catalogue()["pseudo_parameters"]
        if name in pseudo:
            atoms, _ = parse_pattern(pseudo[name]["pattern"], name)
            return atoms
        if name in ("AWS::Region", "AWS::Partition", "AWS::URLSuffix"):
            return [Choice(endpoint_names()[name], name)]
        if name.startswith("AWS::"):
            raise UnreasonableError(f"pseudo parameter {name} in a name")
        if name not in self.parameters:
            raise UnreasonableError(f"{name} is not a parameter (a resource's attribute in a name cannot be bounded)")
        return self._parameter(name, self.parameters[name])

    def _parameter(self, name: str, parameter: dict[str, Any]) -> list[Atom]:
        kind = parameter.get("Type", "String")
        if "AllowedValues" in parameter:
            return [Choice(tuple(str(v) for v in parameter["AllowedValues"]), name)]
        if kind == "String" and "AllowedPattern" in parameter:
            try:
                atoms, forbidden = parse_pattern(str(parameter["AllowedPattern"]), name)
            except UnreasonableError as error:
                raise UnreasonableError(f"parameter {name}: {error}") from error
            self.forbidden[name] = forbidden
            return self._within_lengths(name, atoms, parameter)
        if kind == "Number" and "MaxValue" in parameter and "MinValue" in parameter:
            low, high = int(parameter["MinValue"]), int(parameter["MaxValue"])
            if low < 0 or low != float(parameter["MinValue"]) or high != float(parameter["MaxValue"]):
                raise UnreasonableError(f"parameter {name}: only whole numbers from 0 are bounded here")
            return [Run(frozenset("0123456789"), len(str(low)), len(str(high)), name)]
        raise UnreasonableError(f"parameter {name} has neither AllowedValues nor an AllowedPattern to bound it")

    @staticmethod
    def _within_lengths(name: str, atoms: list[Atom], parameter: dict[str, Any]) -> list[Atom]:
        """A pattern and MaxLength both bind: the last run gives up what the pattern allows beyond MaxLength."""
        if "MaxLength" not in parameter or not atoms or not isinstance(atoms[-1], Run):
            return atoms
        last = atoms[-1]
        others = atoms[:-1]
        longest_others = max_length(others)
        if longest_others is None:
            return atoms
        room = int(parameter["MaxLength"]) - longest_others
        high = room if last.max is None else min(last.max, room)
        return [*others, Run(last.chars, last.min, max(high, last.min), name)]


# ------------------------------------------------------------------ a name as atoms
SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


def name_atoms(value: Any, domains: Domains) -> list[list[Atom]]:
    """Each alternative (Fn::If branches) of a name as a sequence of atoms."""
    if isinstance(value, str):
        return [[Choice((value,))]]
    if isinstance(value, dict) and len(value) == 1:
        (function, argument), *_ = value.items()
        if function == "Ref" and isinstance(argument, str):
            return [domains.atoms(argument)]
        if function == "Fn::Sub":
            text, variables = (argument, {}) if isinstance(argument, str) else (argument[0], argument[1])
            return _sub_atoms(text, variables, domains)
        if function == "Fn::Join" and isinstance(argument, list) and len(argument) == 2:
            separator, parts = argument
            alternatives: list[list[Atom]] = [[]]
            for position, part in enumerate(parts):
                pieces = name_atoms(part, domains)
                glue = [Choice((separator,))] if position and separator else []
                alternatives = [a + glue + p for a in alternatives for p in pieces]
            return alternatives
        if function == "Fn::If" and isinstance(argument, list) and len(argument) == 3:
            return [
                alternative
                for branch in argument[1:]
                if branch != {"Ref": "AWS::NoValue"}
                for alternative in name_atoms(branch, domains)
            ]
    raise UnreasonableError(f"cannot bound a name given as {value!r}")


def _sub_atoms(text: str, variables: dict[str, Any], domains: Domains) -> list[list[Atom]]:
    alternatives: list[list[Atom]] = [[]]
    position = 0
    for match in SUB_VARIABLE.finditer(text):
        literal = text[position : match.start()]
        position = match.end()
        variable = match.group(1)
        if variable.startswith("!"):
            literal += "${" + variable[1:] + "}"
            pieces: list[list[Atom]] = [[]]
        elif variable in variables:
            pieces = name_atoms(variables[variable], domains)
        elif "." in variable:
            raise UnreasonableError(f"${{{variable}}}: a resource's attribute in a name cannot be bounded")
        else:
            pieces = [domains.atoms(variable)]
        head = [Choice((literal,))] if literal else []
        alternatives = [a + head + p for a in alternatives for p in pieces]
    tail = text[position:]
    return [[*a, Choice((tail,))] if tail else a for a in alternatives]


# ------------------------------------------------------------------ questions about a sequence of atoms
def max_length(atoms: list[Atom]) -> int | None:
    total = 0
    for atom in atoms:
        longest = max(map(len, atom.values)) if isinstance(atom, Choice) else atom.max
        if longest is None:
            return None
        total += longest
    return total


def min_length(atoms: list[Atom]) -> int:
    return sum(min(map(len, a.values)) if isinstance(a, Choice) else a.min for a in atoms)


def characters(atoms: list[Atom]) -> set[str]:
    found: set[str] = set()
    for atom in atoms:
        found |= set("".join(atom.values)) if isinstance(atom, Choice) else set(atom.chars)
    return found


def _nullable(atom: Atom) -> bool:
    return "" in atom.values if isinstance(atom, Choice) else atom.min == 0


def first_characters(atoms: list[Atom]) -> set[str]:
    found: set[str] = set()
    for atom in atoms:
        if isinstance(atom, Choice):
            found |= {v[0] for v in atom.values if v}
        elif atom.max != 0:
            found |= set(atom.chars)
        if not _nullable(atom):
            break
    return found


def reversed_atoms(atoms: list[Atom]) -> list[Atom]:
    """The same language read backwards (lookahead constraints dropped: a suffix check over-approximates)."""
    return [
        Choice(tuple(v[::-1] for v in a.values)) if isinstance(a, Choice) else Run(a.chars, a.min, a.max)
        for a in reversed(atoms)
    ]


def can_start_with(atoms: list[Atom], prefix: str, forbidden: dict[str, tuple[str, ...]]) -> bool:
    """Whether some admitted value of the sequence begins with `prefix`.

    `forbidden` holds, per parameter, the prefixes its pattern's lookahead refuses; a path through
    a parameter's atoms that would begin that parameter with one of them is not admitted. Where
    the prefix ends inside a parameter the rest is assumed free (an over-approximation: the rule
    may refuse a name it need not, never accept one it should refuse).
    """

    def refused(owner: str | None, text: str) -> bool:
        return owner is not None and any(text.startswith(f) for f in forbidden.get(owner, ()))

    def walk(index: int, rest: str, owner: str | None, owned: str) -> bool:
        if not rest:
            return True
        if index == len(atoms):
            return False
        atom = atoms[index]
        if atom.owner != owner:
            owner, owned = atom.owner, ""
        if isinstance(atom, Choice):
            for value in atom.values:
                if rest.startswith(value):
                    if not refused(owner, owned + value) and walk(index + 1, rest[len(value) :], owner, owned + value):
                        return True
                elif value.startswith(rest) and not refused(owner, owned + value):
                    return True
            return False
        limit = len(rest) if atom.max is None else min(atom.max, len(rest))
        for taken in range(limit + 1):
            chunk = rest[:taken]
            if taken and chunk[-1] not in atom.chars:
                break
            if refused(owner, owned + chunk):
                continue
            if taken == len(rest):
                return True
            if taken >= atom.min and walk(index + 1, rest[taken:], owner, owned + chunk):
                return True
        return False

    return walk(0, prefix, None, "")


def case_variants(text: str) -> list[str]:
    return ["".join(chars) for chars in product(*({c.lower(), c.upper()} for c in text))]


# ------------------------------------------------------------------ the checks of one kind of name
def problems(atoms: list[Atom], kind: dict[str, Any], forbidden: dict[str, tuple[str, ...]], fifo: bool) -> list[str]:
    found = []
    longest, shortest = max_length(atoms), min_length(atoms)
    limit = kind["max"]
    if longest is None:
        found.append(f"has no upper bound on its length (AWS allows {limit})")
    elif longest > limit:
        found.append(f"can be {longest} characters long (AWS allows {limit})")
    if shortest < kind.get("min", 1):
        found.append(f"can be {shortest} characters long (AWS needs {kind['min']})")
    checked = atoms
    suffix = kind.get("fifo_suffix")
    if suffix and fifo:
        last = atoms[-1] if atoms else None
        if not (isinstance(last, Choice) and all(v.endswith(suffix) for v in last.values)):
            found.append(f"must end with {suffix} (a FIFO name)")
        else:
            checked = [*atoms[:-1], Choice(tuple(v[: -len(suffix)] for v in last.values))]
    allowed = char_class(kind["chars"])
    refused = characters(checked) - allowed
    if refused:
        found.append(f"can contain {''.join(sorted(refused))!r}, outside {kind['chars']}")
    for end, chars in (("first", first_characters(atoms)), ("last", first_characters(reversed_atoms(atoms)))):
        if end in kind:
            outside = chars - char_class(kind[end])
            if outside:
                found.append(f"can {'begin' if end == 'first' else 'end'} with {''.join(sorted(outside))!r}")
    for prefix in kind.get("forbidden_prefixes", []):
        if can_start_with(atoms, prefix, forbidden):
            found.append(f"can begin with {prefix!r}, which AWS reserves")
    for prefix in kind.get("forbidden_prefixes_any_case", []):
        if any(can_start_with(atoms, variant, forbidden) for variant in case_variants(prefix)):
            found.append(f"can begin with {prefix!r} (in some case), which AWS refuses")
    required = kind.get("required_prefix")
    if required and not all(v.startswith(required) for v in _leading_choice(atoms)):
        found.append(f"must begin with {required!r}")
    backwards = reversed_atoms(atoms)
    for suffix_text in kind.get("forbidden_suffixes", []):
        if can_start_with(backwards, suffix_text[::-1], {}):
            found.append(f"can end with {suffix_text!r}, which AWS reserves")
    if kind.get("no_adjacent_periods") and _can_hold_two_periods(atoms):
        found.append("can contain two adjacent periods")
    if kind.get("not_an_ip_address") and _can_be_digits_and_dots(atoms):
        found.append("can be formatted as an IP address")
    levels = kind.get("max_levels")
    if levels is not None:
        slashes = _most_slashes(atoms)
        if slashes is None or slashes > levels:
            found.append(f"can have more than {levels} levels")
    return found


def _leading_choice(atoms: list[Atom]) -> tuple[str, ...]:
    return atoms[0].values if atoms and isinstance(atoms[0], Choice) else ("",)


def _can_hold_two_periods(atoms: list[Atom]) -> bool:
    previous_ends_with_period = False
    for atom in atoms:
        if isinstance(atom, Choice):
            if any(".." in v or (previous_ends_with_period and v.startswith(".")) for v in atom.values):
                return True
            previous_ends_with_period = any(v.endswith(".") for v in atom.values)
        else:
            if "." in atom.chars and (atom.max is None or atom.max >= 2 or previous_ends_with_period):
                return True
            previous_ends_with_period = "." in atom.chars
    return False


def _can_be_digits_and_dots(atoms: list[Atom]) -> bool:
    for atom in atoms:
        if isinstance(atom, Choice):
            if all(set(v) - DIGITS_AND_DOTS for v in atom.values):
                return False
        elif atom.min > 0 and not (atom.chars & DIGITS_AND_DOTS):
            return False
    return True


def _most_slashes(atoms: list[Atom]) -> int | None:
    total = 0
    for atom in atoms:
        if isinstance(atom, Choice):
            total += max(v.count("/") for v in atom.values)
        elif "/" in atom.chars:
            if atom.max is None:
                return None
            total += atom.max
    return total


# ------------------------------------------------------------------ the rule
def name_properties(resource: dict[str, Any], path: str) -> list[tuple[list[str | int], Any]]:
    """(path under Properties, value) for a property path such as `Policies/*/PolicyName`."""
    found: list[tuple[list[str | int], Any]] = [([], resource.get("Properties", {}))]
    for key in path.split("/"):
        step: list[tuple[list[str | int], Any]] = []
        for where, node in found:
            if key == "*" and isinstance(node, list):
                step += [([*where, i], item) for i, item in enumerate(node)]
            elif isinstance(node, dict) and key in node:
                step.append(([*where, key], node[key]))
        found = step
    return found


class NamesFitAwsLimitsForEveryAllowedValue(CloudFormationLintRule):
    id = "E9008"
    shortdesc = "Resource names fit AWS's limits for every allowed parameter value"
    description = (
        "Each resource name (bucket, queue, topic, role, inline policy, function, layer, log group, alarm, "
        "dashboard, secret, table, KMS alias, SSM parameter) stays within AWS's length and character rules "
        "for every value the parameters admit and every account, stack name, Region and partition."
    )
    source_url = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html"
    tags = ["house", "preflight", "names"]

    def match(self, cfn):
        matches = []
        names = catalogue()
        domains = Domains(cfn.template.get("Parameters", {}))
        for resource_type, properties in names["properties"].items():
            for logical_id, resource in cfn.get_resources([resource_type]).items():
                reported: set[tuple[str, ...]] = set()
                # Each scenario of the conditions the resource uses: a name and its FIFO flag
                # are judged together (a `.fifo` name only where FifoQueue is set).
                for variant in cfn.get_object_without_conditions(resource.get("Properties", {})):
                    scenario = {"Properties": variant["Object"]}
                    fifo = bool(variant["Object"].get("FifoQueue" if "SQS" in resource_type else "FifoTopic"))
                    for property_path, kind_name in properties.items():
                        kind = names["kinds"][kind_name]
                        for where, value in name_properties(scenario, property_path):
                            path = ["Resources", logical_id, "Properties", *where]
                            for message in self._check(value, kind, domains, fifo):
                                if (*map(str, path), message) in reported:
                                    continue
                                reported.add((*map(str, path), message))
                                matches.append(
                                    RuleMatch(path, f"{kind_name} name of {logical_id} {message} ({kind['source']})")
                                )
        return matches

    @staticmethod
    def _check(value: Any, kind: dict[str, Any], domains: Domains, fifo: bool) -> list[str]:
        try:
            alternatives = name_atoms(value, domains)
            prefix = kind.get("arn_prefix")
            arn = name_atoms({"Fn::Sub": prefix}, domains)[0] if prefix else []
        except UnreasonableError as error:
            return [f"cannot be bounded: {error}"]
        found: list[str] = []
        for atoms in alternatives:
            for message in problems(atoms, kind, domains.forbidden, fifo):
                if message not in found:
                    found.append(message)
            if arn:
                # The limit counts the ARN before the name; a path's leading slash is the ARN's own.
                leads_with_slash = all(v.startswith("/") for v in _leading_choice(atoms))
                longest = max_length(atoms)
                arn_length = (max_length(arn) or 0) - (1 if leads_with_slash else 0)
                if longest is not None and longest + arn_length > kind["max"]:
                    found.append(
                        f"can be {longest + arn_length} characters long with its ARN (AWS allows {kind['max']})"
                    )
        return found
