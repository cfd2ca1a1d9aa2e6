"""The stack's functions as sandboxes: code from `src/` (or the `sam build` output), and the
environment, timeout and memory the deployed stack gives each function."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from .emulator import Emulator
from .lambda_runtime import function_environment
from .local_stack import LocalStack
from .paths import BUILD_DIR, SOURCE_DIR
from .sandbox import FunctionSandbox

LOGICAL_IDS = {"webhook": "WebhookFunction", "worker": "WorkerFunction", "feedback": "FeedbackFunction"}


def function_name(stack: LocalStack, function: str) -> str:
    """The deployed name of `webhook`, `worker` or `feedback`."""
    return stack.resources[LOGICAL_IDS[function]]


def sandbox_for(
    emulator: Emulator,
    stack: LocalStack,
    function: str,
    overrides: dict[str, str],
    built: bool = False,
    log_dir: Path | None = None,
    fails_after_handler: Callable[[], bool] | None = None,
) -> FunctionSandbox:
    name = function_name(stack, function)
    configuration = emulator.client("lambda").get_function(FunctionName=name)["Configuration"]
    return FunctionSandbox(
        function,
        BUILD_DIR / LOGICAL_IDS[function] if built else SOURCE_DIR / function,
        {**function_environment(emulator, name), **overrides},
        function_name=name,
        timeout_seconds=float(configuration["Timeout"]),
        memory_mb=int(configuration["MemorySize"]),
        log_path=log_dir / f"{function}.log" if log_dir else None,
        fails_after_handler=fails_after_handler,
        traced=_traced(stack, function, configuration),
    )


def _traced(stack: LocalStack, function: str, configuration: dict) -> bool:
    """Active tracing, as deployed or (moto's CloudFormation drops TracingConfig) as translated."""
    deployed = configuration.get("TracingConfig", {}).get("Mode")
    resource = stack.cfn_template.get("Resources", {}).get(LOGICAL_IDS[function], {})
    translated = resource.get("Properties", {}).get("TracingConfig", {}).get("Mode")
    return "Active" in (deployed, translated)
