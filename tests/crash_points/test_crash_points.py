"""Crash-point exploration in `make test`: every path of every function, its invocation
killed after each AWS or HTTP call it makes, must end right (explorer.py says what right is).

The exploration runs on a stack of its own (project `crashpoints`, requeues without delay)
in the session's emulator, with the integrations' stand-ins; the count of crash points and
every violation are printed at the end of the session (conftest.py).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from automation_local.aws.emulator import Emulator
from automation_local.cloudformation.stack import deploy
from automation_local.lambda_.functions import stack_functions
from automation_local.outside import account
from automation_local.outside.standins import STAND_IN_NETWORKS, ScriptedSite
from tests.crash_points.explorer import Exploration, Explorer, Stage
from tests.crash_points.paths import paths_for
from tests.crash_points.report import REPORT
from tests.crash_points.zygote import FunctionZygote

pytestmark = pytest.mark.slow

STACK_PARAMETERS = {
    "Environment": "dev",
    "RequeueBaseDelaySeconds": "0",
    "OutboundAllowedNetworks": STAND_IN_NETWORKS,  # the stand-ins listen on 127.0.0.1
}
# Per deployment mode: a stack of its own, and what a FIFO stack must set (the template's Rules).
MODE_PARAMETERS = {
    "standard": {"ProjectName": "crashpoints"},
    "fifo": {
        "ProjectName": "crashpoints-fifo",
        "QueueType": "fifo",
        "ResultBatchSize": "10",
        "OrderQueueMaxReceiveCount": "8",
    },
}


@pytest.fixture(scope="module", params=list(MODE_PARAMETERS))
def stage(
    request: pytest.FixtureRequest, emulator: Emulator, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stage]:
    parameters = {**STACK_PARAMETERS, **MODE_PARAMETERS[request.param]}
    stack = deploy(emulator, stack_name=f"{parameters['ProjectName']}-dev", parameters=parameters)
    account.seed(emulator, stack)
    logs = tmp_path_factory.mktemp("crash-points-logs")
    sqs, sns = emulator.client("sqs"), emulator.client("sns")
    inbox = sqs.create_queue(QueueName=f"{parameters['ProjectName']}-alert-inbox")["QueueUrl"]
    inbox_arn = sqs.get_queue_attributes(QueueUrl=inbox, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=stack.outputs["AlertTopicArn"], Protocol="sqs", Endpoint=inbox_arn)
    with ExitStack() as running:
        integrations = running.enter_context(account.LocalIntegrations())
        site = running.enter_context(ScriptedSite())
        zygotes = {}
        for function, config in stack_functions(emulator, stack).items():
            zygotes[function] = FunctionZygote(
                config.with_environment(integrations.environment), log_path=Path(logs) / f"{function}.log"
            )
            running.callback(zygotes[function].stop)
        yield Stage(emulator, stack, zygotes, integrations, site, inbox, account.webhook_secret(emulator, stack))


def test_every_path_ends_right_wherever_its_function_dies(stage: Stage) -> None:
    # GIVEN every path an order takes (paths.py) in the stage's deployment mode
    paths = paths_for(stage.stack.queue_type)
    started = time.monotonic()
    # WHEN each runs once untouched and then once per call of the invocation it kills, killed after it
    exploration: Exploration = Explorer(stage).explore(paths)
    REPORT.append((exploration, time.monotonic() - started))
    # THEN every point of every path was explored, and none broke a rule
    assert set(exploration.points) == {path.name for path in paths}
    assert all(points >= 2 for points in exploration.points.values()), exploration.points
    assert exploration.violations == [], "\n".join(str(v) for v in exploration.violations)
