"""A handoff outside business hours: marked after-hours, and the contact told when people are back.

The contact gets the tenant's after-hours message in their language wherever the runtime writes
the words (the policy's handoff, a handoff after failed turns, a model that wrote nothing); a
model that handed off with the tool was told the same in the tool's result and writes its own.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from wta_runtime.agents.builtin_tools import ACTION_TEXT
from wta_runtime.agents.turn import ActionKind, AgentAction, ToolCallRecord
from wta_runtime.conversation.after_hours_notice import contact_notice, model_note
from wta_runtime.conversation.business_hours import AfterHours, after_hours
from wta_runtime.specs.tenant_hours import BusinessHours

HANDOFF: ActionKind = "handoff_to_human"


@dataclass(frozen=True)
class AwayTeam:
    """Nobody is there this turn: when they are back, and what the contact and model are told."""

    away: AfterHours
    notice: str

    @property
    def tool_note(self) -> str:
        return model_note(self.away, self.notice)


def away_team(hours: BusinessHours | None, language: str | None, now: datetime) -> AwayTeam | None:
    """None while people are there (or no hours are set)."""
    away = after_hours(hours, now)
    if away is None or hours is None:
        return None
    return AwayTeam(away, contact_notice(hours.after_hours_messages, language, away))


def told_after_hours(
    text: str,
    actions: Sequence[AgentAction],
    tool_calls: Sequence[ToolCallRecord],
    team: AwayTeam | None,
) -> tuple[str, list[AgentAction]]:
    """The reply's text and actions once a handoff outside business hours is marked as such."""
    if team is None or not any(a.kind == HANDOFF for a in actions):
        return text, list(actions)
    marked = [
        dataclasses.replace(a, after_hours=team.away) if a.kind == HANDOFF else a for a in actions
    ]
    generic = ACTION_TEXT[HANDOFF]
    if text.endswith(generic):
        return text.removesuffix(generic) + team.notice, marked
    if any(call.name == HANDOFF for call in tool_calls):
        return text, marked
    return f"{text}\n\n{team.notice}" if text else team.notice, marked
