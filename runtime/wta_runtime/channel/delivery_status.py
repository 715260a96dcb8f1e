"""Twilio message statuses in the order a message moves through them; callbacks may come late."""

from __future__ import annotations

# Ours before Twilio has it: `pending` (stored, not tried) and `attempted` (handed to Twilio at
# `send_attempted_at`, its answer not recorded: a crash or timeout). Not Twilio's own `sending`,
# which a status callback can report for a message whose SID we hold.
PENDING = "pending"
ATTEMPTED = "attempted"
UNSENT = frozenset({PENDING, ATTEMPTED})

# Higher is further. failed/undelivered/canceled are terminal: nothing moves a message on.
RANK: dict[str, int] = {
    PENDING: 0,
    ATTEMPTED: 0,
    "accepted": 1,
    "scheduled": 1,
    "queued": 2,
    "sending": 3,
    "sent": 4,
    "delivered": 5,
    "read": 6,
    "failed": 7,
    "undelivered": 7,
    "canceled": 7,
}
TERMINAL = frozenset({"failed", "undelivered", "canceled"})


def is_further(current: str | None, incoming: str) -> bool:
    """Whether a callback saying `incoming` moves a message now at `current` forward."""
    if incoming not in RANK:
        return False
    if current is None:
        return True
    if current in TERMINAL:
        return False
    return RANK[incoming] > RANK.get(current, 0)
