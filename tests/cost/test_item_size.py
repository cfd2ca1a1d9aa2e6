"""DynamoDB's item-size rules and the request units they give (automation_local/aws/dynamodb_item_size.py)."""

from __future__ import annotations

import pytest

from automation_local.aws.dynamodb_item_size import (
    item_size,
    number_size,
    read_units,
    value_size,
    write_units,
    write_units_of,
)

pytestmark = pytest.mark.fast


@pytest.mark.parametrize(
    ("number", "size"),
    [("0", 2), ("7", 2), ("12", 2), ("123", 3), ("1000", 2), ("0.0012", 2), ("-123.45", 4), ("1.5e10", 2)],
)
def test_a_number_is_one_byte_per_two_significant_digits_plus_one(number: str, size: int) -> None:
    # GIVEN a number (leading and trailing zeroes do not count)  THEN its size
    assert number_size(number) == size


def test_strings_binaries_booleans_and_nulls() -> None:
    # GIVEN values of each scalar type  THEN UTF-8 bytes, raw bytes, 1 and 1
    assert value_size({"S": "héllo"}) == 6
    assert value_size({"B": "AAEC"}) == 3  # base64 of 3 raw bytes
    assert value_size({"BOOL": True}) == 1
    assert value_size({"NULL": True}) == 1
    assert value_size({"SS": ["ab", "c"]}) == 3


def test_lists_and_maps_have_3_bytes_and_1_byte_per_element() -> None:
    # GIVEN an empty list, a list of two strings and a map of one number
    assert value_size({"L": []}) == 3
    assert value_size({"L": [{"S": "ab"}, {"S": "c"}]}) == 3 + (1 + 2) + (1 + 1)
    assert value_size({"M": {"n": {"N": "42"}}}) == 3 + (1 + 1 + 2)


def test_an_item_is_its_names_and_values() -> None:
    # GIVEN an item like a status record  THEN names + values
    item = {"id": {"S": "order#1"}, "status": {"S": "queued"}, "retryCount": {"N": "0"}}
    assert item_size(item) == (2 + 7) + (6 + 6) + (10 + 2)
    assert item_size(None) == 0


def test_write_units_round_up_per_kilobyte_and_read_units_per_4_kilobytes() -> None:
    # GIVEN sizes around the unit boundaries
    assert write_units(0) == 1 and write_units(1024) == 1 and write_units(1025) == 2
    assert write_units(1025, transactional=True) == 4
    assert read_units(10, consistent=True) == 1
    assert read_units(4097, consistent=True) == 2
    assert read_units(4097, consistent=False) == 1.0
    assert read_units(100, consistent=False) == 0.5


def test_an_update_costs_the_larger_of_before_and_after_and_a_failed_condition_the_existing_item() -> None:
    small = {"id": {"S": "x"}}
    large = {"id": {"S": "x"}, "data": {"S": "y" * 2000}}
    # WHEN an item grows, or shrinks  THEN the larger size counts
    assert write_units_of("UpdateItem", small, large, condition_failed=False) == 2
    assert write_units_of("PutItem", large, small, condition_failed=False) == 2
    # WHEN a delete removes the large item  THEN its size counts
    assert write_units_of("DeleteItem", large, None, condition_failed=False) == 2
    # WHEN a conditional put fails  THEN the existing item's size counts, 1 if there is none
    assert write_units_of("PutItem", large, large, condition_failed=True) == 2
    assert write_units_of("PutItem", None, None, condition_failed=True) == 1
