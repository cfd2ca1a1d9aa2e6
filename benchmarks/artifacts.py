"""The `sam build` output as Lambda would load it: function code, layers and the runtime's boto3.

Lambda puts the function on the path as /var/task, each layer as /opt/python, and the
runtime's own boto3 (with its bytecode) under /var/runtime. Here: the build directory's
function and layer folders, and a folder of links to this interpreter's boto3 and its
dependencies standing in for /var/runtime.

The layer is built for arm64; on another machine its native extensions (pydantic_core,
wrapt) cannot load. `host_view` is the layer as built with, next to each foreign
extension module, the same module of the same package version built for this machine
(from this environment, which pins the same versions): every other file, bytecode
included, is the built artifact's own.
"""

from __future__ import annotations

import importlib.machinery
import importlib.metadata
import importlib.util
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# What the Lambda Python runtime ships in /var/runtime besides its own client: boto3 and
# what boto3 needs. The layer must not carry a second copy of any of them but jmespath.
RUNTIME_MODULES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six")
HOST_SUFFIXES = tuple(importlib.machinery.EXTENSION_SUFFIXES)


@dataclass(frozen=True)
class BuiltFunction:
    name: str  # "worker" for WorkerFunction
    logical_id: str
    code_dir: Path
    handler_module: str  # "app" for Handler app.lambda_handler
    layers: tuple[str, ...]  # logical ids of its layers
    variables: dict[str, str | None]  # its environment: the template's value, None where it is resolved at deploy
    memory_mb: int


@dataclass
class Artifacts:
    build_dir: Path
    template: dict[str, Any]
    functions: dict[str, BuiltFunction]
    layers: dict[str, Path]  # logical id -> the layer's built folder (holding python/)
    scratch: Path
    notes: list[str] = field(default_factory=list)
    _views: dict[str, Path] = field(default_factory=dict)
    _runtime: Path | None = None

    def layer_users(self, logical_id: str) -> int:
        return sum(logical_id in function.layers for function in self.functions.values())

    def lambda_path(self, function: BuiltFunction) -> list[Path]:
        """sys.path entries in Lambda's order: /var/task, each layer's python folders, /var/runtime."""
        entries = [function.code_dir]
        for layer in function.layers:
            view = self.host_view(layer)
            entries += [p for p in (view / "lib" / "python3.13" / "site-packages", view) if p.is_dir()]
        return [*entries, self.runtime_dir()]

    def runtime_dir(self) -> Path:
        if self._runtime is None:
            runtime = self.scratch / "var-runtime"
            runtime.mkdir(parents=True)
            for name in RUNTIME_MODULES:
                spec = importlib.util.find_spec(name)
                if spec is None or spec.origin is None:
                    raise RuntimeError(f"{name} is not installed here: run `make venv`")
                source = Path(spec.origin)
                source = source.parent if source.name == "__init__.py" else source
                (runtime / source.name).symlink_to(source)
            self._runtime = runtime
        return self._runtime

    def host_view(self, logical_id: str) -> Path:
        if logical_id not in self._views:
            self._views[logical_id] = self._make_host_view(logical_id)
        return self._views[logical_id]

    def _make_host_view(self, logical_id: str) -> Path:
        built = self.layers[logical_id] / "python"
        view = self.scratch / f"layer-{logical_id}"
        view.mkdir(parents=True)
        for entry in sorted(built.iterdir()):
            foreign = _foreign_extensions(entry)
            if not foreign:
                (view / entry.name).symlink_to(entry)
                continue
            for path in sorted(entry.rglob("*")):
                target = view / path.relative_to(built)
                if path.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                else:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.symlink_to(path)
            for extension in foreign:
                twin = _host_twin(built, extension)
                if twin is None:
                    self.notes.append(f"{extension.relative_to(built)}: no build for this machine here")
                else:
                    (view / extension.relative_to(built)).with_name(twin.name).symlink_to(twin)
                    self.notes.append(f"{extension.parent.name}: native module built for this machine, same version")
        return view


def _elf_machine(path: Path) -> bytes:
    """The ELF header's e_machine field: which instruction set a binary is built for."""
    with path.open("rb") as binary:
        return binary.read(20)[18:20]


def _foreign_extensions(entry: Path) -> list[Path]:
    if not entry.is_dir():
        return []
    host = _elf_machine(Path(sys.executable).resolve())
    return [p for p in entry.rglob("*.so") if _elf_machine(p) != host]


def _host_twin(built: Path, extension: Path) -> Path | None:
    """This machine's build of the same extension module, from the same package version."""
    package = extension.parent.relative_to(built).as_posix().replace("/", ".")
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    module = extension.name.split(".")[0]
    candidates = [Path(spec.submodule_search_locations[0]) / (module + suffix) for suffix in HOST_SUFFIXES]
    twin = next((c for c in candidates if c.is_file()), None)
    distribution = next(built.glob(f"{package.split('.')[0]}-*.dist-info"), None)
    if twin is not None and distribution is not None:
        built_version = distribution.name.removesuffix(".dist-info").split("-")[-1]
        host_version = importlib.metadata.version(package.split(".")[0])
        if built_version != host_version:
            raise RuntimeError(f"{package}: the layer has {built_version}, this environment {host_version}")
    return twin


def referenced(value: Any) -> set[str]:
    """Logical ids a template value refers to (Ref, Fn::GetAtt, Fn::Sub ${Name})."""
    if isinstance(value, dict):
        if "Ref" in value:
            return {value["Ref"]}
        if "Fn::GetAtt" in value:
            target = value["Fn::GetAtt"]
            return {target[0] if isinstance(target, list) else target.split(".")[0]}
        return set().union(*(referenced(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(referenced(v) for v in value)) if value else set()
    return set()


def _plain(value: Any, template: dict[str, Any]) -> str | None:
    """A variable's value as deployed with default parameters, where the template alone says it."""
    if isinstance(value, str | int | float):
        return str(value)
    parameter = template.get("Parameters", {}).get(value.get("Ref", "")) if isinstance(value, dict) else None
    return str(parameter["Default"]) if parameter and "Default" in parameter else None


def load_artifacts(build_dir: Path, scratch: Path) -> Artifacts:
    from automation_local.cloudformation.template import load_template  # samtranslator's YAML reader (CFN tags)

    template_path = build_dir / "template.yaml"
    if not template_path.is_file():
        raise FileNotFoundError(f"{template_path} not found: run `make build` first")
    template = load_template(template_path)
    defaults = template.get("Globals", {}).get("Function", {})
    functions: dict[str, BuiltFunction] = {}
    layers: dict[str, Path] = {}
    for logical_id, resource in template["Resources"].items():
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::Serverless::LayerVersion":
            layers[logical_id] = build_dir / properties["ContentUri"]
        elif resource["Type"] == "AWS::Serverless::Function":
            variables = {
                **defaults.get("Environment", {}).get("Variables", {}),
                **properties.get("Environment", {}).get("Variables", {}),
            }
            name = logical_id.removesuffix("Function").lower()
            functions[name] = BuiltFunction(
                name=name,
                logical_id=logical_id,
                code_dir=build_dir / properties["CodeUri"],
                handler_module=properties["Handler"].rsplit(".", 1)[0],
                layers=tuple(sorted(referenced(defaults.get("Layers", [])) | referenced(properties.get("Layers", [])))),
                variables={name: _plain(value, template) for name, value in variables.items()},
                memory_mb=int(properties.get("MemorySize", defaults.get("MemorySize", 128))),
            )
    return Artifacts(build_dir, template, functions, layers, scratch)
