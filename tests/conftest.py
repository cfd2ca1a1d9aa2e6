"""Fixtures shared by every test: the template (SAM and translated) and the emulator."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from automation_local.aws.emulator import Emulator
from automation_local.cloudformation.conditions import resolved
from automation_local.cloudformation.project import REPO_ROOT
from automation_local.cloudformation.stack import DeployedStack, deploy
from automation_local.cloudformation.template import load_template, translate
from automation_local.outside.standins import STAND_IN_NETWORKS

# The handler fixtures, shared by tests/functions, tests/fuzz and tests/model (one definition, one
# session); the hypothesis profiles and example counts of tests/fuzz and tests/model.
pytest_plugins = ["tests.functions.fixtures", "tests.hypothesis_runs"]

# The fuzz tests use no hypothesis plugin; trio (selenium's, for tests/browser) registers one
# whose import starts `ldconfig`, which the fast tier refuses (tests/fast_tier.py).
os.environ.setdefault("HYPOTHESIS_NO_PLUGINS", "1")


@pytest.fixture(scope="session")
def sam_template() -> dict[str, Any]:
    return load_template()


@pytest.fixture(scope="session")
def cfn_template(sam_template: dict[str, Any]) -> dict[str, Any]:
    """template.yaml as CloudFormation receives it (default parameters)."""
    return translate(sam_template)


QUEUE_TYPES = ("standard", "fifo")


@pytest.fixture(scope="session", params=QUEUE_TYPES)
def queue_type(request: pytest.FixtureRequest) -> str:
    """Each deployment mode of the template (its QueueType parameter)."""
    return str(request.param)


@pytest.fixture(scope="session")
def deployed_template(cfn_template: dict[str, Any], queue_type: str) -> dict[str, Any]:
    """The translated template as CloudFormation deploys it in `queue_type` mode (conditions
    evaluated, NoValue left out)."""
    return resolved(cfn_template, {"QueueType": queue_type})


@pytest.fixture(scope="session")
def sam_cli() -> str:
    """The SAM CLI of .venv-sam (`make test` exports SAM_CLI_BIN)."""
    candidate = os.environ.get("SAM_CLI_BIN") or str(REPO_ROOT / ".venv-sam" / "bin" / "sam")
    path = shutil.which(candidate)
    if path is None:
        pytest.fail(f"SAM CLI not found at {candidate}: run the tests with `make test`")
    return path


@pytest.fixture(scope="session")
def sam_build_dir(sam_cli: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`sam build` (no container) into a scratch directory, once per session."""
    build_dir = tmp_path_factory.mktemp("sam-build")
    result = subprocess.run(
        [sam_cli, "build", "--build-dir", str(build_dir), "--cache-dir", str(build_dir / "cache")],
        cwd=REPO_ROOT,
        env={**os.environ, "SAM_CLI_TELEMETRY": "0"},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(f"sam build failed:\n{result.stdout}{result.stderr}")
    return build_dir


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    with Emulator() as running:
        yield running


@pytest.fixture(scope="session")
def deployed_stack(emulator: Emulator) -> DeployedStack:
    """template.yaml deployed once into the session's emulator (stack automation-dev), with
    outbound calls allowed to the stand-ins on 127.0.0.1 (as the local runtime allows them)."""
    return deploy(emulator, stack_name="automation-dev", parameters={"OutboundAllowedNetworks": STAND_IN_NETWORKS})
