"""What a real account holds beside the stack, for the local runtime: the integrations'
secrets and Telegram chats, and local stand-ins for the APIs they unlock."""

from __future__ import annotations

import json
from contextlib import ExitStack
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol

from automation_local.aws.emulator import Emulator
from automation_local.cloudformation.outputs import BackboneOutputs
from automation_local.cloudformation.stack import DeployedStack
from automation_local.outside.standins import LinkedInStandIn, PerplexityStandIn, TelegramStandIn

# The stand-ins' credentials, by the template parameter that names each secret (under
# {ProjectName}/{Environment}/): the names are the stack's, only the values are local.
SECRET_VALUES = {
    "PerplexityApiKeySecretName": "pplx-local",
    "LinkedInAccessTokenSecretName": "li-local",
    "TelegramBotTokenSecretName": "123:local",
}
DEFAULT_CHATS = {"*": "1000"}


def webhook_secret(emulator: Emulator, stack: DeployedStack) -> str:
    """The secret the stack created for signing webhook requests."""
    secret = emulator.client("secretsmanager").get_secret_value(
        SecretId=BackboneOutputs.of(stack.outputs).webhook_secret_name
    )
    return str(secret["SecretString"])


def put_secret(emulator: Emulator, name: str, value: str) -> None:
    secrets = emulator.client("secretsmanager")
    try:
        secrets.create_secret(Name=name, SecretString=value)
    except secrets.exceptions.ResourceExistsException:
        secrets.put_secret_value(SecretId=name, SecretString=value)


def seed(emulator: Emulator, stack: DeployedStack, chats: dict[str, str] | None = None) -> None:
    """The secrets and chat map an operator creates before using the integrations, under
    the names the stack's parameters give them."""
    secret_prefix = stack.ssm_prefix.strip("/")
    for parameter, value in SECRET_VALUES.items():
        if parameter in stack.parameters:  # a template without the integration has no such secret
            put_secret(emulator, f"{secret_prefix}/{stack.parameters[parameter]}", value)
    emulator.client("ssm").put_parameter(
        Name=f"{stack.ssm_prefix}/telegram/chats",
        Value=json.dumps(chats or DEFAULT_CHATS),
        Type="String",
        Overwrite=True,
    )


class StandInPlaces(Protocol):
    """Where a restartable run keeps each stand-in's port and journal (the run state)."""

    def port(self, name: str) -> int: ...
    def journal(self, name: str) -> Path: ...


def stand_in_options(state: StandInPlaces | None, name: str) -> dict[str, Any]:
    """A stand-in's port and journal: a fresh port and none without a run state."""
    return {"port": state.port(name), "journal": state.journal(name)} if state else {}


class LocalIntegrations:
    """Perplexity, LinkedIn and Telegram stand-ins; `environment` points the functions at them."""

    def __init__(self, state: StandInPlaces | None = None) -> None:
        """`state`: keep each stand-in's port and requests there (a restartable run)."""
        self.perplexity = PerplexityStandIn(
            SECRET_VALUES["PerplexityApiKeySecretName"], **stand_in_options(state, "perplexity")
        )
        self.linkedin = LinkedInStandIn(
            SECRET_VALUES["LinkedInAccessTokenSecretName"], **stand_in_options(state, "linkedin")
        )
        self.telegram = TelegramStandIn(
            SECRET_VALUES["TelegramBotTokenSecretName"], **stand_in_options(state, "telegram")
        )
        self._stack = ExitStack()

    @property
    def environment(self) -> dict[str, str]:
        return {
            "PERPLEXITY_API_BASE_URL": self.perplexity.base_url,
            "LINKEDIN_API_BASE_URL": self.linkedin.base_url,
            "TELEGRAM_API_BASE_URL": self.telegram.base_url,
        }

    def __enter__(self) -> LocalIntegrations:
        for stand_in in (self.perplexity, self.linkedin, self.telegram):
            self._stack.enter_context(stand_in)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stack.close()
