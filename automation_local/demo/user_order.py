"""Whether each user's orders ended in the order the queue took them: what FIFO mode keeps
(README, "FIFO mode") and standard mode does not (a retry there joins the queue's end).

An order's place is its rank among the orders the order queue accepted (the demo load sends
each user's orders from one client, one answer after another): orders of equal rank went
in in an order nobody knows (a request that got no clear answer may have sent any of
them). Its end is when its record became final (`updatedAt`). An order that ended before
an order of its user ranked strictly before it ended is out of order. Orders without a
rank (accepted by a run before a restart) or without a recorded end are left out.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

from automation_local.demo.plan import PlannedOrder
from automation_local.demo.tracker import TrackedOrder

Rank = tuple[int, ...]  # compared as tuples: lower went into the queue first


def ended_out_of_user_order(
    orders: list[PlannedOrder], ranks: Mapping[str, Rank], finals: Mapping[str, TrackedOrder]
) -> int:
    """How many orders ended before an order of the same user that the queue took earlier."""
    ends_by_user: dict[str, dict[Rank, list[str]]] = defaultdict(lambda: defaultdict(list))
    for order in orders:
        final = finals.get(order.order_id)
        if order.order_id in ranks and final is not None and final.updated_at:
            ends_by_user[order.user_id][ranks[order.order_id]].append(final.updated_at)
    out_of_order = 0
    for ends_by_rank in ends_by_user.values():
        latest_before = ""  # the latest end among the orders of strictly lower rank
        for rank in sorted(ends_by_rank):
            out_of_order += sum(ended < latest_before for ended in ends_by_rank[rank])
            latest_before = max(latest_before, *ends_by_rank[rank])
    return out_of_order
