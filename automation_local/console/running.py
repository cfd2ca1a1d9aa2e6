"""What the console reads of a running local runtime (automation_local.runtime sits above the
console, which it composes with the rest, so it is named here by what it offers)."""

from __future__ import annotations

from typing import Any, Protocol

from automation_local.cloudformation.outputs import BackboneOutputs
from automation_local.cost.run import LocalRun


class RunningBackbone(LocalRun, Protocol):
    """The emulator, the stack, its HTTP API and logs (LocalRun), and:"""

    @property
    def outputs(self) -> BackboneOutputs: ...

    @property
    def webhook_secret(self) -> str: ...

    def mapping_stats(self) -> dict[str, dict[str, Any]]: ...

    def mapping_functions(self) -> dict[str, str]: ...
