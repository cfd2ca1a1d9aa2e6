"""The pure tier: the functions' pure parts, driven by events/*.json, in this process only.

No emulator, no subprocess, no network but loopback: the guards below make a test that
tries fail at once (`tests/fast_tier.py` refuses subprocesses when `make test-fast` loads
it). The functions' own packages (webhook_api, worker_tasks, feedback_actions) are put
on the path as Lambda has them (each function's code directory is its root); their
`app.py` modules are never imported here (they create clients and read the environment).
"""

from __future__ import annotations

import ipaddress
import socket
import sys
from typing import Any

import pytest

from automation_local.cloudformation.project import REPO_ROOT
from tests.pure.fakes import FakeLambdaContext

for _function in ("webhook", "worker", "feedback"):
    _code = str(REPO_ROOT / "src" / _function)
    if _code not in sys.path:
        sys.path.append(_code)

PURE_DIR = REPO_ROOT / "tests" / "pure"
SLOW_FIXTURES = frozenset({"emulator", "deployed_stack", "sam_cli", "sam_build_dir"})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test of this directory is marked fast and asks for none of the slow fixtures."""
    for item in items:
        if PURE_DIR not in item.path.parents:
            continue
        if item.get_closest_marker("fast") is None:
            raise pytest.UsageError(f"{item.nodeid}: a test of tests/pure must be marked fast")
        if slow := SLOW_FIXTURES.intersection(item.fixturenames):
            raise pytest.UsageError(f"{item.nodeid}: tests/pure uses no slow fixture ({', '.join(sorted(slow))})")


def _loopback_only(connect: Any) -> Any:
    def guarded(sock: socket.socket, address: Any) -> Any:
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            host = address[0]
            try:
                loopback = ipaddress.ip_address(host).is_loopback
            except ValueError:  # a name: resolved by connect itself, so not vetted here
                loopback = host == "localhost"
            if not loopback:
                raise OSError(f"tests/pure reaches no network but loopback, not {host}")
        return connect(sock, address)

    return guarded


@pytest.fixture(autouse=True)
def _no_network_but_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket.socket, "connect", _loopback_only(socket.socket.connect))
    monkeypatch.setattr(socket.socket, "connect_ex", _loopback_only(socket.socket.connect_ex))


@pytest.fixture
def lambda_context() -> FakeLambdaContext:
    return FakeLambdaContext()
