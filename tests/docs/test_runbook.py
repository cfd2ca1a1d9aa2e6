"""docs/runbook.md has exactly one section per CloudWatch alarm of the template.

An alarm section is a `###` heading under `## Alarms` of the form
"### `LogicalId` (`{stack}-alarm-name-suffix`)", with the parts **Means**, **Look at**
and **Do**. An alarm added, renamed or removed in template.yaml fails here until the
runbook follows.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from automation_local.cloudformation.project import REPO_ROOT
from tests.template.cfn import resources_of_type

pytestmark = pytest.mark.fast

RUNBOOK = REPO_ROOT / "docs" / "runbook.md"
ALARM_HEADING = re.compile(r"^`(?P<logical_id>[A-Za-z0-9]+)` \(`\{stack\}-(?P<suffix>[a-z0-9-]+)`\)$")
PARTS = ("**Means**", "**Look at**", "**Do**")


def _alarms_chapter() -> str:
    text = RUNBOOK.read_text()
    start = text.index("\n## Alarms\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def alarm_sections() -> dict[str, str]:
    """Heading text -> section body, for every `###` section of the alarms chapter."""
    chunks = re.split(r"^### ", _alarms_chapter(), flags=re.MULTILINE)[1:]
    sections = {}
    for chunk in chunks:
        heading, _, body = chunk.partition("\n")
        assert heading not in sections, f"two sections named {heading}"
        sections[heading] = body
    return sections


def documented_alarms() -> dict[str, str]:
    """Logical id -> alarm name suffix, from the section headings."""
    documented = {}
    for heading in alarm_sections():
        match = ALARM_HEADING.match(heading)
        assert match, f"section names no alarm in the expected form: {heading!r}"
        documented[match["logical_id"]] = match["suffix"]
    return documented


def template_alarms(sam_template: dict[str, Any]) -> dict[str, str]:
    """Logical id -> the alarm name after `${AWS::StackName}-`."""
    alarms = {}
    for logical_id, alarm in resources_of_type(sam_template, "AWS::CloudWatch::Alarm").items():
        name = alarm["Properties"]["AlarmName"]["Fn::Sub"]
        assert name.startswith("${AWS::StackName}-"), name
        alarms[logical_id] = name.removeprefix("${AWS::StackName}-")
    return alarms


def test_every_alarm_of_the_template_has_a_section(sam_template: dict[str, Any]) -> None:
    # GIVEN the alarms of the template and the alarm sections of the runbook
    # WHEN the template's alarms are looked for among the sections
    missing = set(template_alarms(sam_template)) - set(documented_alarms())
    # THEN none is missing
    assert missing == set()


def test_every_section_names_an_alarm_of_the_template(sam_template: dict[str, Any]) -> None:
    # GIVEN the alarm sections of the runbook and the alarms of the template
    # WHEN the alarm each section names is looked for in the template
    unknown = set(documented_alarms()) - set(template_alarms(sam_template))
    # THEN every one is there
    assert unknown == set()


def test_each_section_gives_the_alarm_name_of_the_template(sam_template: dict[str, Any]) -> None:
    # GIVEN the alarms of the template, by logical id and name
    alarms = template_alarms(sam_template)
    # WHEN the alarm name each section heading gives is read
    named = {logical_id: suffix for logical_id, suffix in documented_alarms().items() if logical_id in alarms}
    # THEN it is the name the template gives that alarm
    assert named == {logical_id: alarms[logical_id] for logical_id in named}


@pytest.mark.parametrize("heading", list(alarm_sections()))
def test_each_section_says_what_it_means_what_to_look_at_and_what_to_do(heading: str) -> None:
    # GIVEN an alarm section of the runbook
    # WHEN its text is read
    body = alarm_sections()[heading]
    # THEN it has each part: what the alarm means, what to look at and what to do
    assert [part for part in PARTS if part not in body] == []
