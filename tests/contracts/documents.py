"""Variants of a valid message for the contract tests: `changed(base, payload__timeout=29)`."""

from __future__ import annotations

import copy
from typing import Any

DELETE = object()  # as a value: remove that field


def changed(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A deep copy of `base` with each change applied; `a__b=v` sets base["a"]["b"]."""
    document = copy.deepcopy(base)
    for dotted, value in changes.items():
        node = document
        *parents, leaf = dotted.split("__")
        for key in parents:
            node = node.setdefault(key, {})
        if value is DELETE:
            del node[leaf]
        else:
            node[leaf] = value
    return document
