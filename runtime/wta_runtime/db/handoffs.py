"""The conversation's columns when it goes to a person: when, why, and whether after hours."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from wta_runtime.conversation.business_hours import AfterHours

# A conversation back with the bot is no longer waiting for people.
NOT_WAITING: dict[str, Any] = {"after_hours": False, "back_at": None}


def handoff_values(reason: str, away: AfterHours | None, now: datetime) -> dict[str, Any]:
    """Columns of a handoff; `away` when the tenant's people are not there now."""
    return {
        "handoff_at": now,
        "handoff_reason": reason[:256],
        "after_hours": away is not None,
        "back_at": away.back_at if away is not None else None,
    }
