"""The console as a user drives it in Chromium: an order sent through its form followed to its
end on its page, and a body the contract refuses, sent straight to the order queue, found in
the order DLQ view and redriven with the button; and its page never has two refreshes in
flight, however slow the console answers."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as shown
from selenium.webdriver.support.ui import WebDriverWait

from automation_local.console.server import ConsoleServer
from automation_local.net.loopback_server import HttpReply, HttpRequest
from automation_local.ops.queue_counts import queue_counts
from automation_local.runtime import LocalRuntime
from automation_shared.order_records import OrderState
from tests.e2e.conftest import wait_for

pytestmark = pytest.mark.slow

COMPLETED = {OrderState.NOTIFIED.value, OrderState.ARCHIVED.value}


def _wait(browser: WebDriver, seconds: float = 60) -> WebDriverWait:
    """The page redraws its figures every 2 s: an element read between two draws is read again."""
    return WebDriverWait(browser, seconds, poll_frequency=0.25, ignored_exceptions=(StaleElementReferenceException,))


def _figure(browser: WebDriver, box: str, name: str) -> int:
    """A figure of one box of the flow (`stage-worker`, `action-archive`), as the page shows it now."""
    value = browser.execute_script(
        "return document.querySelector(`#${arguments[0]} [data-figure='${arguments[1]}'] .value`)?.textContent",
        box,
        name,
    )
    return int(value) if value is not None else -1


def _text(browser: WebDriver, selector: str) -> str:
    return str(browser.find_element(By.CSS_SELECTOR, selector).text)


def _worker_received(runtime: LocalRuntime) -> int:
    functions = runtime.mapping_functions()
    return sum(s["received"] for mapping, s in runtime.mapping_stats().items() if functions[mapping] == "worker")


def test_an_order_sent_through_the_form_reaches_its_end_on_its_page(
    browser: WebDriver, console: ConsoleServer, screenshot_path: Path
) -> None:
    # GIVEN the console's home page, its form filled with a new order by the console
    browser.get(f"{console.url}/#/")
    document = _wait(browser).until(lambda b: b.find_element(By.ID, "order-document").get_attribute("value"))
    order_id = json.loads(document)["orderId"]
    # WHEN the user sends it
    browser.find_element(By.ID, "submit-order").click()
    # THEN the webhook's answer is shown, 202 with the order queued, with a link to the order's page
    _wait(browser).until(shown.text_to_be_present_in_element((By.ID, "submit-answer"), "HTTP 202"))
    assert '"queued"' in _text(browser, "#submit-answer")
    # AND the latest orders list it
    _wait(browser).until(shown.presence_of_element_located((By.CSS_SELECTOR, f'tr[data-order-id="{order_id}"]')))
    # WHEN the user opens its page
    browser.find_element(By.CSS_SELECTOR, f'#submit-answer a[href="#/orders/{order_id}"]').click()
    # THEN the page reaches a final state: completed, its history from queued on, its result
    # stored under result#<id>#0, its message as sent
    _wait(browser, 90).until(lambda b: b.find_element(By.ID, "order-status").get_attribute("data-final") == "true")
    assert _text(browser, "#order-status") in COMPLETED
    history = [li.text.split(" at ")[0] for li in browser.find_elements(By.CSS_SELECTOR, "#order-history li")]
    assert history[0] == OrderState.QUEUED.value and history[-1] in COMPLETED
    assert OrderState.PROCESSING.value in history
    assert _text(browser, "#order-results h4") == f"result#{order_id}#0"
    assert json.loads(_text(browser, "#order-message"))["orderId"] == order_id
    # AND back on the home page the flow counts it at each stage
    browser.get(f"{console.url}/#/")
    for box, name in (
        ("stage-webhook", "accepted"),
        ("stage-worker", "invocations"),
        ("stage-feedback", "invocations"),
    ):
        _wait(browser).until(lambda b, box=box, name=name: _figure(b, box, name) >= 1)
    _wait(browser).until(lambda b: max(_figure(b, f"action-{a}", a) for a in ("notify", "archive")) >= 1)
    _wait(browser).until(shown.presence_of_element_located((By.ID, "cost-per-million")))
    assert _text(browser, "#cost-per-million").startswith("$")
    screenshot_path.parent.mkdir(parents=True, exist_ok=True)
    assert browser.save_screenshot(str(screenshot_path))


def test_a_refused_body_sent_to_the_queue_shows_in_the_order_dlq_and_the_button_redrives_it(
    browser: WebDriver, console: ConsoleServer, runtime: LocalRuntime
) -> None:
    # GIVEN a body the contract refuses (no valid order id, no payload), sent straight to the
    # order queue by another producer
    marker = f"console-test-{uuid.uuid4()}"
    body = json.dumps({"orderId": marker, "taskType": "text-processing"})
    sqs = runtime.emulator.client("sqs")
    sqs.send_message(QueueUrl=runtime.outputs.order_queue_url, MessageBody=body)
    # WHEN the user opens the order DLQ view
    browser.get(f"{console.url}/#/dlq/order")
    # THEN, once the worker refused it, the view shows it with its body and its receive count
    _wait(browser, 90).until(shown.text_to_be_present_in_element((By.ID, "dlq-messages"), marker))
    row = next(r for r in browser.find_elements(By.CSS_SELECTOR, ".dlq-message") if marker in r.text)
    assert json.loads(row.find_element(By.CSS_SELECTOR, ".body").text) == json.loads(body)
    assert int(row.find_element(By.CSS_SELECTOR, ".receive-count").text) >= 1
    received_before = _worker_received(runtime)
    # WHEN the user presses the redrive button
    browser.find_element(By.ID, "redrive").click()
    # THEN the console reports it moved back to the order queue, which holds it (or the
    # worker has it again), and the DLQ is empty
    _wait(browser).until(shown.text_to_be_present_in_element((By.ID, "redrive-report"), "moved 1 to the order queue"))
    order_dlq_url, order_queue_url = runtime.outputs.queue_pair("order")
    assert queue_counts(sqs, order_dlq_url).total == 0
    wait_for(
        lambda: queue_counts(sqs, order_queue_url).total >= 1 or _worker_received(runtime) > received_before,
        timeout=30,
        what="the redriven message back in the order queue",
    )


def test_an_order_the_webhook_refuses_shows_its_answer_with_the_field_path(
    browser: WebDriver, console: ConsoleServer
) -> None:
    # GIVEN the form's order edited to lose its userId
    browser.get(f"{console.url}/#/")
    document = _wait(browser).until(lambda b: b.find_element(By.ID, "order-document").get_attribute("value"))
    edited = {k: v for k, v in json.loads(document).items() if k != "userId"}
    area = browser.find_element(By.ID, "order-document")
    area.clear()
    area.send_keys(json.dumps(edited))
    # WHEN the user sends it
    browser.find_element(By.ID, "submit-order").click()
    # THEN the webhook's 422 is shown, naming the missing field, and no order is in the table
    _wait(browser).until(shown.text_to_be_present_in_element((By.ID, "submit-answer"), "HTTP 422"))
    assert '"path":"userId"' in _text(browser, "#submit-answer").replace(" ", "")
    assert browser.find_elements(By.CSS_SELECTOR, f'tr[data-order-id="{edited["orderId"]}"]') == []


class SlowFlowConsole(ConsoleServer):
    """The console answering its flow in 2.5 s, longer than the page's 2 s between refreshes
    (as a loaded emulator would)."""

    ANSWER_SECONDS = 2.5

    def __init__(self, runtime: LocalRuntime) -> None:
        super().__init__(runtime, site_url=runtime.site.base_url)

    def answer(self, request: HttpRequest) -> HttpReply:
        if request.target.startswith("/api/flow"):
            time.sleep(self.ANSWER_SECONDS)
        return super().answer(request)


# Counts the page's refreshes in flight where the page makes them, its fetch() of the flow (one
# per refresh): Chromium holds a GET of a URL already being fetched until the first is answered
# (its cache lock), so the console would see overlapping refreshes one after the other.
COUNT_REFRESHES_IN_FLIGHT = """
window.refreshes = { inFlight: 0, mostInFlight: 0, ended: 0 };
const pageFetch = window.fetch;
window.fetch = (resource, ...rest) => {
  if (!String(resource).startsWith("/api/flow")) return pageFetch(resource, ...rest);
  const counts = window.refreshes;
  counts.mostInFlight = Math.max(counts.mostInFlight, ++counts.inFlight);
  return pageFetch(resource, ...rest).finally(() => { counts.inFlight -= 1; counts.ended += 1; });
};
"""


def test_the_page_never_has_two_refreshes_in_flight(browser: WebDriver, runtime: LocalRuntime) -> None:
    # GIVEN a console slower to answer than the page's refresh period, its page's refreshes counted
    counting = browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": COUNT_REFRESHES_IN_FLIGHT})
    try:
        with SlowFlowConsole(runtime) as slow:
            # WHEN its home page refreshes three times, and the user switches views meanwhile
            browser.get(f"{slow.url}/#/")

            def refreshes() -> dict[str, int]:
                return dict(browser.execute_script("return window.refreshes"))

            wait_for(lambda: refreshes()["ended"] >= 1, timeout=30, what="the first refresh answered")
            browser.execute_script("location.hash = '#/dlq/order'; location.hash = '#/';")
            wait_for(lambda: refreshes()["ended"] >= 3, timeout=60, what="three refreshes answered")
            counted = refreshes()
            browser.get("about:blank")  # before the console stops under the page
    finally:
        browser.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument", {"identifier": counting["identifier"]})
    # THEN the page never had two refreshes in flight
    assert counted["mostInFlight"] == 1
