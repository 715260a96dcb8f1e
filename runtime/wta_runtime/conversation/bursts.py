"""Bursts: messages a contact sends in quick succession are answered together, once."""

from __future__ import annotations

from datetime import datetime, timedelta

# However long a contact keeps typing, the reply waits at most this many windows.
MAX_WINDOWS = 5


def quiet_at(oldest: datetime, newest: datetime, window: timedelta) -> datetime:
    """When the turn may run: one window after the newest message, capped after the oldest."""
    return min(newest + window, oldest + MAX_WINDOWS * window)


def seconds_until(moment: datetime, now: datetime) -> float:
    return max(0.0, (moment - now).total_seconds())
