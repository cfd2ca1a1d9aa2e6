"""The integrations' local stand-ins, started once and seeded with the operator's secrets."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from automation_local.emulator import Emulator
from automation_local.local_stack import LocalStack
from automation_local.standins import LinkedInStandIn, PerplexityStandIn, TelegramStandIn
from tests.functions.handlers import INTEGRATION_SECRETS, seed_integrations


@pytest.fixture(scope="session")
def perplexity(emulator: Emulator, local_stack: LocalStack) -> Iterator[PerplexityStandIn]:
    seed_integrations(emulator)
    with PerplexityStandIn(INTEGRATION_SECRETS["automation/dev/perplexity-api-key"]) as running:
        yield running  # type: ignore[misc]


@pytest.fixture(scope="session")
def linkedin(emulator: Emulator, local_stack: LocalStack) -> Iterator[LinkedInStandIn]:
    seed_integrations(emulator)
    with LinkedInStandIn(INTEGRATION_SECRETS["automation/dev/linkedin-access-token"]) as running:
        yield running  # type: ignore[misc]


@pytest.fixture(scope="session")
def telegram(emulator: Emulator, local_stack: LocalStack) -> Iterator[TelegramStandIn]:
    seed_integrations(emulator)
    with TelegramStandIn(INTEGRATION_SECRETS["automation/dev/telegram-bot-token"]) as running:
        yield running  # type: ignore[misc]


@pytest.fixture(scope="session")
def integration_urls(
    perplexity: PerplexityStandIn, linkedin: LinkedInStandIn, telegram: TelegramStandIn
) -> dict[str, str]:
    """Environment overrides that point the functions at the stand-ins."""
    return {
        "PERPLEXITY_API_BASE_URL": perplexity.base_url,
        "LINKEDIN_API_BASE_URL": linkedin.base_url,
        "TELEGRAM_API_BASE_URL": telegram.base_url,
    }
