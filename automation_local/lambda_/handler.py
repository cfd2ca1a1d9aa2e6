"""Running a function's handler in this process the way Lambda runs it.

Loads the module the function's `Handler` names from its code directory (`src/<folder>/`
or its `sam build` copy) under a module name of its own, so functions whose handlers share
a file name (`app.py`) never shadow each other, and gives it a Lambda context whose
remaining time counts down from the function's timeout.
"""

from __future__ import annotations

import importlib.util
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from automation_local.aws.identity import ACCOUNT_ID, REGION
from automation_local.lambda_.functions import FunctionConfig


@dataclass
class LambdaContext:
    """The attributes and method of Lambda's Python context object that handlers use."""

    function_name: str
    timeout_seconds: float = 30.0
    memory_limit_in_mb: int = 256
    region: str = REGION
    account_id: str = ACCOUNT_ID
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = "local"
    _deadline: float = field(default=0.0, repr=False)

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_seconds
        self.log_group_name = self.log_group_name or f"/aws/lambda/{self.function_name}"

    @classmethod
    def of(cls, config: FunctionConfig) -> LambdaContext:
        """A fresh context for one invocation of the function."""
        return cls(config.function_name, timeout_seconds=config.timeout_seconds, memory_limit_in_mb=config.memory_mb)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account_id}:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def load_handler_module(config: FunctionConfig) -> ModuleType:
    """Import the module of the function's `Handler` as `<function>_<module>`, with its code
    directory on the path as Lambda's /var/task is (each function's own modules live in a
    package named for it)."""
    directory = config.code_dir
    if str(directory) not in sys.path:
        sys.path.insert(0, str(directory))
    path = directory.joinpath(*config.handler_module.split(".")).with_suffix(".py")
    module_name = f"{config.name}_{config.handler_module}".replace("-", "_").replace(".", "_")
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    # Registered before it runs, as an import would (dataclasses and pickling look it up).
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def handler_of(config: FunctionConfig, module: ModuleType) -> Callable[[Any, LambdaContext], Any]:
    """The function the `Handler` names (Lambda's Runtime.HandlerNotFound when it is missing)."""
    handler = getattr(module, config.handler_function, None)
    if not callable(handler):
        raise AttributeError(f"Handler '{config.handler_function}' missing on module '{config.handler_module}'")
    return handler  # type: ignore[no-any-return]
