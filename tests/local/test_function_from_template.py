"""The local runtime runs whatever functions a template declares: their names, folders
(`CodeUri`) and handlers (`Handler`) come from the template and the deployed stack, not
from a list kept by hand. A function none of this project's code knows, in a folder of
its own with a handler of another name, runs behind its HTTP API route and its SQS
mapping with no change to the runtime."""

from __future__ import annotations

import json
import textwrap
import time
import urllib.request
from pathlib import Path

import pytest

from automation_local.aws.emulator import Emulator
from automation_local.runtime import LocalRuntime

pytestmark = pytest.mark.slow

TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Parameters:
  ProjectName:
    Type: String
    Default: elsewhere
  Environment:
    Type: String
    Default: dev
Resources:
  Inbox:
    Type: AWS::SQS::Queue
  GreeterFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: lambdas/greeting/
      Handler: handlers/greet.handle
      Runtime: python3.13
      Timeout: 5
      Events:
        Hello:
          Type: HttpApi
          Properties:
            Path: /hello/{name}
            Method: GET
        FromInbox:
          Type: SQS
          Properties:
            Queue: !GetAtt Inbox.Arn
            BatchSize: 1
"""

HANDLER = """\
import json
import os


def handle(event, context):
    if "Records" in event:  # from the SQS mapping
        with open(os.environ["GREETED_FILE"], "a") as greeted:
            for record in event["Records"]:
                greeted.write(record["body"] + "\\n")
        return {}
    return {"statusCode": 200, "body": json.dumps({"hello": event["pathParameters"]["name"]})}
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A SAM project with one function this repository's code has never heard of."""
    (tmp_path / "template.yaml").write_text(TEMPLATE)
    handlers = tmp_path / "lambdas" / "greeting" / "handlers"
    handlers.mkdir(parents=True)
    (handlers / "greet.py").write_text(textwrap.dedent(HANDLER))
    return tmp_path


def test_a_function_with_its_own_folder_and_handler_runs_locally(
    emulator: Emulator, project: Path, tmp_path: Path
) -> None:
    # GIVEN a template whose only function lives in lambdas/greeting/ with Handler handlers/greet.handle
    greeted = tmp_path / "greeted.txt"
    with LocalRuntime(
        emulator=emulator,
        template_path=project / "template.yaml",
        function_overrides={"greeter": {"GREETED_FILE": str(greeted)}},
        log_dir=tmp_path / "logs",
    ) as runtime:
        assert runtime.stack is not None and runtime.http_api is not None
        # WHEN its route is called and a message is sent to the queue its mapping polls
        with urllib.request.urlopen(f"{runtime.http_api.url}/hello/ada", timeout=30) as response:
            answer = json.loads(response.read())
        emulator.client("sqs").send_message(QueueUrl=runtime.stack.resources["Inbox"], MessageBody="grace")
        deadline = time.monotonic() + 60
        while not (greeted.exists() and greeted.read_text()) and time.monotonic() < deadline:
            time.sleep(0.2)
    # THEN the function answered the route and handled the message, under its own short name
    assert answer == {"hello": "ada"}
    assert greeted.read_text() == "grace\n"
    assert set(runtime.functions) == {"greeter"}
    assert runtime.functions["greeter"].handler == "handlers/greet.handle"
    assert (tmp_path / "logs" / "greeter.log").exists()
