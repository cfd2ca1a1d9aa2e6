"""FunctionSandbox: a function in its own process, killed when it outlives its timeout."""

from __future__ import annotations

from pathlib import Path

from automation_local.sandbox import FunctionSandbox


def _function(tmp_path: Path, body: str) -> FunctionSandbox:
    code = tmp_path / "probe"
    code.mkdir()
    (code / "app.py").write_text(body)
    return FunctionSandbox(
        "probe", code, {"PROBE_SETTING": "from-the-stack"}, function_name="probe", timeout_seconds=1, memory_mb=128
    )


def test_the_handler_sees_its_own_environment_and_a_counting_down_context(tmp_path: Path) -> None:
    sandbox = _function(
        tmp_path,
        "import os\n"
        "def lambda_handler(event, context):\n"
        "    return {'setting': os.environ['PROBE_SETTING'], 'left': context.get_remaining_time_in_millis(),"
        " 'echo': event}\n",
    )
    try:
        invocation = sandbox.invoke({"n": 1})
    finally:
        sandbox.stop()
    assert invocation.error is None
    assert invocation.response["setting"] == "from-the-stack"
    assert 0 < invocation.response["left"] <= 1000
    assert invocation.response["echo"] == {"n": 1}


def test_a_handler_that_raises_is_an_invocation_error(tmp_path: Path) -> None:
    sandbox = _function(tmp_path, "def lambda_handler(event, context):\n    raise RuntimeError('boom')\n")
    try:
        invocation = sandbox.invoke({})
    finally:
        sandbox.stop()
    assert invocation.response is None
    assert invocation.error is not None and invocation.error.startswith("RuntimeError: boom")


def test_a_handler_that_outlives_its_timeout_is_killed_and_the_next_call_starts_fresh(tmp_path: Path) -> None:
    sandbox = _function(
        tmp_path,
        "import time\nCALLS = []\n"
        "def lambda_handler(event, context):\n"
        "    CALLS.append(1)\n"
        "    if event.get('sleep'):\n        time.sleep(30)\n"
        "    return len(CALLS)\n",
    )
    try:
        assert sandbox.invoke({}).response == 1
        timed_out = sandbox.invoke({"sleep": True})
        assert timed_out.error == "Task timed out after 1.00 seconds"
        assert sandbox.invoke({}).response == 1  # a new sandbox: module state started over
    finally:
        sandbox.stop()
