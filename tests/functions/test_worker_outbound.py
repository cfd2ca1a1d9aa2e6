"""Worker: the addresses its tasks may fetch, through the handler against the emulator stack.

The session's stack allows 127.0.0.1/32 (OutboundAllowedNetworks, as the local runtime
does for its stand-ins); without it a loopback URL is refused before any connection, and
the failure is escalated at once (asking again would be refused again).

And a LinkedIn post at most once: LinkedIn's stand-in takes the post, then answers with a
5xx or too late; the order is escalated for a person to check, never requeued to post
again, also when the worker's bound on the task fires while the POST is under way.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from automation_local.aws.emulator import Emulator
from automation_local.cloudformation.stack import DeployedStack
from automation_local.lambda_.functions import stack_functions
from automation_local.outside.account import SECRET_VALUES
from automation_local.outside.standins import LinkedInStandIn, Reply, TargetSite
from automation_shared.contracts import OrderMessage, ResultMessage
from automation_shared.messages import order_message
from automation_shared.order_records import OrderRecords
from tests.functions.handlers import context_for, loaded_handler
from tests.functions.queues import Queue
from tests.functions.test_worker import make_order, results_by_order, run_worker

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def refused_target() -> Iterator[TargetSite]:
    """A stand-in on 127.0.0.2: loopback, outside the stack's allow-list 127.0.0.1/32."""
    with TargetSite({"/": Reply(200, b"reached", "text/plain")}, host="127.0.0.2") as running:
        yield running  # type: ignore[misc]


@pytest.fixture(scope="module")
def site(refused_target: TargetSite) -> Iterator[TargetSite]:
    pages = {
        "/health": Reply(200, b"ok", "text/plain"),
        "/moved": Reply(302, b"", "text/plain", headers={"Location": f"{refused_target.base_url}/"}),
    }
    with TargetSite(pages) as running:
        yield running  # type: ignore[misc]


@pytest.fixture
def worker_without_allow_list(
    emulator: Emulator, deployed_stack: DeployedStack, integration_urls: dict[str, str], worker: Any
) -> Iterator[Any]:
    """The worker as deployed with the default OutboundAllowedNetworks (empty). Set up after
    `worker`, so its environment is the one in force until it is torn down."""
    with loaded_handler(emulator, deployed_stack, "worker", **integration_urls, OUTBOUND_ALLOWED_NETWORKS="") as module:
        yield module


def _run_one(worker: Any, order_queue: Queue, result_queue: Queue, url: str) -> ResultMessage:
    order = make_order(payload={"url": url, "timeout": 30}, retryCount=0)
    order_queue.send([order_message(order)])
    assert run_worker(worker, order_queue.receive_event(1)) == set()
    return results_by_order(result_queue)[order.orderId]


def _escalated_at_once(result: ResultMessage) -> dict[str, Any]:
    """The result's error details, once it is checked to be a failure escalated on its first attempt."""
    assert result.status.value == "failure"
    assert result.followUpAction is not None and result.followUpAction.value == "escalate"
    assert result.result.metadata is not None
    return result.result.metadata.errorDetails or {}


def test_a_loopback_url_without_the_allow_list_fails_and_escalates_without_a_request(
    worker_without_allow_list: Any, site: TargetSite, order_queue: Queue, result_queue: Queue
) -> None:
    # GIVEN the worker with no allow-list, and an order (first attempt, 3 retries left) for
    # a stand-in on 127.0.0.1
    # WHEN the worker runs it
    result = _run_one(worker_without_allow_list, order_queue, result_queue, f"{site.base_url}/health")
    # THEN it fails, escalated at once rather than requeued, saying why
    details = _escalated_at_once(result)
    assert details == {
        "message": "refused: 127.0.0.1 (loopback address)",
        "refusedAddress": "127.0.0.1",
        "reason": "loopback",
        "retryable": False,
    }
    # AND the stand-in saw no request
    assert site.requests_to("/health") == []


def test_a_name_resolving_to_loopback_is_refused_after_resolution(
    worker_without_allow_list: Any, site: TargetSite, order_queue: Queue, result_queue: Queue
) -> None:
    # GIVEN an order for a host name (localhost) that resolves to a loopback address
    port = site.base_url.rsplit(":", 1)[1]
    # WHEN the worker (no allow-list) runs it
    result = _run_one(worker_without_allow_list, order_queue, result_queue, f"http://localhost:{port}/health")
    # THEN the address it resolved to is refused, and nothing reached the stand-in
    details = _escalated_at_once(result)
    assert details["refusedAddress"] in ("127.0.0.1", "::1")
    assert details["message"].startswith("refused: localhost resolves to")
    assert site.requests_to("/health") == []


def test_a_redirect_from_an_allowed_server_to_a_refused_address_is_refused(
    worker: Any, site: TargetSite, refused_target: TargetSite, order_queue: Queue, result_queue: Queue
) -> None:
    # GIVEN the allow-listed worker and an allowed page that redirects to 127.0.0.2
    # WHEN the worker runs an order for that page
    result = _run_one(worker, order_queue, result_queue, f"{site.base_url}/moved")
    # THEN the redirect is refused and escalated, and its target saw no request
    details = _escalated_at_once(result)
    assert details["refusedAddress"] == "127.0.0.2" and details["retryable"] is False
    assert len(site.requests_to("/moved")) == 1
    assert refused_target.requests == []


def test_an_allow_listed_stand_in_on_loopback_is_reached(
    emulator: Emulator,
    deployed_stack: DeployedStack,
    worker: Any,
    site: TargetSite,
    order_queue: Queue,
    result_queue: Queue,
) -> None:
    # GIVEN the stack's allow-list, as the worker's environment has it
    worker_config = stack_functions(emulator, deployed_stack)["worker"]
    assert worker_config.environment["OUTBOUND_ALLOWED_NETWORKS"] == "127.0.0.1/32"
    before = len(site.requests_to("/health"))
    # WHEN the worker runs an order for the stand-in on 127.0.0.1
    result = _run_one(worker, order_queue, result_queue, f"{site.base_url}/health")
    # THEN it is reached and the task succeeds
    assert result.status.value == "success"
    assert len(site.requests_to("/health")) == before + 1


# ------------------------------------------------------------------ a LinkedIn post, at most once
def publishing_order() -> OrderMessage:
    return make_order(
        "scheduled-linkedin",
        payload={"parameters": {"topic": "queues", "publish": True, "author": "urn:li:person:1"}, "timeout": 30},
    )


@pytest.fixture
def linkedin(monkeypatch: pytest.MonkeyPatch) -> Iterator[LinkedInStandIn]:
    """A LinkedIn stand-in of the test's own (the session's counts posts for other tests),
    taking the token the account holds; the worker reads its base URL at each call."""
    with LinkedInStandIn(SECRET_VALUES["LinkedInAccessTokenSecretName"]) as running:
        monkeypatch.setenv("LINKEDIN_API_BASE_URL", running.base_url)
        yield running  # type: ignore[misc]


@pytest.fixture
def records(emulator: Emulator, deployed_stack: DeployedStack) -> OrderRecords:
    return OrderRecords(emulator.client("dynamodb"), deployed_stack.outputs["OrdersTableName"])


def _worker_then_feedback(
    worker: Any, feedback: Any, order: OrderMessage, order_queue: Queue, result_queue: Queue, timeout_seconds: float
) -> ResultMessage:
    """The order run by the worker, its result acted on by feedback; the result returned."""
    order_queue.send([order_message(order)])
    assert run_worker(worker, order_queue.receive_event(1), timeout_seconds) == set()
    [message] = result_queue.receive(1)
    response = feedback.lambda_handler(result_queue.event([message]), context_for("feedback"))
    assert response["batchItemFailures"] == []
    return ResultMessage.model_validate_json(message["Body"])


def _escalated_as_maybe_posted(result: ResultMessage, status: str) -> dict[str, Any]:
    assert result.status.value == status
    assert result.followUpAction is not None and result.followUpAction.value == "escalate"
    assert result.result.summary.startswith("LinkedIn post may have been made")
    assert "a person must check" in result.result.summary
    assert result.result.metadata is not None and result.result.metadata.errorDetails is not None
    details = result.result.metadata.errorDetails
    assert (details["outcomeUnknown"], details["retryable"], details["author"]) == (True, False, "urn:li:person:1")
    return details


@pytest.mark.parametrize(
    ("answer", "status"),
    [
        (Reply(503, b'{"message": "unavailable"}'), "failure"),
        # Answered after the task's bound (about 2 s in a 3 s invocation): a socket timeout
        # in the task, or the worker's bound firing first; either is a post of unknown outcome.
        (Reply(201, b"", delay_seconds=6.0), "timeout"),
    ],
)
def test_a_post_linkedin_took_but_did_not_confirm_is_escalated_and_made_once(
    worker: Any,
    feedback: Any,
    linkedin: LinkedInStandIn,
    order_queue: Queue,
    result_queue: Queue,
    records: OrderRecords,
    answer: Reply,
    status: str,
) -> None:
    # GIVEN LinkedIn that publishes the next post, then answers with a 503 or too late, and
    # an order to publish on its first attempt (3 retries left)
    linkedin.answers_after_publishing.append(answer)
    order = publishing_order()
    # WHEN the worker runs it and feedback acts on its result
    result = _worker_then_feedback(worker, feedback, order, order_queue, result_queue, timeout_seconds=3)
    # THEN the result asks a person to check, with the draft to look for, instead of a retry
    details = _escalated_as_maybe_posted(result, status)
    assert details["draft"].startswith("Answer to:")
    # AND the order is escalated with nothing requeued: LinkedIn has exactly one post of it
    assert order_queue.drain() == []
    item = records.item(order.orderId)
    assert item is not None and item["status"]["S"] == "escalated"
    assert len(linkedin.published) == 1


def test_a_task_whose_bound_fires_during_a_post_is_escalated_not_retried(
    worker: Any, order_queue: Queue, result_queue: Queue, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a scheduled-linkedin task that begins its post and is still posting when the
    # worker's bound on it fires (its thread cannot be stopped and may still post)
    outcome_module = sys.modules[worker.BegunActs.__module__]
    released = threading.Event()

    def still_posting(order: OrderMessage, deadline: float) -> Any:
        outcome_module.begin_unrepeatable_act("LinkedIn post", author="urn:li:person:1", draft="A post")
        released.wait()
        raise AssertionError("released only once the test is over")

    monkeypatch.setattr(worker, "processor_for", lambda task_type: still_posting)
    order = publishing_order()
    order_queue.send([order_message(order)])
    try:
        # WHEN the worker runs it in an invocation of 3 s
        assert run_worker(worker, order_queue.receive_event(1), timeout_seconds=3) == set()
    finally:
        released.set()
    # THEN the timeout is escalated for a person to check, not requeued to post again
    result = results_by_order(result_queue)[order.orderId]
    details = _escalated_as_maybe_posted(result, "timeout")
    assert (details["act"], details["draft"]) == ("LinkedIn post", "A post")
