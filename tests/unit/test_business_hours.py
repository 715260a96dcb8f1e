"""When the tenant's people are there and when they are next: weekly ranges, holidays, DST."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from wta_runtime.conversation.business_hours import after_hours, is_open, next_opening
from wta_runtime.specs.tenant_hours import BusinessHours

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
SAO_PAULO = ZoneInfo("America/Sao_Paulo")
MADRID = ZoneInfo("Europe/Madrid")
NEW_YORK = ZoneInfo("America/New_York")


def hours(
    zone: str, *ranges: tuple[str, str, str], holidays: Sequence[dict[str, str]] = ()
) -> BusinessHours:
    return BusinessHours.model_validate(
        {
            "timeZone": zone,
            "weekly": [{"day": d, "from": f, "to": t} for d, f, t in ranges],
            "holidays": list(holidays),
        }
    )


def office(zone: str, **extra: list[dict[str, str]]) -> BusinessHours:
    """Monday to Friday 09:00-18:00, Saturday 09:00-13:00."""
    ranges = [(d, "09:00", "18:00") for d in WEEKDAYS] + [("sat", "09:00", "13:00")]
    return hours(zone, *ranges, **extra)


CHRISTMAS = [{"date": "2026-12-24", "until": "2026-12-26", "name": "Natal"}]


def test_open_inside_a_range_and_closed_outside_in_the_hours_own_zone() -> None:
    shop = office("America/Sao_Paulo")

    assert is_open(shop, datetime(2026, 12, 1, 10, 0, tzinfo=SAO_PAULO))
    # 20:30 UTC is 17:30 in Sao Paulo: still open, though UTC is past 18:00.
    assert is_open(shop, datetime(2026, 12, 1, 20, 30, tzinfo=UTC))
    assert not is_open(shop, datetime(2026, 12, 1, 18, 0, tzinfo=SAO_PAULO))
    assert not is_open(shop, datetime(2026, 12, 6, 10, 0, tzinfo=SAO_PAULO))  # a Sunday


def test_at_23_on_a_holiday_people_are_back_on_the_first_working_day_after_it() -> None:
    shop = office("America/Sao_Paulo", holidays=CHRISTMAS)
    christmas_night = datetime(2026, 12, 25, 23, 0, tzinfo=SAO_PAULO)

    away = after_hours(shop, christmas_night)

    assert away is not None
    # Saturday the 26th is still the holiday, Sunday has no range: Monday the 28th at 09:00.
    assert away.back_at == datetime(2026, 12, 28, 9, 0, tzinfo=SAO_PAULO)
    assert not is_open(shop, datetime(2026, 12, 24, 10, 0, tzinfo=SAO_PAULO))  # first day
    assert is_open(shop, datetime(2026, 12, 23, 10, 0, tzinfo=SAO_PAULO))


def test_a_day_with_two_ranges_reopens_after_lunch() -> None:
    shop = hours("Europe/Madrid", ("mon", "09:00", "13:00"), ("mon", "15:00", "19:00"))
    lunch = datetime(2026, 11, 23, 13, 30, tzinfo=MADRID)

    assert not is_open(shop, lunch)
    assert next_opening(shop, lunch) == datetime(2026, 11, 23, 15, 0, tzinfo=MADRID)
    assert after_hours(shop, datetime(2026, 11, 23, 16, 0, tzinfo=MADRID)) is None


def test_across_the_autumn_change_opening_keeps_its_local_time() -> None:
    """Madrid goes from +02:00 to +01:00 on Sunday 2026-10-25: Monday still opens at 09:00."""
    shop = office("Europe/Madrid")
    saturday_night = datetime(2026, 10, 24, 20, 0, tzinfo=MADRID)

    back = next_opening(shop, saturday_night)

    assert back == datetime(2026, 10, 26, 9, 0, tzinfo=MADRID)
    assert back is not None
    assert back.astimezone(UTC) == datetime(2026, 10, 26, 8, 0, tzinfo=UTC)
    real = back.astimezone(UTC) - saturday_night.astimezone(UTC)
    assert real.total_seconds() == 38 * 3600  # 37 h on the clock, plus the hour given back


def test_an_opening_skipped_by_the_spring_change_opens_after_the_gap() -> None:
    """New York skips 02:00-03:00 on 2026-03-08: a 02:30 opening that day is 03:30 EDT."""
    night_shift = hours("America/New_York", ("sun", "02:30", "06:00"))

    back = next_opening(night_shift, datetime(2026, 3, 8, 1, 0, tzinfo=NEW_YORK))

    assert back is not None
    assert back.astimezone(UTC) == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)
    assert (back.hour, back.minute) == (3, 30)
    assert is_open(night_shift, datetime(2026, 3, 8, 3, 45, tzinfo=NEW_YORK))


def test_24_00_closes_at_midnight() -> None:
    late = hours("UTC", ("fri", "20:00", "24:00"))

    assert is_open(late, datetime(2026, 12, 4, 23, 59, tzinfo=UTC))
    assert not is_open(late, datetime(2026, 12, 5, 0, 0, tzinfo=UTC))


def test_no_opening_within_the_horizon_says_so() -> None:
    closed = office("UTC", holidays=[{"date": "2026-01-01", "until": "2029-12-31"}])

    away = after_hours(closed, datetime(2026, 6, 1, 10, 0, tzinfo=UTC))

    assert away is not None
    assert away.back_at is None


def test_no_hours_means_people_are_always_there() -> None:
    assert after_hours(None, datetime(2026, 12, 25, 23, 0, tzinfo=UTC)) is None


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (
            {"weekly": [{"day": "mon", "from": "18:00", "to": "09:00"}]},
            "must open before it closes",
        ),
        (
            {"weekly": [{"day": "mon", "from": "09:00", "to": "09:00"}]},
            "must open before it closes",
        ),
        ({"weekly": [{"day": "mon", "from": "25:00", "to": "26:00"}]}, "String should match"),
        ({"weekly": [{"day": "monday", "from": "09:00", "to": "18:00"}]}, "'mon', 'tue'"),
        ({"timeZone": "Europe/Lisboa"}, "'Europe/Lisboa' is not a known IANA time zone"),
        ({"holidays": [{"date": "2026-02-30"}]}, "2026-02-30 is not a day of the calendar"),
        (
            {"holidays": [{"date": "2026-12-26", "until": "2026-12-24"}]},
            "until (its last day) must be on or after its date",
        ),
        (
            {"holidays": [{"date": "2026-12-24", "until": "2026-12-26"}, {"date": "2026-12-25"}]},
            "holidays overlap",
        ),
    ],
)
def test_impossible_hours_are_refused_with_what_to_fix(
    change: dict[str, object], words: str
) -> None:
    spec: dict[str, object] = {
        "timeZone": "UTC",
        "weekly": [{"day": "mon", "from": "09:00", "to": "18:00"}],
    }

    with pytest.raises(ValidationError, match=words.replace("(", r"\(").replace(")", r"\)")):
        BusinessHours.model_validate(spec | change)


def test_business_hours_need_no_time_zone_database_on_the_system() -> None:
    """Windows and minimal images have no /usr/share/zoneinfo: the tzdata package stands in."""
    check = textwrap.dedent(
        """
        from datetime import UTC, datetime
        from wta_runtime.conversation.business_hours import after_hours
        from wta_runtime.specs.tenant_hours import BusinessHours

        monday = {"day": "mon", "from": "09:00", "to": "18:00"}
        hours = BusinessHours.model_validate({"timeZone": "America/Sao_Paulo", "weekly": [monday]})
        print(after_hours(hours, datetime(2026, 11, 30, 23, 0, tzinfo=UTC)).back_at.isoformat())
        """
    )
    # An empty PYTHONTZPATH: zoneinfo looks in no system folder, as where there is none.
    env = {**os.environ, "PYTHONTZPATH": ""}
    result = subprocess.run(
        [sys.executable, "-c", check], env=env, capture_output=True, text=True, check=False
    )

    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "2026-12-07T09:00:00-03:00"
