"""A fresh interpreter set up as a Lambda sandbox of one function, for the probes and timings.

The same interpreter as the bench (Python 3.13, Lambda's version) started with -S (no
site-packages: only the paths Lambda has), -E (no PYTHON* variables) and -B (writes no
bytecode: /var/task and /opt are read-only in Lambda, so only bytecode the artifact
ships is ever used). The environment is Lambda's: region, credentials (placeholders:
nothing here reaches AWS), function name and memory, and the function's own variables
(placeholder values); AWS_ENDPOINT_URL points any call that escapes a fake at a closed
loopback port, so it fails at once instead of leaving the machine.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from .artifacts import Artifacts, BuiltFunction

PLACEHOLDERS = {
    "URL": "https://sqs.us-east-1.amazonaws.com/123456789012/bench-queue",
    "ARN": "arn:aws:sns:us-east-1:123456789012:bench-topic",
}


def _placeholder(variable: str) -> str:
    return PLACEHOLDERS.get(variable.rsplit("_", 1)[-1], f"bench-{variable.lower().replace('_', '-')}")


def environment(
    function: BuiltFunction, *, tracing: bool, home: Path, overrides: dict[str, str] | None = None
) -> dict[str, str]:
    # An empty default stays empty (OutboundAllowedNetworks: a placeholder would be no network list).
    variables = {name: _placeholder(name) if value is None else value for name, value in function.variables.items()}
    return {
        **variables,
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),  # no ~/.aws of this machine's user
        "LANG": "C.UTF-8",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "ASIABENCHBENCHBENCH0",
        "AWS_SECRET_ACCESS_KEY": "bench-secret",
        "AWS_SESSION_TOKEN": "bench-token",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
        "AWS_LAMBDA_FUNCTION_NAME": f"bench-{function.name}",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_mb),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "LAMBDA_TASK_ROOT": str(function.code_dir),
        # Tracing Active: Powertools' Tracer is on in Lambda (it patches clients at import).
        # Invocations run without an X-Ray daemon, so the probes switch it off.
        **({} if tracing else {"POWERTOOLS_TRACE_DISABLED": "true"}),
        **(overrides or {}),
    }


def run_python(
    artifacts: Artifacts,
    function: BuiltFunction,
    args: list[str],
    *,
    tracing: bool,
    environment_overrides: dict[str, str] | None = None,
) -> str:
    """Runs `python -S -E -B <args>` as the function's sandbox (`environment_overrides` over
    its variables); returns its stderr's last line on failure."""
    home = artifacts.scratch / "home"
    home.mkdir(exist_ok=True)
    result = subprocess.run(  # noqa: S603 - this interpreter, fixed arguments
        [sys.executable, "-S", "-E", "-B", *args],
        env=environment(function, tracing=tracing, home=home, overrides=environment_overrides),
        cwd=home,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"{function.name} sandbox failed:\n{result.stderr[-3000:]}")
    return result.stdout


def path_argument(entries: list[Path]) -> str:
    return os.pathsep.join(str(entry) for entry in entries)
