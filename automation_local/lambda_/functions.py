"""The stack's functions as Lambda runs them: one `FunctionConfig` each, read from the
deployed stack (name, `Handler`, environment, timeout, memory, tracing) and the template
(the code directory its `CodeUri` names, or its `sam build` copy). Nothing here names a
function: a function added, renamed or given another handler or folder runs as it is."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from automation_local.aws.emulator import Emulator
from automation_local.cloudformation.stack import DeployedStack
from automation_local.cloudformation.template import short_name

LAMBDA_FUNCTION = "AWS::Lambda::Function"


@dataclass(frozen=True)
class FunctionConfig:
    """What a sandbox needs to run a function as Lambda would (picklable: sandboxes are
    child processes)."""

    name: str  # the short name: `worker` for WorkerFunction (CLI, log files, usage meter)
    function_name: str  # the deployed name
    code_dir: Path
    handler: str = "app.lambda_handler"  # the function's `Handler`: module path, then the function
    environment: Mapping[str, str] = field(default_factory=dict)
    timeout_seconds: float = 30.0
    memory_mb: int = 256
    traced: bool = False  # active X-Ray tracing (the REPORT line is followed by an XRAY line)
    role_arn: str = ""  # its execution role, whose credentials it calls with when IAM is enforced

    @property
    def handler_module(self) -> str:
        """`app` for `app.lambda_handler` (`handlers/app` and `handlers.app` name a file in a folder)."""
        return self.handler.rsplit(".", 1)[0].replace("/", ".")

    @property
    def handler_function(self) -> str:
        return self.handler.rsplit(".", 1)[1]

    def with_environment(self, overrides: Mapping[str, str]) -> FunctionConfig:
        return replace(self, environment={**self.environment, **overrides})


def deployed_functions(stack: DeployedStack) -> dict[str, str]:
    """Short name -> deployed name of each function of the stack."""
    return {
        short_name(logical_id): stack.resources[logical_id]
        for logical_id, resource_type in stack.resource_types.items()
        if resource_type == LAMBDA_FUNCTION
    }


def stack_functions(emulator: Emulator, stack: DeployedStack) -> dict[str, FunctionConfig]:
    """Every function of the stack, by short name, as deployed."""
    awslambda = emulator.client("lambda")
    functions = {}
    for logical_id, resource_type in stack.resource_types.items():
        if resource_type != LAMBDA_FUNCTION:
            continue
        configuration = awslambda.get_function(FunctionName=stack.resources[logical_id])["Configuration"]
        functions[short_name(logical_id)] = FunctionConfig(
            name=short_name(logical_id),
            function_name=configuration["FunctionName"],
            code_dir=Path(stack.code_dirs[logical_id]),
            handler=configuration["Handler"],
            environment=_environment(emulator, configuration),
            timeout_seconds=float(configuration["Timeout"]),
            memory_mb=int(configuration["MemorySize"]),
            traced=_traced(stack, logical_id, configuration),
            role_arn=configuration["Role"],
        )
    return functions


def _environment(emulator: Emulator, configuration: dict[str, Any]) -> dict[str, str]:
    """The environment Lambda would give the function: its variables as the stack resolved
    them, the runtime's own (name, memory, region, credentials), and the emulator endpoint."""
    function_name = configuration["FunctionName"]
    variables = configuration.get("Environment", {}).get("Variables", {})
    return {
        # Lambda's variables are strings; the emulator keeps a Number parameter's type.
        **{name: str(value) for name, value in variables.items()},
        **emulator.client_environment(),
        "AWS_LAMBDA_FUNCTION_NAME": function_name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(configuration["MemorySize"]),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function_name}",
        # What `sam local invoke` sets: there is no X-Ray daemon here, so Powertools' Tracer
        # records nothing instead of reporting missing segments.
        "AWS_SAM_LOCAL": "true",
    }


def _traced(stack: DeployedStack, logical_id: str, configuration: dict[str, Any]) -> bool:
    """Active tracing, as deployed or (moto's CloudFormation drops TracingConfig) as translated."""
    deployed = configuration.get("TracingConfig", {}).get("Mode")
    resource = stack.cfn_template.get("Resources", {}).get(logical_id, {})
    translated = resource.get("Properties", {}).get("TracingConfig", {}).get("Mode")
    return "Active" in (deployed, translated)
