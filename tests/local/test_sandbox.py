"""FunctionSandbox: a function in its own process, killed when it outlives its timeout."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from automation_local.lambda_.functions import FunctionConfig
from automation_local.lambda_.sandbox import FunctionSandbox


def _function(tmp_path: Path, body: str, **options: Any) -> FunctionSandbox:
    code = tmp_path / "probe"
    code.mkdir()
    (code / "app.py").write_text(body)
    config = FunctionConfig(
        "probe", "probe", code, environment={"PROBE_SETTING": "from-the-stack"}, memory_mb=128, timeout_seconds=1
    )
    sandbox_options = {name: options.pop(name) for name in ("log_path", "fails_after_handler") if name in options}
    return FunctionSandbox(replace(config, **options), **sandbox_options)


def test_the_handler_sees_its_own_environment_and_a_counting_down_context(tmp_path: Path) -> None:
    # GIVEN a function with a 1 s timeout that returns its setting, its time left and its event
    sandbox = _function(
        tmp_path,
        "import os\n"
        "def lambda_handler(event, context):\n"
        "    return {'setting': os.environ['PROBE_SETTING'], 'left': context.get_remaining_time_in_millis(),"
        " 'echo': event}\n",
    )
    try:
        # WHEN it is invoked in its sandbox
        invocation = sandbox.invoke({"n": 1})
    finally:
        sandbox.stop()
    # THEN it answers without error, having seen the environment it was configured with,
    # a context counting down from its timeout, and the event it was given
    assert invocation.error is None
    assert invocation.response["setting"] == "from-the-stack"
    assert 0 < invocation.response["left"] <= 1000
    assert invocation.response["echo"] == {"n": 1}


def test_a_handler_that_raises_is_an_invocation_error(tmp_path: Path) -> None:
    # GIVEN a function whose handler raises
    sandbox = _function(tmp_path, "def lambda_handler(event, context):\n    raise RuntimeError('boom')\n")
    try:
        # WHEN it is invoked in its sandbox
        invocation = sandbox.invoke({})
    finally:
        sandbox.stop()
    # THEN there is no response, and the invocation error names the exception
    assert invocation.response is None
    assert invocation.error is not None and invocation.error.startswith("RuntimeError: boom")


def test_a_handler_that_outlives_its_timeout_is_killed_and_the_next_call_starts_fresh(tmp_path: Path) -> None:
    # GIVEN a function with a 1 s timeout that counts its calls, and sleeps 30 s when asked
    sandbox = _function(
        tmp_path,
        "import time\nCALLS = []\n"
        "def lambda_handler(event, context):\n"
        "    CALLS.append(1)\n"
        "    if event.get('sleep'):\n        time.sleep(30)\n"
        "    return len(CALLS)\n",
    )
    try:
        # WHEN it is invoked once, then asked to sleep
        assert sandbox.invoke({}).response == 1
        timed_out = sandbox.invoke({"sleep": True})
        # THEN the sleeping call is killed and reported as timed out
        assert timed_out.error == "Task timed out after 1.00 seconds"
        # WHEN it is invoked again
        # THEN the call runs in a fresh sandbox: its count starts over
        assert sandbox.invoke({}).response == 1  # a new sandbox: module state started over
    finally:
        sandbox.stop()


def test_an_injected_fault_fails_the_invocation_after_its_handler_ran(tmp_path: Path) -> None:
    # GIVEN a sandbox told to fail its first invocation after the handler returns
    decisions = iter([True, False])
    sandbox = _function(
        tmp_path,
        "CALLS = []\ndef lambda_handler(event, context):\n    CALLS.append(1)\n    return len(CALLS)\n",
        fails_after_handler=lambda: next(decisions),
    )
    try:
        # WHEN it is invoked twice
        failed, answered = sandbox.invoke({}), sandbox.invoke({})
    finally:
        sandbox.stop()
    # THEN the first is an invocation error, though its handler ran (the second counts 2)
    assert failed.error is not None and "InjectedFault" in failed.error
    assert answered.response == 2


def test_an_init_longer_than_10_s_goes_on_within_the_invocation_timeout(tmp_path: Path) -> None:
    # GIVEN a function whose init takes 10.5 s (Lambda retries such an init under the function's timeout)
    sandbox = _function(
        tmp_path,
        "import time\ntime.sleep(10.5)\ndef lambda_handler(event, context):\n    return 'ready'\n",
        timeout_seconds=3,
    )
    try:
        invocation = sandbox.invoke({})
    finally:
        sandbox.stop()
    assert invocation.error is None and invocation.response == "ready"


def test_a_handler_the_module_lacks_is_an_init_error(tmp_path: Path) -> None:
    # GIVEN a function whose Handler names a function its module does not define
    sandbox = _function(tmp_path, "def lambda_handler(event, context):\n    return 1\n", handler="app.missing")
    # WHEN it is invoked
    try:
        invocation = sandbox.invoke({})
    finally:
        sandbox.stop()
    # THEN the invocation fails at init, naming the handler (Lambda's Runtime.HandlerNotFound)
    assert invocation.response is None
    assert invocation.error is not None and invocation.error.startswith("Init error: AttributeError: Handler 'missing'")
