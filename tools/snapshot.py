"""The snapshot of the translated template (tests/snapshots/template.cfn.json).

`make snapshot` rewrites it after an intended template change; the snapshot test shows
any other change as a diff of the CloudFormation that AWS would receive.
"""

from __future__ import annotations

from automation_local.cloudformation.project import REPO_ROOT
from automation_local.cloudformation.template import load_template, normalised_json, translate

SNAPSHOT_PATH = REPO_ROOT / "tests" / "snapshots" / "template.cfn.json"


def rendered() -> str:
    """The template translated with its default parameters in a fixed region and account."""
    return normalised_json(translate(load_template()))


def main() -> None:
    SNAPSHOT_PATH.parent.mkdir(parents=True, exist_ok=True)
    SNAPSHOT_PATH.write_text(rendered())
    print(f"wrote {SNAPSHOT_PATH.relative_to(REPO_ROOT)}")


if __name__ == "__main__":
    main()
