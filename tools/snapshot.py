"""The snapshots of the translated template: `tests/snapshots/template.cfn.json` (what
CloudFormation receives, its conditions unresolved) and `template.fifo.cfn.json` (what it
deploys with QueueType=fifo: conditions evaluated).

`make snapshot` rewrites them after an intended template change; the snapshot tests show
any other change as a diff of the CloudFormation that AWS would receive.
"""

from __future__ import annotations

from automation_local.cloudformation.conditions import resolved
from automation_local.cloudformation.project import REPO_ROOT
from automation_local.cloudformation.template import load_template, normalised_json, translate

SNAPSHOT_PATH = REPO_ROOT / "tests" / "snapshots" / "template.cfn.json"
FIFO_SNAPSHOT_PATH = REPO_ROOT / "tests" / "snapshots" / "template.fifo.cfn.json"


def rendered() -> str:
    """The template translated with its default parameters in a fixed region and account."""
    return normalised_json(translate(load_template()))


def rendered_fifo() -> str:
    """The same translation as deployed with QueueType=fifo."""
    return normalised_json(resolved(translate(load_template()), {"QueueType": "fifo"}))


def main() -> None:
    SNAPSHOT_PATH.parent.mkdir(parents=True, exist_ok=True)
    for path, text in ((SNAPSHOT_PATH, rendered()), (FIFO_SNAPSHOT_PATH, rendered_fifo())):
        path.write_text(text)
        print(f"wrote {path.relative_to(REPO_ROOT)}")


if __name__ == "__main__":
    main()
