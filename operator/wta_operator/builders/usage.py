"""`status.usage` of a WhatsAppTenant from its spend counters (pure), and the Event it warrants."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from wta_operator.adapters.database import SpendRow
from wta_runtime.agents.spend_limits import (
    STATE_NUMBER,
    AgentSpend,
    LimitState,
    Periods,
    SpendTotals,
    period_state,
    tenant_state,
    time_zone,
)
from wta_runtime.specs.status import AgentLimitState, PeriodUsage, TenantUsage
from wta_runtime.specs.tenant import WhatsAppTenantSpec

EVENT_REASONS: dict[str, str] = {"soft": "SpendingSoftLimit", "hard": "SpendingHardLimit"}


def _period(start: str, spend: Any) -> PeriodUsage:
    return PeriodUsage(
        start=start, cost=round(float(spend.cost), 6), tokens=spend.tokens, messages=spend.messages
    )


def usage_status(
    spec: WhatsAppTenantSpec, rows: Iterable[SpendRow], now: datetime
) -> dict[str, Any]:
    """The usage today and this month, the limits, and the worst limit state."""
    spending = spec.spending
    periods = Periods.at(now, time_zone(spec))
    totals = SpendTotals.from_rows(
        (agent, day == periods.today, tokens, cost, messages)
        for agent, day, tokens, cost, messages in rows
    )
    tenant: AgentSpend = totals.tenant
    agents = [
        AgentLimitState(agent=own.agent, state=period_state(own, totals.agent(own.agent)))
        for own in spending.agents
    ]
    states: list[LimitState] = [tenant_state(spending, totals), *(a.state for a in agents)]
    usage = TenantUsage(
        currency=spending.currency,
        state=max(states, key=STATE_NUMBER.__getitem__),
        today=_period(periods.today.isoformat(), tenant.today),
        month=_period(periods.month_start.isoformat(), tenant.month),
        limits=spending.limits,
        agents=agents,
    )
    dumped: dict[str, Any] = usage.model_dump(by_alias=True, mode="json", exclude_none=True)
    return dumped


def usage_event(previous: dict[str, Any] | None, usage: dict[str, Any]) -> tuple[str, str] | None:
    """(reason, message) of the Event for a limit state newly reached; None when none is."""
    state = usage["state"]
    if state == "ok" or (previous or {}).get("state") == state:
        return None
    today, month, currency = usage["today"], usage["month"], usage["currency"]
    what = "soft limit passed" if state == "soft" else "hard limit reached: no more model calls"
    return EVENT_REASONS[state], (
        f"spending {what}; today {today['cost']} {currency}, {today['tokens']} tokens, "
        f"{today['messages']} messages; this month {month['cost']} {currency}, "
        f"{month['tokens']} tokens"
    )
