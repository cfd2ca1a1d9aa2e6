"""Handler fixtures shared by tests/functions and tests/fuzz (registered in tests/conftest.py):
the integrations' local stand-ins with the operator's secrets seeded, and each function's
handler loaded against the emulator stack."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from automation_local.aws.emulator import Emulator
from automation_local.cloudformation.stack import DeployedStack
from automation_local.outside.account import LocalIntegrations
from automation_local.outside.standins import LinkedInStandIn, PerplexityStandIn, TelegramStandIn
from tests.functions.handlers import loaded_handler, seed_integrations
from tests.functions.queues import Queue, emptied
from tests.functions.webhook_client import WebhookClient


@pytest.fixture(scope="session")
def integrations(emulator: Emulator, deployed_stack: DeployedStack) -> Iterator[LocalIntegrations]:
    seed_integrations(emulator, deployed_stack)
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


# Module scope: each handler keeps its own function's environment while its module's tests run.
@pytest.fixture(scope="module")
def webhook_module(emulator: Emulator, deployed_stack: DeployedStack) -> Iterator[Any]:
    with loaded_handler(emulator, deployed_stack, "webhook") as module:
        yield module


@pytest.fixture(scope="module")
def webhook_client(emulator: Emulator, webhook_module: Any) -> WebhookClient:
    secret = emulator.client("secretsmanager").get_secret_value(SecretId="automation/dev/webhook-secret")
    return WebhookClient(webhook_module, secret["SecretString"])


@pytest.fixture(scope="module")
def worker(emulator: Emulator, deployed_stack: DeployedStack, integration_urls: dict[str, str]) -> Iterator[Any]:
    with loaded_handler(emulator, deployed_stack, "worker", **integration_urls) as module:
        yield module


@pytest.fixture(scope="module")
def feedback(emulator: Emulator, deployed_stack: DeployedStack, integration_urls: dict[str, str]) -> Iterator[Any]:
    # Requeued orders visible at once for the assertions.
    with loaded_handler(
        emulator, deployed_stack, "feedback", **integration_urls, REQUEUE_BASE_DELAY_SECONDS="0"
    ) as module:
        yield module


# The worker tests' queues, emptied before each test (test_webhook.py has an order_queue of
# its own: a function that drains and returns what arrived).
@pytest.fixture
def order_queue(emulator: Emulator, deployed_stack: DeployedStack) -> Queue:
    return emptied(emulator, deployed_stack.outputs["OrderQueueUrl"])


@pytest.fixture
def result_queue(emulator: Emulator, deployed_stack: DeployedStack) -> Queue:
    return emptied(emulator, deployed_stack.outputs["ResultQueueUrl"])
