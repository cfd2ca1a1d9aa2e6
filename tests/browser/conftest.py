"""The console in a real browser: Debian's headless Chromium driven by Selenium, against a
local runtime whose order queue dead-letters a refused body after one receive (so the DLQ
path takes seconds, not minutes)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webdriver import WebDriver

from automation_local.console.server import ConsoleServer
from automation_local.runtime import LocalRuntime

# Installed from the distribution's packages (`make test` installs them: Makefile's browser step).
CHROMIUM = os.environ.get("CHROMIUM_BIN", "chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER_BIN", "chromedriver")
# One receive to the DLQ, back within the minimum visibility timeout (the function's timeout is shorter).
FAST_DEAD_LETTERS = {"OrderQueueMaxReceiveCount": "1", "OrderQueueVisibilityTimeout": "10", "WorkerTimeoutSeconds": "5"}
WINDOW = (1440, 1100)


@pytest.fixture(scope="package")
def runtime() -> Iterator[LocalRuntime]:
    with LocalRuntime(parameters=FAST_DEAD_LETTERS) as running:
        yield running


@pytest.fixture(scope="package")
def console(runtime: LocalRuntime) -> Iterator[ConsoleServer]:
    with ConsoleServer(runtime, site_url=runtime.site.base_url) as serving:
        yield serving


@pytest.fixture(scope="package")
def browser(console: ConsoleServer) -> Iterator[WebDriver]:
    """Chromium; closed before the console and the runtime stop (its page polls them)."""
    found = {name: shutil.which(name) for name in (CHROMIUM, CHROMEDRIVER)}
    missing = [name for name, path in found.items() if path is None]
    if missing:
        pytest.fail(f"{', '.join(missing)} not found: `make test` installs Debian's chromium and chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = str(found[CHROMIUM])
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=Service(str(found[CHROMEDRIVER])))
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="package")
def screenshot_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the test run keeps its screenshot of the console (CONSOLE_SCREENSHOT: another
    place, such as docs/console.png when it is taken for the README)."""
    return Path(os.environ.get("CONSOLE_SCREENSHOT") or tmp_path_factory.mktemp("console") / "console.png")
