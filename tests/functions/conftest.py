"""The integrations' local stand-ins, started once, with the operator's secrets seeded."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from automation_local.emulator import Emulator
from automation_local.local_account import LocalIntegrations
from automation_local.local_stack import LocalStack
from automation_local.standins import LinkedInStandIn, PerplexityStandIn, TelegramStandIn
from tests.functions.handlers import seed_integrations


@pytest.fixture(scope="session")
def integrations(emulator: Emulator, local_stack: LocalStack) -> Iterator[LocalIntegrations]:
    seed_integrations(emulator)
    with LocalIntegrations() as running:
        yield running


@pytest.fixture(scope="session")
def perplexity(integrations: LocalIntegrations) -> PerplexityStandIn:
    return integrations.perplexity


@pytest.fixture(scope="session")
def linkedin(integrations: LocalIntegrations) -> LinkedInStandIn:
    return integrations.linkedin


@pytest.fixture(scope="session")
def telegram(integrations: LocalIntegrations) -> TelegramStandIn:
    return integrations.telegram


@pytest.fixture(scope="session")
def integration_urls(integrations: LocalIntegrations) -> dict[str, str]:
    """Environment overrides that point the functions at the stand-ins."""
    return integrations.environment
