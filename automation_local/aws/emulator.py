"""The embedded AWS emulator: a moto server on a free 127.0.0.1 port, owned by this process.

A real HTTP server in a child process (not patched functions), so every boto3 client,
the functions' included, talks to it through `AWS_ENDPOINT_URL` exactly as it would talk
to AWS. It is stopped when the context exits, on Ctrl-C included. The server counts the
API calls it answers (`api_calls()`, see server.py), and answers only requests for its own
address from no page of another site (server.py says why).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

import boto3
from botocore.config import Config

from automation_local.aws.identity import REGION
from automation_local.aws.server import API_CALLS_PATH, DISABLE_CORS_VARIABLE
from automation_local.aws.usage_meter import USAGE_PATH
from automation_local.logs.places import emulator_log
from automation_local.net.loopback_server import free_port

# moto accepts any credentials; fixed ones keep the emulator from reading a real profile.
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
PACKAGE_ROOT = Path(__file__).resolve().parent.parent  # the directory holding automation_local


class Emulator:
    """`with Emulator() as emulator:` starts moto's server and stops it on exit."""

    def __init__(
        self, host: str = "127.0.0.1", port: int | None = None, region: str = REGION, *, judge: str | None = None
    ) -> None:
        """`judge`: the entry point (`module:function`) of the IAM judge the server enforces with
        once configured (iam_gate.py); None: no enforcement."""
        self.host = host
        self.judge = judge
        self.port = port or free_port(host)
        self.region = region
        self.log_path = emulator_log(self.port)
        self._process: subprocess.Popen[bytes] | None = None

    @classmethod
    def at(cls, endpoint_url: str) -> Emulator:
        """An emulator already running elsewhere (`python -m moto.server`, another runtime's),
        used as is: not started, not stopped."""
        parsed = urllib.parse.urlsplit(endpoint_url)
        if not parsed.hostname or not parsed.port:
            raise ValueError(f"{endpoint_url}: expected http://HOST:PORT")
        return cls(parsed.hostname, parsed.port)

    @property
    def pid(self) -> int | None:
        """The server process's id while it runs (for measuring what it costs)."""
        return self._process.pid if self._process is not None else None

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def client(
        self,
        service: str,
        *,
        access_key_id: str | None = None,
        credentials: Mapping[str, str] | None = None,
        **config: object,
    ):
        """A boto3 client of the emulator; `config` overrides botocore Config settings;
        `access_key_id`: the caller the emulator's usage meter sees (see usage_meter.py);
        `credentials`: boto3's credential arguments instead (a role's session, with its token)."""
        defaults = Config(retries={"mode": "standard", "max_attempts": 5})
        if credentials is None:
            credentials = {**CREDENTIALS, **({"aws_access_key_id": access_key_id} if access_key_id else {})}
        return boto3.client(
            service,
            endpoint_url=self.endpoint_url,
            region_name=self.region,
            config=defaults.merge(Config(**config)),  # type: ignore[arg-type]
            **credentials,
        )

    def client_environment(self) -> dict[str, str]:
        """Environment variables that point any AWS SDK (boto3 included) at the emulator."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
            "AWS_ACCESS_KEY_ID": CREDENTIALS["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": CREDENTIALS["aws_secret_access_key"],
        }

    def start(self, timeout: float = 30.0) -> Emulator:
        log = self.log_path.open("wb")
        # The server module is this checkout's, wherever the interpreter's site-packages point.
        python_path = os.pathsep.join(p for p in (str(PACKAGE_ROOT), os.environ.get("PYTHONPATH", "")) if p)
        # moto's global CORS off (server.py says why), set before the process imports moto.
        env = {**os.environ, **self.client_environment(), "PYTHONPATH": python_path, DISABLE_CORS_VARIABLE: "true"}
        # A process group of its own: Ctrl-C in a terminal signals the terminal's foreground
        # group, and the emulator must outlive what uses it (the pollers' calls in flight)
        # until its owner stops it, last; it exits by itself if its owner dies first.
        self._process = subprocess.Popen(  # noqa: S603 - fixed argv: this interpreter running moto
            [
                *(sys.executable, "-m", "automation_local.aws.server", "-H", self.host, "-p", str(self.port)),
                *("--parent-pid", str(os.getpid())),
                *(("--judge", self.judge) if self.judge else ()),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            process_group=0,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"emulator exited at start; see {self.log_path}")
            try:
                with urllib.request.urlopen(f"{self.endpoint_url}/moto-api/", timeout=1):  # noqa: S310 - http URL built here
                    return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise TimeoutError(f"emulator did not answer on {self.endpoint_url} within {timeout} s")

    def api_calls(self) -> Counter[str]:
        """API calls the emulator answered since it started or since `reset_api_calls()`,
        by `service:Action` (e.g. `sqs:SendMessageBatch`; REST APIs by method, `s3:PUT`)."""
        with urllib.request.urlopen(f"{self.endpoint_url}{API_CALLS_PATH}", timeout=10) as answer:  # noqa: S310
            return Counter(json.loads(answer.read()))

    def usage(self) -> dict[str, dict[str, dict[str, float]]]:
        """What the usage meter recorded, by caller (the functions' and pollers' access keys)."""
        with urllib.request.urlopen(f"{self.endpoint_url}{USAGE_PATH}", timeout=10) as answer:  # noqa: S310
            return dict(json.loads(answer.read()))

    def reset_api_calls(self) -> None:
        request = urllib.request.Request(f"{self.endpoint_url}{API_CALLS_PATH}", method="DELETE")  # noqa: S310
        with urllib.request.urlopen(request, timeout=10):  # noqa: S310 - the emulator's http URL
            pass

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
