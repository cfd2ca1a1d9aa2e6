"""The SAM CLI accepts and builds the template here: python3.13, arm64, no container."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from automation_local.paths import REPO_ROOT

pytestmark = pytest.mark.slow


def _sam(sam_cli: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SAM_CLI_TELEMETRY": "0"}
    return subprocess.run(
        [sam_cli, *args], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600, check=False
    )


def test_sam_validate_lint_accepts_the_template(sam_cli: str) -> None:
    result = _sam(sam_cli, "validate", "--lint")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is a valid SAM Template" in result.stdout + result.stderr


def test_sam_build_builds_every_function_and_the_shared_layer(sam_build_dir: Path) -> None:
    # WHEN sam build runs without a container into a scratch directory (the fixture)
    # THEN each function has its handler and the layer carries the shared package for arm64
    for function in ("WebhookFunction", "WorkerFunction", "FeedbackFunction"):
        assert (sam_build_dir / function / "app.py").is_file()
        assert not (sam_build_dir / function / "automation_shared").exists(), "shared code must come from the layer"
    layer = sam_build_dir / "SharedLayer" / "python"
    assert (layer / "automation_shared" / "contracts.py").is_file()
    assert list(layer.glob("pydantic_core/_pydantic_core.cpython-313-aarch64-linux-gnu.so"))
