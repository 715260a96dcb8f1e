"""When an agent's handoff policy sends the conversation to a person, decided without the model."""

from __future__ import annotations

from datetime import datetime

from pydantic import ValidationError

from wta_runtime.conversation.business_hours import is_open
from wta_runtime.conversation.intents import mentions_any
from wta_runtime.specs.agent import AIAgentSpec, HandoffPolicy
from wta_runtime.specs.agent import BusinessHours as AgentHours
from wta_runtime.specs.tenant import WhatsAppTenantSpec
from wta_runtime.specs.tenant_hours import BusinessHours, WeeklyRange

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


def _weekly(hours: AgentHours) -> BusinessHours:
    ranges = [
        WeeklyRange(day=day, opens=w.start, closes=w.end) for w in hours.windows for day in w.days
    ]
    try:
        return BusinessHours(time_zone=hours.time_zone, weekly=ranges)
    except ValidationError:  # the old field took any zone name and read an unknown one as UTC
        return BusinessHours(time_zone="UTC", weekly=ranges)


def business_hours_of(tenant: WhatsAppTenantSpec, agent: AIAgentSpec) -> BusinessHours | None:
    """The tenant's business hours; else the agent's deprecated `handoff.businessHours`."""
    if tenant.business_hours is not None:
        return tenant.business_hours
    if agent.handoff.business_hours is not None:
        return _weekly(agent.handoff.business_hours)
    return None


def describe_hours(hours: BusinessHours | None) -> str:
    """Business hours as one line for the system prompt: days sharing a range go together."""
    if hours is None:
        return "not specified"
    grouped: dict[tuple[str, str], list[str]] = {}
    for weekly in sorted(hours.weekly, key=lambda r: _DAYS.index(r.day)):
        grouped.setdefault((weekly.opens, weekly.closes), []).append(weekly.day)
    ranges = "; ".join(f"{', '.join(days)} {o}-{c}" for (o, c), days in grouped.items())
    closed = "".join(
        f"; closed {h.date}"
        + (f" to {h.until}" if h.until else "")
        + (f" ({h.name})" if h.name else "")
        for h in hours.holidays
    )
    return f"{ranges}{closed} ({hours.time_zone})"


def handoff_reason(
    policy: HandoffPolicy, text: str, now: datetime, hours: BusinessHours | None = None
) -> str | None:
    """Why the policy hands this message to a person at once, or None to let the agent answer."""
    if policy.keywords and mentions_any(text, policy.keywords):
        return "handoff keyword"
    if policy.on_user_request and mentions_any(text, ASKS_FOR_HUMAN):
        return "the user asked for a person"
    # Deprecated: hands off every message outside the hours, when nobody is there to answer.
    if policy.outside_business_hours and hours is not None and not is_open(hours, now):
        return "outside business hours"
    return None


def too_many_failures(policy: HandoffPolicy, failed_in_a_row: int) -> bool:
    """Whether `failed_in_a_row` turns without a useful answer (this one included) is the limit."""
    limit = policy.after_failed_turns
    return limit is not None and failed_in_a_row >= limit
