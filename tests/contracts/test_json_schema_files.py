"""The checked-in JSON Schema files are what the models generate (`make schemas` refreshes them)."""

from __future__ import annotations

import pytest

from tools.json_schemas import CONTRACTS, SCHEMAS_DIR, rendered

pytestmark = pytest.mark.fast


@pytest.mark.parametrize("name", CONTRACTS)
def test_schema_file_is_up_to_date(name: str) -> None:
    # GIVEN the checked-in JSON Schema file of a contract
    path = SCHEMAS_DIR / f"{name}.schema.json"
    # WHEN it is compared with the schema the model generates now
    # THEN they are the same, byte for byte
    assert path.read_text() == rendered(name), f"{path.name} is stale: run `make schemas`"
