"""Loading a function's handler against the emulator stack, with the environment Lambda gives it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType

import pytest

from automation_local import local_account
from automation_local.emulator import Emulator
from automation_local.lambda_runtime import LambdaContext, function_environment, load_handler_module


@contextmanager
def loaded_handler(emulator: Emulator, function: str, **overrides: str) -> Iterator[ModuleType]:
    """The function's `app` module, imported and kept with its stack environment set
    (plus `overrides`, such as API base URLs pointing at local stand-ins)."""
    function_name = f"automation-dev-{function}"
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {**function_environment(emulator, function_name), **overrides}.items():
            patch.setenv(name, value)
        yield load_handler_module(function)


def context_for(function: str, timeout_seconds: float = 30.0) -> LambdaContext:
    return LambdaContext(function_name=f"automation-dev-{function}", timeout_seconds=timeout_seconds)


# One chat map for the whole session: Powertools caches parameters across handler modules.
TELEGRAM_CHATS = {"user-42": "1001"}


def seed_integrations(emulator: Emulator) -> None:
    """The operator's secrets and chat map (user-42 has a chat; nobody else does)."""
    local_account.seed(emulator, "/automation/dev", chats=TELEGRAM_CHATS)
