"""Whether the tenant's people are there at a moment, and when they are next: pure, with zoneinfo.

Ranges are wall-clock times in the hours' time zone, so a range keeps its local times across
daylight-saving changes. An opening time that does not exist on a day (skipped by a spring
change) opens at the same distance after the change, as PEP 495 reads it (02:30 -> 03:30).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from wta_runtime.specs.tenant_hours import BusinessHours, WeeklyRange

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# How far ahead to look for an opening: hours with a year of holidays still find one.
HORIZON_DAYS = 800


@dataclass(frozen=True)
class AfterHours:
    """Nobody is there now; `back_at` (in the hours' time zone) is the next opening, if any."""

    back_at: datetime | None
    time_zone: str


def _holiday(hours: BusinessHours, day: date) -> bool:
    text = day.isoformat()
    return any(h.date <= text <= h.last_day for h in hours.holidays)


def _ranges(hours: BusinessHours, day: date) -> list[WeeklyRange]:
    if _holiday(hours, day):
        return []
    name = _DAYS[day.weekday()]
    return sorted((r for r in hours.weekly if r.day == name), key=lambda r: r.opens)


def is_open(hours: BusinessHours, at: datetime) -> bool:
    """Whether `at` (timezone-aware) falls in a weekly range that is not on a holiday."""
    local = at.astimezone(ZoneInfo(hours.time_zone))
    clock = local.strftime("%H:%M")
    return any(r.opens <= clock < r.closes for r in _ranges(hours, local.date()))


def _opening(day: date, opens: str, zone: ZoneInfo) -> datetime:
    wall = datetime.combine(day, time.fromisoformat(opens), tzinfo=zone)
    return wall.astimezone(UTC).astimezone(zone)  # a time skipped by DST moves past the gap


def next_opening(hours: BusinessHours, at: datetime) -> datetime | None:
    """The first opening after `at`, in the hours' time zone; None within `HORIZON_DAYS`."""
    zone = ZoneInfo(hours.time_zone)
    today = at.astimezone(zone).date()
    for offset in range(HORIZON_DAYS):
        day = today + timedelta(days=offset)
        for weekly in _ranges(hours, day):
            opening = _opening(day, weekly.opens, zone)
            if opening > at:
                return opening
    return None


def after_hours(hours: BusinessHours | None, at: datetime) -> AfterHours | None:
    """None while people are there (or no hours are set); otherwise when they are back."""
    if hours is None or is_open(hours, at):
        return None
    return AfterHours(next_opening(hours, at), hours.time_zone)
