"""What clients send, as hypothesis strategies: orders with every field near its limits,
`null`, unicode and numbers as strings, each order knowing which of its fields the contract
(or the stack) must refuse, and which page its task fetches.

The users, `deduplicationId`s and `orderId`s come from small pools, so orders meet: the same
key from two users, an `orderId` again with another key, a retry of an earlier order.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from automation_shared.contracts import Priority
from tests.fuzz.strategies import WEBHOOK_LONGEST_TASK_SECONDS

# A few users: one with a Telegram chat (tests/functions/handlers.TELEGRAM_CHATS), digits,
# unicode and spaces (a FIFO group id must be hashed for them), and lengths around the
# bounds a stack may set (128: a FIFO MessageGroupId) and past an item's 400 KB with the
# order copied beside it.
USERS = ["user-42", "user-7", "42", "Zoë 用户 🚀"]
LONG_USERS = ["u" * 128, "u" * 129, "u" * 100_000, "u" * 250_000]
DEDUPLICATION_IDS = ["k1", "k2", "ключ-🔑", "d" * 128]
# Text near the sizes that matter: a request body (256 KiB on main), an item (400 KB).
LONG_TEXT_CHARS = [1_000, 100_000, 200_000, 250_000]
UNICODE_TEXTS = ["Queues carry orders.", "naïve café, 東京, 🚀🚀", "\u202eevil\u202c", "0", "1e309"]

PAGE_KINDS = ["ok", "ok", "ok", "down", "fail-once"]  # ScriptedSite's pages: mostly up
FOLLOW_UPS = ["archive", "notify", "enhance"]

ABSENT = object()


@dataclass(frozen=True)
class ClientOrder:
    """One order as a client writes it. `breaks`: the paths of the fields the webhook must
    refuse (none: a valid order); `page`: the site path its task fetches (url-monitoring)."""

    document: dict[str, Any]
    breaks: tuple[str, ...] = ()
    page: str | None = None

    @property
    def user(self) -> str | None:
        user = self.document.get("userId")
        return user if isinstance(user, str) else None

    @property
    def deduplication_id(self) -> str | None:
        key = self.document.get("deduplicationId")
        return key if isinstance(key, str) else None

    @property
    def order_id(self) -> str | None:
        order_id = self.document.get("orderId")
        return order_id if isinstance(order_id, str) else None

    def __repr__(self) -> str:
        return f"ClientOrder({_short(self.document)!r}, breaks={self.breaks!r})"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """How hypothesis prints it in a failing example: long strings shortened."""
        printer.text(repr(self))


def _short(value: Any) -> Any:
    if isinstance(value, str) and len(value) > 40:
        return f"{value[:12]}...<{len(value)} characters>"
    if isinstance(value, dict):
        return {k: _short(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_short(v) for v in value]
    return value


@dataclass(frozen=True)
class FieldValues:
    """Values of one field: valid ones (ABSENT: left out) and ones the webhook must refuse."""

    valid: list[Any]
    broken: list[Any] = field(default_factory=list)

    def draw(self, draw: st.DrawFn, *, broken: bool) -> Any:
        return draw(st.sampled_from(self.broken if broken else self.valid))


@dataclass
class Pools:
    """The ids an example has used so far, for orders that reuse them."""

    order_ids: list[str] = field(default_factory=list)


LONGEST = WEBHOOK_LONGEST_TASK_SECONDS
# Top-level fields, and payload's by their path; the users mostly from the few ordinary ones.
FIELDS: dict[str, FieldValues] = {
    "userId": FieldValues(USERS * 6 + LONG_USERS, [None, "", 42]),
    "payload.timeout": FieldValues([ABSENT, 30, 30.0, LONGEST], [None, "30", 29.9, LONGEST + 1, 900.1, True]),
    "payload.retryPolicy.maxRetries": FieldValues([ABSENT, 0, 1, 3], [None, "1", 4, -1, 1.5]),
    "payload.retryPolicy.backoffMultiplier": FieldValues([ABSENT, 1, 5, 2.5], [None, "2", 0.5, 5.1]),
    "priority": FieldValues([ABSENT, *(p.value for p in Priority)], [None, "urgent", 1]),
    "retryCount": FieldValues([ABSENT, 0, 3], [None, "0", 4, -1]),
    "timestamp": FieldValues(
        [ABSENT, "2026-11-25T10:00:00Z", "2026-11-25T10:00:00.123456+05:30"], [None, "yesterday", 0]
    ),
    "correlationId": FieldValues([ABSENT, "c-1", "Zoë 🚀", "c" * 128, "c" * 129], [None, 7]),
    "deduplicationId": FieldValues([ABSENT, ABSENT, *DEDUPLICATION_IDS], [None, "d" * 129, 12]),
}


def _set(document: dict[str, Any], path: str, value: Any) -> None:
    *parents, name = path.split(".")
    for parent in parents:
        document = document.setdefault(parent, {})
    document[name] = value


@st.composite
def client_orders(draw: st.DrawFn, site_url: str, pools: Pools) -> ClientOrder:
    """An order as a client posts it: fields valid, broken (null, a number as a string, past
    a bound), near a size limit or unicode; orderId absent, new or one used before."""
    # Most orders break nothing; some break one field, a few two (their errors must all be named).
    to_break = draw(st.sampled_from([0, 0, 0, 0, 0, 1, 1, 2]))
    broken = set(draw(st.permutations(sorted(FIELDS)))[:to_break])
    task = draw(st.sampled_from(["url-monitoring", "url-monitoring", "url-monitoring", "text-processing"]))
    document: dict[str, Any] = {"taskType": task, "payload": {}}
    page = None
    if task == "url-monitoring":
        page = f"/{draw(st.sampled_from(PAGE_KINDS))}/{uuid.uuid4()}"
        document["payload"]["url"] = site_url + page
    else:
        texts = st.sampled_from(UNICODE_TEXTS) | st.sampled_from(LONG_TEXT_CHARS).map(lambda n: "w " * (n // 2))
        document["payload"]["parameters"] = {"text": draw(texts)}
    document["payload"]["configuration"] = {"followUpAction": draw(st.sampled_from(FOLLOW_UPS))}
    for path, values in FIELDS.items():
        value = values.draw(draw, broken=path in broken)
        if value is not ABSENT:
            _set(document, path, value)
    order_id = draw(st.sampled_from(["absent", "absent", "new", "reused"]))
    if order_id == "new" or (order_id == "reused" and not pools.order_ids):
        document["orderId"] = str(uuid.uuid4())
    elif order_id == "reused":
        document["orderId"] = draw(st.sampled_from(pools.order_ids))
    return ClientOrder(document, tuple(sorted(broken)), page)


def order_bodies(site_url: str, pools: Pools) -> st.SearchStrategy[list[ClientOrder]]:
    """The orders of one request: one, or a batch of up to 4."""
    return st.lists(client_orders(site_url, pools), min_size=1, max_size=4)


# Bodies another repository writes to the order queue by hand: not JSON, JSON that is no
# order, an order missing a field or with one of the wrong type, each with a well-formed
# orderId the consumers may read from it.
@st.composite
def hand_written_bodies(draw: st.DrawFn) -> str:
    order_id = str(uuid.uuid4())
    kind = draw(st.sampled_from(["not json", "no order", "missing taskType", "payload not an object", "extra field"]))
    base = {
        "orderId": order_id,
        "taskType": "text-processing",
        "payload": {"parameters": {"text": "hand-written"}},
        "userId": draw(st.sampled_from(USERS)),
        "timestamp": "2026-11-25T10:00:00Z",
    }
    if kind == "not json":
        return f"orderId={order_id}; not JSON"
    if kind == "no order":
        return f'{{"orderId": "{order_id}", "hello": [1, 2, 3]}}'
    if kind == "missing taskType":
        del base["taskType"]
    elif kind == "payload not an object":
        base["payload"] = "text"
    else:
        base["unexpected"] = True
    return json.dumps(base)
