"""WhatsApp's 24-hour customer-service window: free-form text, an approved template, or nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

SERVICE_WINDOW = timedelta(hours=24)
OUTSIDE_WINDOW = "outside_24h_window"


@dataclass(frozen=True)
class FreeForm:
    """Inside the window: the text may be sent as written."""


@dataclass(frozen=True)
class UseTemplate:
    """Outside the window: only this approved template may be sent."""

    content_sid: str
    variables: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Refuse:
    """Outside the window and no template: nothing may be sent."""

    reason: str = OUTSIDE_WINDOW


SendDecision = FreeForm | UseTemplate | Refuse


def window_open(last_inbound_at: datetime | None, now: datetime) -> bool:
    """Whether the contact wrote within the last 24 hours."""
    return last_inbound_at is not None and now - last_inbound_at < SERVICE_WINDOW


def decide_send(
    last_inbound_at: datetime | None,
    now: datetime,
    *,
    template_sid: str | None,
    template_variables: dict[str, str] | None = None,
) -> SendDecision:
    """How a message to this contact may leave now."""
    if window_open(last_inbound_at, now):
        return FreeForm()
    if template_sid:
        return UseTemplate(template_sid, dict(template_variables or {}))
    return Refuse()
