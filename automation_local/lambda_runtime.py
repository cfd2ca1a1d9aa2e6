"""Running a function's handler in this process the way Lambda runs it.

Loads `src/<function>/app.py` (or its `sam build` copy) under a module name of its own,
so the three `app` modules never shadow each other, and gives it a Lambda context whose
remaining time counts down from the function's timeout.
"""

from __future__ import annotations

import importlib.util
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from .emulator import Emulator
from .paths import SOURCE_DIR

FUNCTIONS = ("webhook", "worker", "feedback")


@dataclass
class LambdaContext:
    """The attributes and method of Lambda's Python context object that handlers use."""

    function_name: str
    timeout_seconds: float = 30.0
    memory_limit_in_mb: int = 256
    region: str = "us-east-1"
    account_id: str = "123456789012"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = "local"
    _deadline: float = field(default=0.0, repr=False)

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_seconds
        self.log_group_name = self.log_group_name or f"/aws/lambda/{self.function_name}"

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account_id}:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def function_environment(emulator: Emulator, function_name: str) -> dict[str, str]:
    """The environment Lambda would give the function: its variables as the stack resolved
    them, the runtime's own (name, memory, region, credentials), and the emulator endpoint."""
    configuration = emulator.client("lambda").get_function(FunctionName=function_name)["Configuration"]
    variables = configuration.get("Environment", {}).get("Variables", {})
    return {
        # Lambda's variables are strings; the emulator keeps a Number parameter's type.
        **{name: str(value) for name, value in variables.items()},
        **emulator.client_environment(),
        "AWS_LAMBDA_FUNCTION_NAME": function_name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(configuration["MemorySize"]),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function_name}",
        # What `sam local invoke` sets: there is no X-Ray daemon here, so Powertools' Tracer
        # records nothing instead of reporting missing segments.
        "AWS_SAM_LOCAL": "true",
    }


def load_handler_module(function: str, code_dir: Path | None = None) -> ModuleType:
    """Import `app.py` of a function as module `<function>_app`, with its directory on the
    path as Lambda's /var/task is (each function's own modules live in a package named for it)."""
    directory = code_dir or SOURCE_DIR / function
    if str(directory) not in sys.path:
        sys.path.insert(0, str(directory))
    path = directory / "app.py"
    spec = importlib.util.spec_from_file_location(f"{function}_app", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    # Registered before it runs, as an import would (dataclasses and pickling look it up).
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module
