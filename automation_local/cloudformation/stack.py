"""Deploy template.yaml into the emulator, as `sam package` + CloudFormation would on AWS.

Each function's and layer's code is zipped and uploaded to an artifacts bucket, the
template is translated by samtranslator and created as a CloudFormation stack. Two
emulator gaps are then closed, and only those:

- moto creates the event source mappings, but its own would invoke functions through
  Docker on every send (and raise receive counts toward the DLQ), so they are disabled
  right after creation; the local runtime polls the queues instead.
- moto's CloudFormation skips some resource types (Secrets Manager secrets among them);
  those are created here through their own APIs, with the names the template gives.
"""

from __future__ import annotations

import io
import json
import re
import secrets
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from automation_local.aws.emulator import Emulator
from automation_local.aws.identity import ACCOUNT_ID
from automation_local.cloudformation.conditions import broken_rules
from automation_local.cloudformation.project import BUILD_DIR, TEMPLATE_PATH
from automation_local.cloudformation.template import code_resources, load_template, parameter_values, translate

ARTIFACTS_BUCKET = "local-sam-artifacts"


@dataclass
class DeployedStack:
    """What a deployed stack offers its users: names, outputs, physical ids."""

    stack_name: str
    parameters: dict[str, str]
    outputs: dict[str, str]
    resources: dict[str, str]  # logical id -> physical id
    resource_types: dict[str, str] = field(default_factory=dict)
    cfn_template: dict[str, Any] = field(default_factory=dict)
    # Event source mapping UUID -> whether the template enables it (the emulator's own
    # mappings are all disabled; the local runtime polls the enabled ones).
    mappings_enabled: dict[str, bool] = field(default_factory=dict)
    # Function logical id -> the directory its code was packaged from (the template's
    # `CodeUri`, or its `sam build` copy): what a local sandbox runs.
    code_dirs: dict[str, str] = field(default_factory=dict)

    @property
    def queue_type(self) -> str:
        """`standard` or `fifo` (the template's QueueType; a template without it: standard)."""
        return self.parameters.get("QueueType", "standard")

    @property
    def fifo(self) -> bool:
        return self.queue_type == "fifo"

    @property
    def ssm_prefix(self) -> str:
        return f"/{self.parameters['ProjectName']}/{self.parameters['Environment']}"

    def save(self, path: Path) -> None:
        """Kept beside a run (see run_state): the emulator cannot tell again which mappings
        the template enables once they are all disabled there."""
        path.write_text(json.dumps(asdict(self)))

    @classmethod
    def load(cls, path: Path) -> DeployedStack:
        return cls(**json.loads(path.read_text()))


def _zip_directory(directory: Path, prefix: str = "") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(directory.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                archive.write(path, prefix + path.relative_to(directory).as_posix())
    return buffer.getvalue()


def _package_code(
    emulator: Emulator, template: dict[str, Any], code_dirs: dict[str, Path], built: bool
) -> dict[str, tuple[str, str]]:
    """Zip and upload each function's and layer's code; returns logical id -> (bucket, key)."""
    s3 = emulator.client("s3")
    s3.create_bucket(Bucket=ARTIFACTS_BUCKET)
    locations = {}
    for logical_id, code_dir in code_dirs.items():
        is_layer = template["Resources"][logical_id]["Type"] == "AWS::Serverless::LayerVersion"
        # `sam build` already laid a layer out under python/; the source tree has it bare.
        package = _zip_directory(code_dir, prefix="python/" if is_layer and not built else "")
        key = f"{logical_id}.zip"
        s3.put_object(Bucket=ARTIFACTS_BUCKET, Key=key, Body=package)
        locations[logical_id] = (ARTIFACTS_BUCKET, key)
    return locations


def _code_dirs(template: dict[str, Any], template_dir: Path) -> dict[str, Path]:
    """Logical id -> code directory of each function and layer, as `sam package` resolves it
    (relative to the template: `src/worker/` in template.yaml, `WorkerFunction` in sam build's)."""
    return {
        logical_id: (template_dir / code_uri).resolve() for logical_id, code_uri in code_resources(template).items()
    }


def _resolve(value: Any, values: dict[str, str]) -> Any:
    """Resolves the Ref and Sub forms the created-here resources use (parameters only)."""
    if isinstance(value, dict) and "Ref" in value:
        return values[value["Ref"]]
    if isinstance(value, dict) and "Fn::Sub" in value and isinstance(value["Fn::Sub"], str):
        return re.sub(r"\$\{([^}]+)\}", lambda m: values[m.group(1)], value["Fn::Sub"])
    return value


def _create_skipped_resources(
    emulator: Emulator, cfn_template: dict[str, Any], created: set[str], values: dict[str, str]
) -> dict[str, str]:
    physical = {}
    for logical_id, resource in cfn_template["Resources"].items():
        if logical_id in created:
            continue
        if resource["Type"] == "AWS::SecretsManager::Secret":
            name = _resolve(resource["Properties"]["Name"], values)
            arn = emulator.client("secretsmanager").create_secret(Name=name, SecretString=secrets.token_hex(32))["ARN"]
            physical[logical_id] = arn
    return physical


class RulesRefusedError(ValueError):
    """The parameters break one of the template's Rules: CloudFormation refuses the stack."""


def deploy(
    emulator: Emulator,
    *,
    stack_name: str = "automation-dev",
    parameters: dict[str, str] | None = None,
    built: bool = False,
    template_path: Path | None = None,
) -> DeployedStack:
    """Create the stack from template.yaml (or the `sam build` output, or `template_path`)
    in the emulator."""
    template_path = template_path or (BUILD_DIR / "template.yaml" if built else TEMPLATE_PATH)
    template = load_template(template_path)
    values = parameter_values(template, parameters)
    if broken := broken_rules(template, values):  # moto's CloudFormation does not evaluate Rules
        raise RulesRefusedError("the template's Rules refuse these parameters: " + "; ".join(broken))
    code_dirs = _code_dirs(template, template_path.parent)
    cfn_template = translate(
        template,
        values,
        code_locations=_package_code(emulator, template, code_dirs, built),
        stack_name=stack_name,
        region=emulator.region,
    )
    cloudformation = emulator.client("cloudformation")
    cloudformation.create_stack(
        StackName=stack_name,
        TemplateBody=json.dumps(cfn_template),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in values.items()],
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
    )
    cloudformation.get_waiter("stack_create_complete").wait(
        StackName=stack_name, WaiterConfig={"Delay": 1, "MaxAttempts": 120}
    )
    stack = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
    summaries = cloudformation.list_stack_resources(StackName=stack_name)["StackResourceSummaries"]
    resources = {s["LogicalResourceId"]: s.get("PhysicalResourceId", "") for s in summaries}

    awslambda = emulator.client("lambda")
    mappings_enabled = {}
    for logical_id, resource in cfn_template["Resources"].items():
        if resource["Type"] == "AWS::Lambda::EventSourceMapping":
            mapping = awslambda.get_event_source_mapping(UUID=resources[logical_id])
            mappings_enabled[mapping["UUID"]] = mapping["State"] in ("Enabled", "Enabling")
            awslambda.update_event_source_mapping(UUID=mapping["UUID"], Enabled=False)

    pseudo = {"AWS::Region": emulator.region, "AWS::StackName": stack_name, "AWS::AccountId": ACCOUNT_ID}
    resources.update(_create_skipped_resources(emulator, cfn_template, set(resources), {**values, **pseudo}))
    return DeployedStack(
        stack_name=stack_name,
        parameters=values,
        outputs={o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])},
        resources=resources,
        resource_types={k: v["Type"] for k, v in cfn_template["Resources"].items()},
        cfn_template=cfn_template,
        mappings_enabled=mappings_enabled,
        code_dirs={
            logical_id: str(code_dir)
            for logical_id, code_dir in code_dirs.items()
            if template["Resources"][logical_id]["Type"] == "AWS::Serverless::Function"
        },
    )
