"""The shared layer's requirements are its whole closure, pinned, and leave the runtime's SDK out.

src/Makefile installs src/shared/requirements.txt with --no-deps (so aws-xray-sdk does
not bring a second botocore): a dependency missing from the list would be missing in
Lambda. Checked against the development environment, which installs the same pins.
"""

from __future__ import annotations

import importlib.metadata

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from automation_local.cloudformation.project import SOURCE_DIR

pytestmark = pytest.mark.fast

REQUIREMENTS = SOURCE_DIR / "shared" / "requirements.txt"
# What the Lambda Python runtime ships: the layer must not carry these.
RUNTIME_PACKAGES = {"boto3", "botocore", "s3transfer", "urllib3", "python-dateutil", "six"}


def _pinned() -> dict[str, str]:
    pins = {}
    for line in REQUIREMENTS.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            requirement = Requirement(line)
            assert not requirement.extras, f"{line}: extras are not installed with --no-deps; list them"
            (version,) = [spec.version for spec in requirement.specifier if spec.operator == "=="]
            pins[canonicalize_name(requirement.name)] = version
    return pins


def test_every_dependency_of_the_layer_is_pinned_in_it_or_shipped_by_the_runtime() -> None:
    # GIVEN the shared layer's pinned requirements, as installed in the development environment
    pins = _pinned()
    environment = {**default_environment(), "extra": ""}
    # WHEN each pinned package's declared dependencies are read (those that apply here)
    # THEN it is installed at its pin, and each dependency is pinned too or shipped by the runtime
    for name, version in pins.items():
        assert importlib.metadata.version(name) == version, f"{name}: run `make venv`"
        for declared in importlib.metadata.requires(name) or []:
            requirement = Requirement(declared)
            if requirement.marker is not None and not requirement.marker.evaluate(environment):
                continue
            dependency = canonicalize_name(requirement.name)
            assert dependency in pins or dependency in RUNTIME_PACKAGES, f"{name} needs {dependency}: pin it"


def test_the_layer_leaves_the_runtime_sdk_out() -> None:
    # GIVEN the shared layer's pinned requirements
    # THEN none is a package the Lambda runtime already ships (its SDK among them)
    assert not RUNTIME_PACKAGES & _pinned().keys()
