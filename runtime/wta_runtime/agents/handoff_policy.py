"""When an agent's handoff policy sends the conversation to a person, decided without the model."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from wta_runtime.conversation.intents import mentions_any
from wta_runtime.specs.agent import BusinessHours, HandoffPolicy

# Phrases of a user asking for a person, matched as whole words (case and accents aside).
ASKS_FOR_HUMAN = (
    "human",
    "a person",
    "real person",
    "talk to someone",
    "speak to someone",
    "representative",
    "operator",
    "humano",
    "humana",
    "atendente",
    "uma pessoa",
    "falar com alguem",
    "una persona",
    "hablar con alguien",
    "operador",
)
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def within_business_hours(hours: BusinessHours, now: datetime) -> bool:
    """Whether `now` (timezone-aware) falls in one of the windows, in the hours' time zone."""
    try:
        local = now.astimezone(ZoneInfo(hours.time_zone))
    except ZoneInfoNotFoundError:
        local = now
    day, clock = _DAYS[local.weekday()], local.strftime("%H:%M")
    return any(day in w.days and w.start <= clock < w.end for w in hours.windows)


def describe_hours(hours: BusinessHours | None) -> str:
    """Business hours as one line for the system prompt."""
    if hours is None:
        return "not specified"
    windows = "; ".join(f"{', '.join(w.days)} {w.start}-{w.end}" for w in hours.windows)
    return f"{windows} ({hours.time_zone})"


def handoff_reason(policy: HandoffPolicy, text: str, now: datetime) -> str | None:
    """Why the policy hands this message to a person at once, or None to let the agent answer."""
    if policy.keywords and mentions_any(text, policy.keywords):
        return "handoff keyword"
    if policy.on_user_request and mentions_any(text, ASKS_FOR_HUMAN):
        return "the user asked for a person"
    if (
        policy.outside_business_hours
        and policy.business_hours is not None
        and not within_business_hours(policy.business_hours, now)
    ):
        return "outside business hours"
    return None


def too_many_failures(policy: HandoffPolicy, failed_in_a_row: int) -> bool:
    """Whether `failed_in_a_row` turns without a useful answer (this one included) is the limit."""
    limit = policy.after_failed_turns
    return limit is not None and failed_in_a_row >= limit
