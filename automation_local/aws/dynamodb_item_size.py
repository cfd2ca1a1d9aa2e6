"""DynamoDB item sizes and the request units a request consumes, as DynamoDB computes them.

Item size (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html,
read 2026-12-01): the sum over attributes of the UTF-8 bytes of the name plus the value, where

- a string is its UTF-8 bytes; a binary its raw (base64-decoded) bytes;
- a number is 1 byte per two significant digits (leading and trailing zeroes trimmed) + 1 byte;
- a null or a Boolean is 1 byte;
- a List or a Map is 3 bytes plus its elements, and each element 1 byte more (a Map's
  element: its name's bytes + its value);
- a set is the sum of its elements' sizes.

Request units (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html,
read 2026-12-01): a write consumes 1 write unit per 1 KB of the item (rounded up, at least 1):
the larger of the item before and after for PutItem and UpdateItem, the deleted item for
DeleteItem; a conditional write whose condition fails still consumes, by the size of the item
that exists (1 if none); transactional writes count twice. A read consumes 1 read unit per
4 KB (rounded up, at least 1) strongly consistent, half that eventually consistent; a
BatchGetItem rounds each item on its own; a Query or Scan rounds the sum of the items it read.
Items are in DynamoDB's JSON form (`{"name": {"S": "value"}}`).
"""

from __future__ import annotations

import base64
import math
from typing import Any

WRITE_UNIT_BYTES = 1024
READ_UNIT_BYTES = 4096
EVENTUALLY_CONSISTENT = 0.5
TRANSACTIONAL = 2

Item = dict[str, dict[str, Any]]


def number_size(text: str) -> int:
    """A number's bytes: 1 per two significant digits, plus 1."""
    digits = text.strip().lstrip("+-").lower()
    mantissa = digits.split("e", 1)[0].replace(".", "")
    significant = mantissa.strip("0") or "0"
    return math.ceil(len(significant) / 2) + 1


def value_size(value: dict[str, Any]) -> int:
    """The bytes of one attribute value (without its name)."""
    ((kind, content),) = value.items()
    match kind:
        case "S":
            return len(content.encode("utf-8"))
        case "N":
            return number_size(content)
        case "B":
            return len(content if isinstance(content, bytes) else base64.b64decode(content))
        case "BOOL" | "NULL":
            return 1
        case "SS":
            return sum(len(s.encode("utf-8")) for s in content)
        case "NS":
            return sum(number_size(n) for n in content)
        case "BS":
            return sum(len(b if isinstance(b, bytes) else base64.b64decode(b)) for b in content)
        case "L":
            return 3 + sum(1 + value_size(element) for element in content)
        case "M":
            return 3 + sum(1 + len(name.encode("utf-8")) + value_size(v) for name, v in content.items())
    raise ValueError(f"unknown DynamoDB type {kind!r}")


def item_size(item: Item | None) -> int:
    """An item's size in bytes (0 for no item)."""
    if not item:
        return 0
    return sum(len(name.encode("utf-8")) + value_size(value) for name, value in item.items())


def write_units(size: int, *, transactional: bool = False) -> int:
    units = max(1, math.ceil(size / WRITE_UNIT_BYTES))
    return units * (TRANSACTIONAL if transactional else 1)


def read_units(size: int, *, consistent: bool) -> float:
    units = max(1, math.ceil(size / READ_UNIT_BYTES))
    return units * (1.0 if consistent else EVENTUALLY_CONSISTENT)


def write_units_of(action: str, before: Item | None, after: Item | None, *, condition_failed: bool) -> int:
    """Write units of a PutItem, UpdateItem or DeleteItem, from the item before and after it."""
    if condition_failed:
        return write_units(item_size(before))
    if action == "DeleteItem":
        return write_units(item_size(before))
    return write_units(max(item_size(before), item_size(after)))
