"""`WhatsAppTenant.spec.businessHours`: when the tenant's people are there to take conversations."""

from __future__ import annotations

from datetime import date
from itertools import pairwise
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ConfigDict, Field, field_validator, model_validator

from wta_runtime.specs.common import SpecModel, cel, explained_pattern, list_map, validations

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

DEFAULT_AFTER_HOURS_MESSAGES: dict[str, str] = {
    "en": (
        "Our team is away right now. Your conversation is in the queue, and a person will "
        "reply here when we are back on {day} at {time}."
    ),
    "pt-BR": (
        "Nossa equipe não está disponível agora. Sua conversa está na fila, e uma pessoa vai "
        "responder aqui quando voltarmos: {day}, às {time}."
    ),
    "es": (
        "Nuestro equipo no está disponible ahora. Tu conversación está en la cola, y una "
        "persona te responderá aquí cuando volvamos: {day}, a las {time}."
    ),
}

RANGE_ORDER = (
    "a weekly range must open before it closes (from < to, 24-hour clock); "
    "split a range that passes midnight into two days"
)
HOLIDAY_ORDER = "a holiday's until (its last day) must be on or after its date"
HOLIDAYS_OVERLAP = (
    "holidays overlap: each day may belong to one holiday only; merge the overlapping "
    "ranges into one or shorten one of them"
)
TIME_ZONE_HINT = "must be an IANA time zone name such as Europe/Madrid, America/Sao_Paulo or UTC"
DATE_HINT = "must be a date written YYYY-MM-DD, e.g. 2026-12-25"
_TIME = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
_DATE = r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
_LAST_DAY = "(has({v}.until) ? {v}.until : {v}.date)"
# Two holidays are the same entry (dates are the list's keys) or one ends before the other.
_NO_OVERLAP = (
    "!has(self.holidays) || self.holidays.all(a, self.holidays.all(b, a.date == b.date || "
    f"{_LAST_DAY.format(v='a')} < b.date || {_LAST_DAY.format(v='b')} < a.date))"
)

Message = Annotated[str, Field(min_length=1, max_length=1600)]


class WeeklyRange(SpecModel):
    """People are there on this day of the week from one time to another."""

    model_config = ConfigDict(
        json_schema_extra=validations(cel("self.from < self.to", RANGE_ORDER))
    )

    day: Weekday = Field(description="Day of the week: mon, tue, wed, thu, fri, sat or sun.")
    opens: str = Field(
        alias="from",
        max_length=5,
        pattern=_TIME,
        description="Opening time, HH:MM on the 24-hour clock, in the time zone.",
        json_schema_extra=explained_pattern("from must be a time HH:MM between 00:00 and 23:59"),
    )
    closes: str = Field(
        alias="to",
        max_length=5,
        pattern=_TIME + "|^24:00$",
        description="Closing time, HH:MM on the 24-hour clock (24:00 is midnight at the end).",
        json_schema_extra=explained_pattern("to must be a time HH:MM between 00:01 and 24:00"),
    )

    @model_validator(mode="after")
    def _ordered(self) -> WeeklyRange:
        if self.opens >= self.closes:
            raise ValueError(RANGE_ORDER)
        return self


class Holiday(SpecModel):
    """A day, or days, when nobody is there whatever the weekly ranges say."""

    model_config = ConfigDict(
        json_schema_extra=validations(
            cel("!has(self.until) || self.date <= self.until", HOLIDAY_ORDER, field_path=".until")
        )
    )

    date: str = Field(
        max_length=10,
        pattern=_DATE,
        description="The holiday (its first day when until is set), YYYY-MM-DD.",
        json_schema_extra=explained_pattern(f"date {DATE_HINT}"),
    )
    until: str | None = Field(
        default=None,
        max_length=10,
        pattern=_DATE,
        description="Last day of a holiday of several days, YYYY-MM-DD; unset: one day.",
        json_schema_extra=explained_pattern(f"until {DATE_HINT}"),
    )
    name: str | None = Field(
        default=None, min_length=1, max_length=100, description="What the holiday is called."
    )

    @field_validator("date", "until")
    @classmethod
    def _real_day(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                date.fromisoformat(value)
            except ValueError:
                raise ValueError(f"{value} is not a day of the calendar") from None
        return value

    @property
    def last_day(self) -> str:
        return self.until or self.date

    @model_validator(mode="after")
    def _ordered(self) -> Holiday:
        if self.last_day < self.date:
            raise ValueError(HOLIDAY_ORDER)
        return self


class BusinessHours(SpecModel):
    """When the tenant's people answer: weekly ranges in a time zone, minus holidays."""

    model_config = ConfigDict(
        json_schema_extra=validations(cel(_NO_OVERLAP, HOLIDAYS_OVERLAP, field_path=".holidays"))
    )

    time_zone: str = Field(
        max_length=64,
        pattern=r"^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$",
        description=(
            "IANA time zone of the ranges and holidays, e.g. America/Sao_Paulo. The API server "
            "checks its form; the operator checks that the zone exists (condition Ready, "
            "reason InvalidSpec)."
        ),
        json_schema_extra=explained_pattern(f"timeZone {TIME_ZONE_HINT}"),
    )
    weekly: list[WeeklyRange] = Field(
        min_length=1,
        max_length=100,
        description="Opening ranges by day of the week; a day may have several.",
    )
    holidays: list[Holiday] = Field(
        default_factory=list,
        max_length=100,
        description="Dates (or date ranges) when nobody is there; they may not overlap.",
        json_schema_extra=list_map("date"),
    )
    after_hours_messages: dict[str, Message] = Field(
        default_factory=lambda: dict(DEFAULT_AFTER_HOURS_MESSAGES),
        min_length=1,
        description=(
            "Per language (en, pt-BR, es...), what a contact handed to a person outside business "
            "hours is told; {day} and {time} become the next opening, written for the language."
        ),
    )

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"timeZone {value!r} is not a known IANA time zone: use a name of the tz "
                "database such as Europe/Lisbon or America/Sao_Paulo"
            ) from None
        return value

    @model_validator(mode="after")
    def _holidays_apart(self) -> BusinessHours:
        ordered = sorted(self.holidays, key=lambda h: h.date)
        for before, after in pairwise(ordered):
            if after.date <= before.last_day:
                raise ValueError(f"{HOLIDAYS_OVERLAP} ({before.date} and {after.date})")
        return self
