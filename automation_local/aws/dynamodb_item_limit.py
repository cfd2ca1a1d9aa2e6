"""DynamoDB's item size limit in the emulator, checked on the item as it will be.

moto (5.2.5) checks the 400 KB limit in `LimitedSizeDict.__setitem__`, adding the new value's
size to the item's current size without taking off the value it replaces: an UpdateItem
that SETs a 250 KB attribute to a value of the same size is refused ("Item size to update
has exceeded the maximum allowed size"), where DynamoDB sizes the item after the update
(well under 400 KB) and takes it. The worker's claim rewrites the order into its record on
every attempt, so an order near the stack's bound (limits.py: 256 KiB) would fail locally
and run on AWS. This module makes the check count the replaced value once, and keeps
moto's own limit (405,000 bytes: between 409 and 410 KB by moto's manual testing) and
error. Installed by server.py before the first request.
"""

from __future__ import annotations

from typing import Any

from moto.dynamodb.exceptions import ItemSizeTooLarge
from moto.dynamodb.models import dynamo_type

MOTO_ITEM_LIMIT_BYTES = 405_000


def _size(key: str, value: Any) -> int:
    value_size = value.size() if type(value) is dynamo_type.DynamoType else dynamo_type.bytesize(str(value))
    return int(dynamo_type.bytesize(key)) + int(value_size)


def _set_within_limit(self: dict[str, Any], key: str, value: Any) -> None:
    current = sum(_size(name, held) for name, held in self.items() if name != key)
    if current + _size(key, value) > MOTO_ITEM_LIMIT_BYTES:
        raise ItemSizeTooLarge
    dict.__setitem__(self, key, value)


def install() -> None:
    dynamo_type.LimitedSizeDict.__setitem__ = _set_within_limit  # type: ignore[method-assign,assignment]
