"""The SAM CLI accepts and builds the template here: python3.13, arm64, no container."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from automation_local.cloudformation.project import REPO_ROOT

pytestmark = pytest.mark.slow

FUNCTIONS = ("WebhookFunction", "WorkerFunction", "FeedbackFunction")


def _sam(sam_cli: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SAM_CLI_TELEMETRY": "0"}
    return subprocess.run(
        [sam_cli, *args], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600, check=False
    )


def test_sam_validate_lint_accepts_the_template(sam_cli: str) -> None:
    # GIVEN the template as written
    # WHEN the SAM CLI validates it, with its linter
    result = _sam(sam_cli, "validate", "--lint")
    # THEN it succeeds and says the template is valid
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is a valid SAM Template" in result.stdout + result.stderr


def test_sam_build_builds_every_function_and_the_shared_layer(sam_build_dir: Path) -> None:
    # WHEN sam build runs without a container into a scratch directory (the fixture)
    # THEN each function has its handler and the layer carries the shared package for arm64
    for function in FUNCTIONS:
        assert (sam_build_dir / function / "app.py").is_file()
        assert not (sam_build_dir / function / "automation_shared").exists(), "shared code must come from the layer"
    layer = sam_build_dir / "SharedLayer" / "python"
    assert (layer / "automation_shared" / "contracts.py").is_file()
    assert list(layer.glob("pydantic_core/_pydantic_core.cpython-313-aarch64-linux-gnu.so"))


def _pyc_flags(path: Path) -> int:
    """PEP 552 flags of a .pyc: 0b01 hash-based, 0b10 checked against the source."""
    return int.from_bytes(path.read_bytes()[4:8], "little")


def test_sam_build_ships_bytecode_and_no_second_botocore(sam_build_dir: Path) -> None:
    # GIVEN the shared layer as sam build writes it into a scratch directory (the fixture)
    layer = sam_build_dir / "SharedLayer" / "python"
    # THEN the layer has the Tracer's X-Ray SDK but not the runtime's SDK
    assert (layer / "aws_xray_sdk").is_dir()
    for package in ("boto3", "botocore", "s3transfer", "urllib3", "dateutil"):
        assert not (layer / package).exists(), f"{package} is the runtime's; the layer must not shadow it"
    # AND every module comes with bytecode Lambda can use as is (read-only, no mtime check)
    compiled = [
        layer / "pydantic" / "__pycache__" / "main.cpython-313.pyc",
        layer / "automation_shared" / "__pycache__" / "contracts.cpython-313.pyc",
        *(sam_build_dir / f / "__pycache__" / "app.cpython-313.pyc" for f in FUNCTIONS),
    ]
    for pyc in compiled:
        assert pyc.is_file(), pyc
        assert _pyc_flags(pyc) == 0b01, f"{pyc}: not unchecked-hash"
    sources = [p for p in layer.rglob("*.py") if "__pycache__" not in p.parts]
    uncompiled = [p for p in sources if not (p.parent / "__pycache__" / f"{p.stem}.cpython-313.pyc").is_file()]
    assert not uncompiled, uncompiled[:5]
