"""The emulator's DynamoDB item size limit, as DynamoDB checks it (aws/dynamodb_item_limit.py)."""

from __future__ import annotations

import uuid

import pytest
from botocore.exceptions import ClientError

from automation_local.aws.emulator import Emulator
from automation_local.cloudformation.stack import DeployedStack

pytestmark = pytest.mark.slow


def test_an_update_is_sized_after_it_and_a_larger_item_is_still_refused(
    emulator: Emulator, deployed_stack: DeployedStack
) -> None:
    # GIVEN an item holding a 250 KB attribute
    dynamodb, table = emulator.client("dynamodb"), deployed_stack.outputs["OrdersTableName"]
    key = {"id": {"S": f"test#{uuid.uuid4()}"}}
    dynamodb.put_item(TableName=table, Item={**key, "payload": {"S": "a" * 250_000}})
    # WHEN the attribute is set to another value of the same size (the item after: 250 KB)
    dynamodb.update_item(
        TableName=table,
        Key=key,
        UpdateExpression="SET payload = :b",
        ExpressionAttributeValues={":b": {"S": "b" * 250_000}},
    )
    # THEN DynamoDB takes it, as AWS does
    assert dynamodb.get_item(TableName=table, Key=key)["Item"]["payload"]["S"][0] == "b"
    # AND an update that makes the item larger than 400 KB is refused, as on AWS
    with pytest.raises(ClientError) as refused:
        dynamodb.update_item(
            TableName=table,
            Key=key,
            UpdateExpression="SET more = :m",
            ExpressionAttributeValues={":m": {"S": "c" * 200_000}},
        )
    assert refused.value.response["Error"]["Code"] == "ValidationException"
