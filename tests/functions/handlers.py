"""Loading a function's handler against the emulator stack, with the environment Lambda gives it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType

import pytest

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


def put_secret(emulator: Emulator, name: str, value: str) -> None:
    """Seeds a secret the way an operator would create it before deploying."""
    secrets = emulator.client("secretsmanager")
    try:
        secrets.create_secret(Name=name, SecretString=value)
    except secrets.exceptions.ResourceExistsException:
        secrets.put_secret_value(SecretId=name, SecretString=value)


# What an operator creates beside the stack before using the integrations. One set for
# the whole session: Powertools caches parameters and secrets across handler modules.
INTEGRATION_SECRETS = {
    "automation/dev/perplexity-api-key": "pplx-local",
    "automation/dev/linkedin-access-token": "li-local",
    "automation/dev/telegram-bot-token": "123:local",
}
TELEGRAM_CHATS = {"user-42": "1001"}


def seed_integrations(emulator: Emulator) -> None:
    for name, value in INTEGRATION_SECRETS.items():
        put_secret(emulator, name, value)
    emulator.client("ssm").put_parameter(
        Name="/automation/dev/telegram/chats", Value=json.dumps(TELEGRAM_CHATS), Type="String", Overwrite=True
    )
