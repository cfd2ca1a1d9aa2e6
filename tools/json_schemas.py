"""JSON Schema files of the message contracts, generated from the pydantic models.

`make schemas` (python -m tools.json_schemas) rewrites schemas/*.schema.json;
a test fails when the checked-in files differ from what the models generate.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from automation_local.cloudformation.project import REPO_ROOT
from automation_shared.contracts import OrderMessage, ResultMessage

SCHEMAS_DIR = REPO_ROOT / "schemas"

CONTRACTS: dict[str, type[BaseModel]] = {
    "order-message": OrderMessage,
    "result-message": ResultMessage,
}


class _ContractJsonSchema(GenerateJsonSchema):
    """Optional fields are absent, never null, on the wire: `X | None = None` becomes `X`."""

    def nullable_schema(self, schema: core_schema.NullableSchema) -> JsonSchemaValue:
        return self.generate_inner(schema["schema"])

    def default_schema(self, schema: core_schema.WithDefaultSchema) -> JsonSchemaValue:
        generated = super().default_schema(schema)
        if generated.get("default", ...) is None:
            generated.pop("default")
        return generated


def generate(name: str) -> dict[str, Any]:
    schema = CONTRACTS[name].model_json_schema(schema_generator=_ContractJsonSchema)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://automation.local/schemas/{name}.schema.json",
        **schema,
    }


def rendered(name: str) -> str:
    return json.dumps(generate(name), indent=2) + "\n"


def main() -> None:
    SCHEMAS_DIR.mkdir(exist_ok=True)
    for name in CONTRACTS:
        path = SCHEMAS_DIR / f"{name}.schema.json"
        path.write_text(rendered(name))
        print(f"wrote {path.relative_to(SCHEMAS_DIR.parent)}")


if __name__ == "__main__":
    main()
