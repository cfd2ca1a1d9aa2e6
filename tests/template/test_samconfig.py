"""samconfig.toml: one isolated stack per environment, each keeping the queue rules."""

from __future__ import annotations

import shlex
import tomllib
from typing import Any

import pytest

from automation_local.cloudformation.conditions import broken_rules
from automation_local.cloudformation.project import SAMCONFIG_PATH
from automation_shared.contracts import OrderPayload
from automation_shared.task_budget import longest_task_seconds

pytestmark = pytest.mark.fast

ENVIRONMENTS = {"default": "dev", "staging": "staging", "prod": "prod"}
# Every config env: the environments' own, and the example of a FIFO deployment.
CONFIG_ENVS = [*ENVIRONMENTS, "fifo"]


@pytest.fixture(scope="module")
def samconfig() -> dict[str, Any]:
    return tomllib.loads(SAMCONFIG_PATH.read_text())


def _overrides(samconfig: dict[str, Any], config_env: str) -> dict[str, str]:
    text = samconfig[config_env]["deploy"]["parameters"]["parameter_overrides"]
    return dict(item.split("=", 1) for item in shlex.split(text))


def _effective(cfn_template: dict[str, Any], samconfig: dict[str, Any], config_env: str) -> dict[str, int]:
    values = {k: v["Default"] for k, v in cfn_template["Parameters"].items() if "Default" in v}
    values.update(_overrides(samconfig, config_env))
    return {k: int(v) for k, v in values.items() if str(v).isdigit()}


@pytest.mark.parametrize("config_env", CONFIG_ENVS)
def test_every_env_runs_a_task_of_the_contracts_shortest_timeout(
    cfn_template: dict[str, Any], samconfig: dict[str, Any], config_env: str
) -> None:
    # GIVEN a config env's worker timeout, and the shortest payload.timeout the contract admits
    worker_timeout = _effective(cfn_template, samconfig, config_env)["WorkerTimeoutSeconds"]
    [number] = [s for s in OrderPayload.model_json_schema()["properties"]["timeout"]["anyOf"] if "minimum" in s]
    shortest = number["minimum"]
    # WHEN the longest task that worker runs in full is worked out (what the webhook admits)
    longest = longest_task_seconds(worker_timeout)
    # THEN an order asking the shortest timeout is admitted (30 s of worker left 26: every
    # order with a timeout was refused)
    assert longest >= shortest, (config_env, worker_timeout, longest)


@pytest.mark.parametrize("config_env, environment", ENVIRONMENTS.items())
def test_each_config_env_deploys_its_own_stack(samconfig: dict[str, Any], config_env: str, environment: str) -> None:
    # GIVEN a config env of samconfig.toml and the environment it deploys
    section = samconfig[config_env]
    # THEN it deploys the stack of that environment, with named IAM allowed, the environment
    # as parameter and tag, a change set to confirm in prod only, and cached parallel builds
    assert section["global"]["parameters"]["stack_name"] == f"automation-{environment}"
    deploy = section["deploy"]["parameters"]
    assert set(deploy["capabilities"].split()) == {"CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"}
    assert _overrides(samconfig, config_env)["Environment"] == environment
    assert f'Environment="{environment}"' in deploy["tags"]
    assert deploy["confirm_changeset"] is (environment == "prod")
    assert section["build"]["parameters"] == {"cached": True, "parallel": True}


def test_dev_has_a_sync_section(samconfig: dict[str, Any]) -> None:
    # GIVEN the sync section of samconfig.toml's default (dev) config env
    sync = samconfig["default"]["sync"]["parameters"]
    # THEN sam sync watches for changes and deploys the dev environment
    assert sync["watch"] is True
    assert 'Environment="dev"' in sync["parameter_overrides"]


@pytest.mark.parametrize("config_env", CONFIG_ENVS)
def test_every_env_keeps_visibility_at_six_times_the_function_timeout(
    cfn_template: dict[str, Any], samconfig: dict[str, Any], config_env: str
) -> None:
    # GIVEN a config env of samconfig.toml
    # WHEN its parameters are read: the template's defaults with its overrides
    values = _effective(cfn_template, samconfig, config_env)
    # THEN each source queue's visibility is at least six times its consumer's timeout
    assert values["OrderQueueVisibilityTimeout"] >= 6 * values["WorkerTimeoutSeconds"]
    assert values["ResultQueueVisibilityTimeout"] >= 6 * values["FeedbackTimeoutSeconds"]
    # AND the DLQs' fixed 14 days never keep less than their sources
    assert values["OrderQueueRetentionSeconds"] <= 1209600
    assert values["ResultQueueRetentionSeconds"] <= 1209600


def test_staging_has_shorter_retention_and_timeouts_than_prod(
    cfn_template: dict[str, Any], samconfig: dict[str, Any]
) -> None:
    # GIVEN the staging and prod config envs of samconfig.toml
    # WHEN their parameters are read: the template's defaults with each one's overrides
    staging = _effective(cfn_template, samconfig, "staging")
    prod = _effective(cfn_template, samconfig, "prod")
    # THEN staging keeps messages and logs for less time, and gives the worker less time, than prod
    for name in (
        "OrderQueueRetentionSeconds",
        "ResultQueueRetentionSeconds",
        "WorkerTimeoutSeconds",
        "LogRetentionDays",
    ):
        assert staging[name] < prod[name], name


@pytest.mark.parametrize("config_env", CONFIG_ENVS)
def test_every_env_passes_the_templates_rules(
    cfn_template: dict[str, Any], samconfig: dict[str, Any], config_env: str
) -> None:
    # GIVEN a config env's parameter overrides
    overrides = _overrides(samconfig, config_env)
    # WHEN the template's Rules judge them, as CloudFormation does before a change set
    broken = broken_rules(cfn_template, overrides)
    # THEN none is broken (the FIFO example sets the batch size and receives FIFO asks for)
    assert broken == []


def test_the_environments_stay_standard_and_the_fifo_example_is_a_stack_of_its_own(
    samconfig: dict[str, Any],
) -> None:
    # GIVEN the overrides of every config env
    overrides = {config_env: _overrides(samconfig, config_env) for config_env in CONFIG_ENVS}
    # THEN dev, staging and prod deploy standard queues, and the fifo example FIFO ones
    assert {env: o.get("QueueType", "standard") for env, o in overrides.items()} == {
        "default": "standard",
        "staging": "standard",
        "prod": "standard",
        "fifo": "fifo",
    }
    # AND the example's stack and names are its own, so it deploys beside automation-dev
    assert samconfig["fifo"]["global"]["parameters"]["stack_name"] not in {
        samconfig[env]["global"]["parameters"]["stack_name"] for env in ENVIRONMENTS
    }
    assert overrides["fifo"]["ProjectName"] != overrides["default"]["ProjectName"]
