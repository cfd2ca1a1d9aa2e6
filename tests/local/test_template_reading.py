"""What the local runtime reads from a template instead of keeping by hand: each function's
code directory (its own `CodeUri`, or the one `Globals` gives), its short name, and the
backbone's outputs by field name."""

from __future__ import annotations

from typing import cast

import pytest

from automation_local.aws.emulator import Emulator
from automation_local.cloudformation.outputs import BackboneOutputs, output_key
from automation_local.cloudformation.stack import RulesRefusedError, deploy
from automation_local.cloudformation.template import code_resources, function_names, short_name

pytestmark = pytest.mark.fast

TEMPLATE = {
    "Globals": {"Function": {"CodeUri": "functions/common/"}},
    "Resources": {
        "OrderIntakeFunction": {"Type": "AWS::Serverless::Function", "Properties": {"Handler": "main.handle"}},
        "ReportFunction": {"Type": "AWS::Serverless::Function", "Properties": {"CodeUri": "functions/report/"}},
        "Shared": {"Type": "AWS::Serverless::LayerVersion", "Properties": {"ContentUri": "layer/"}},
        "Inbox": {"Type": "AWS::SQS::Queue"},
    },
}


def test_a_function_without_its_own_code_uri_gets_the_one_globals_gives() -> None:
    # GIVEN a template whose first function names no CodeUri, under a Globals CodeUri
    # WHEN each function's and layer's code directory is read
    directories = code_resources(TEMPLATE)
    # THEN the first has the Globals one, the others their own, and the queue none
    assert directories == {
        "OrderIntakeFunction": "functions/common/",
        "ReportFunction": "functions/report/",
        "Shared": "layer/",
    }


def test_a_function_is_known_by_its_logical_id_without_function_in_kebab_case() -> None:
    # GIVEN the functions' logical ids
    # WHEN their short names are made
    names = function_names(TEMPLATE)
    # THEN each is the id without "Function", its words joined by hyphens
    assert names == {"order-intake": "OrderIntakeFunction", "report": "ReportFunction"}
    assert short_name("WorkerFunction") == "worker" and short_name("Function") == "function"


def test_the_outputs_are_read_by_field_name_and_a_missing_one_is_named() -> None:
    # GIVEN the keys each field of the backbone's outputs is read from
    keys = {output_key(name) for name in BackboneOutputs.__dataclass_fields__}
    # WHEN a stack's outputs lack one of them
    with pytest.raises(KeyError) as missing:
        BackboneOutputs.of({key: "x" for key in keys - {"OrdersTableName"}})
    # THEN the error names it, and with every key the outputs are read
    assert "OrdersTableName" in str(missing.value)
    assert "OrderQueueUrl" in keys and BackboneOutputs.of(dict.fromkeys(keys, "x")).order_queue_url == "x"


def test_a_local_deploy_refuses_parameters_the_templates_rules_refuse() -> None:
    # GIVEN FIFO queues asked for with the standard defaults (3 receives of an order, fewer
    # than its retries need), and no emulator: CloudFormation refuses such a stack before it
    # creates anything
    # WHEN it is deployed locally
    # THEN the deploy refuses it as CloudFormation would, naming the rule
    with pytest.raises(RulesRefusedError, match=r"FifoOrdersOutliveTheirRetries"):
        deploy(cast(Emulator, None), parameters={"QueueType": "fifo"})
