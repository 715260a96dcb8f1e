"""Scale to zero: when an idle tenant's workers sleep and what wakes them (pure decisions)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from wta_operator.conditions import Condition, false, timestamp, true
from wta_runtime.specs.common import format_duration

SLEEPING = "Sleeping"


@dataclass(frozen=True)
class StreamActivity:
    """What the tenant's durable consumers say about its stream."""

    # Inbound messages not yet handed to a worker, or handed out and not yet acknowledged.
    waiting: int
    # Status callbacks in the same state.
    callbacks: int
    # The last delivery or acknowledgement on either consumer (their creation before any).
    last_active: datetime
    # Messages handed out so far by both consumers (their delivered stream sequences).
    handed_out: int = 0

    @property
    def busy(self) -> bool:
        return self.waiting > 0 or self.callbacks > 0


def awake(message: str, reason: str = "Awake") -> Condition:
    return false(SLEEPING, reason, message)


def asleep(message: str) -> Condition:
    return true(SLEEPING, "Idle", message)


def watching(idle_after: timedelta) -> Condition:
    """The condition of a tenant that runs and will sleep when idle."""
    return awake(f"workers run; they sleep after {format_duration(idle_after)} without a message")


def sleep_reason(
    activity: StreamActivity,
    next_timer: datetime | None,
    *,
    idle_after: timedelta,
    timer_margin: timedelta,
    now: datetime,
) -> str | None:
    """Why the tenant may sleep now, or None while it has work or will have some soon."""
    if activity.busy or now - activity.last_active < idle_after:
        return None
    if next_timer is not None and next_timer - now <= timer_margin:
        return None
    quiet = format_duration(idle_after)
    until = "until the next message"
    if next_timer is not None:
        until += f" or the timer due at {timestamp(next_timer)}"
    return f"no message for {quiet}: 0 workers {until}"


def wake_reason(
    activity: StreamActivity,
    next_timer: datetime | None,
    *,
    timer_margin: timedelta,
    now: datetime,
) -> str | None:
    """Why a sleeping tenant must wake now, or None while nothing calls for its workers."""
    if activity.waiting > 0:
        return f"{activity.waiting} message{'s' if activity.waiting != 1 else ''} waiting"
    if next_timer is not None and next_timer - now <= timer_margin:
        return f"a conversation timer is due at {timestamp(next_timer)}"
    return None
