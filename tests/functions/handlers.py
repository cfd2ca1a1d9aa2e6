"""Loading a function's handler against the emulator stack, with the environment Lambda gives it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType

import pytest

from automation_local.aws.emulator import Emulator
from automation_local.cloudformation.stack import DeployedStack
from automation_local.lambda_.functions import stack_functions
from automation_local.lambda_.handler import LambdaContext, load_handler_module
from automation_local.outside import account


@contextmanager
def loaded_handler(emulator: Emulator, stack: DeployedStack, function: str, **overrides: str) -> Iterator[ModuleType]:
    """The module of the function's `Handler`, imported and kept with its stack environment
    set (plus `overrides`, such as API base URLs pointing at local stand-ins)."""
    config = stack_functions(emulator, stack)[function].with_environment(overrides)
    with pytest.MonkeyPatch.context() as patch:
        for name, value in config.environment.items():
            patch.setenv(name, value)
        yield load_handler_module(config)


def context_for(function: str, timeout_seconds: float = 30.0) -> LambdaContext:
    return LambdaContext(function_name=f"automation-dev-{function}", timeout_seconds=timeout_seconds)


# One chat map for the whole session: Powertools caches parameters across handler modules.
TELEGRAM_CHATS = {"user-42": "1001"}


def seed_integrations(emulator: Emulator, stack: DeployedStack) -> None:
    """The operator's secrets and chat map (user-42 has a chat; nobody else does)."""
    account.seed(emulator, stack, chats=TELEGRAM_CHATS)
