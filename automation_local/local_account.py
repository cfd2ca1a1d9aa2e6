"""What a real account holds beside the stack, for the local runtime: the integrations'
secrets and Telegram chats, and local stand-ins for the APIs they unlock."""

from __future__ import annotations

import json
from contextlib import ExitStack
from types import TracebackType
from typing import Any

from .emulator import Emulator
from .local_stack import LocalStack
from .run_state import RunState
from .standins import LinkedInStandIn, PerplexityStandIn, TelegramStandIn

# Names are the template parameters' defaults under {ProjectName}/{Environment}/.
SECRETS = {"perplexity-api-key": "pplx-local", "linkedin-access-token": "li-local", "telegram-bot-token": "123:local"}
DEFAULT_CHATS = {"*": "1000"}


def webhook_secret(emulator: Emulator, stack: LocalStack) -> str:
    """The secret the stack created for signing webhook requests."""
    secret = emulator.client("secretsmanager").get_secret_value(SecretId=stack.outputs["WebhookSecretName"])
    return str(secret["SecretString"])


def put_secret(emulator: Emulator, name: str, value: str) -> None:
    secrets = emulator.client("secretsmanager")
    try:
        secrets.create_secret(Name=name, SecretString=value)
    except secrets.exceptions.ResourceExistsException:
        secrets.put_secret_value(SecretId=name, SecretString=value)


def seed(emulator: Emulator, ssm_prefix: str, chats: dict[str, str] | None = None) -> None:
    """The secrets and chat map an operator creates before using the integrations."""
    secret_prefix = ssm_prefix.strip("/")
    for name, value in SECRETS.items():
        put_secret(emulator, f"{secret_prefix}/{name}", value)
    emulator.client("ssm").put_parameter(
        Name=f"{ssm_prefix}/telegram/chats", Value=json.dumps(chats or DEFAULT_CHATS), Type="String", Overwrite=True
    )


def stand_in_options(state: RunState | None, name: str) -> dict[str, Any]:
    """A stand-in's port and journal: a fresh port and none without a run state."""
    return {"port": state.port(name), "journal": state.journal(name)} if state else {}


class LocalIntegrations:
    """Perplexity, LinkedIn and Telegram stand-ins; `environment` points the functions at them."""

    def __init__(self, state: RunState | None = None) -> None:
        """`state`: keep each stand-in's port and requests there (a restartable run)."""
        self.perplexity = PerplexityStandIn(SECRETS["perplexity-api-key"], **stand_in_options(state, "perplexity"))
        self.linkedin = LinkedInStandIn(SECRETS["linkedin-access-token"], **stand_in_options(state, "linkedin"))
        self.telegram = TelegramStandIn(SECRETS["telegram-bot-token"], **stand_in_options(state, "telegram"))
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
