"""Spending against the tenant's limits: what a turn cost, and whether a limit is reached.

Pure: the totals come from `db.spend` (read with the turn's state), the limits from
`WhatsAppTenant.spec.spending`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal
from typing import Literal
from zoneinfo import ZoneInfo

from wta_runtime.agents.builtin_tools import ACTION_TEXT
from wta_runtime.agents.turn import AgentAction, Usage
from wta_runtime.specs.tenant import WhatsAppTenantSpec
from wta_runtime.specs.tenant_spending import (
    HardLimitBehaviour,
    PeriodLimits,
    Spending,
    SpendLimit,
)

LimitState = Literal["ok", "soft", "hard"]
STATE_NUMBER: dict[LimitState, int] = {"ok": 0, "soft": 1, "hard": 2}
MILLION = Decimal(1_000_000)


def time_zone(spec: WhatsAppTenantSpec) -> tzinfo:
    """The zone whose days and months the limits count: the business hours' zone, else UTC."""
    if spec.business_hours is None:
        return UTC
    return ZoneInfo(spec.business_hours.time_zone)


@dataclass(frozen=True)
class Periods:
    """The day and the month a moment falls in, in the tenant's time zone."""

    today: date
    month_start: date

    @classmethod
    def at(cls, moment: datetime, zone: tzinfo) -> Periods:
        today = moment.astimezone(zone).date()
        return cls(today, today.replace(day=1))


@dataclass(frozen=True)
class Spent:
    """Tokens (input + output), money and messages of one day or one month."""

    tokens: int = 0
    cost: Decimal = Decimal(0)
    messages: int = 0

    def __add__(self, other: Spent) -> Spent:
        return Spent(
            self.tokens + other.tokens, self.cost + other.cost, self.messages + other.messages
        )

    def amount(self, unit: Literal["money", "tokens"]) -> Decimal:
        return self.cost if unit == "money" else Decimal(self.tokens)


@dataclass(frozen=True)
class AgentSpend:
    """What one agent ('' for the tenant's messages) spent today and this month."""

    today: Spent = field(default_factory=Spent)
    month: Spent = field(default_factory=Spent)

    def __add__(self, other: AgentSpend) -> AgentSpend:
        return AgentSpend(self.today + other.today, self.month + other.month)


@dataclass(frozen=True)
class SpendTotals:
    """What the tenant spent, per agent, when the turn started."""

    by_agent: dict[str, AgentSpend] = field(default_factory=dict)

    @property
    def tenant(self) -> AgentSpend:
        return sum(self.by_agent.values(), AgentSpend())

    def agent(self, name: str) -> AgentSpend:
        return self.by_agent.get(name, AgentSpend())

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[str, bool, int, Decimal, int]]) -> SpendTotals:
        """Rows of (agent, is today, tokens, cost, messages) of the month's days."""
        by_agent: dict[str, AgentSpend] = {}
        for agent, today, tokens, cost, messages in rows:
            spent = Spent(int(tokens), Decimal(cost), int(messages))
            day = AgentSpend(spent, spent) if today else AgentSpend(Spent(), spent)
            by_agent[agent] = by_agent.get(agent, AgentSpend()) + day
        return cls(by_agent)


def turn_cost(spending: Spending, model: str | None, usage: Usage) -> Decimal:
    """What the turn's tokens cost at the listed price of `model` (0 when it is not listed)."""
    price = spending.price(model)
    if price is None:
        return Decimal(0)
    per_million = usage.prompt_tokens * Decimal(str(price.input_per_million)) + (
        usage.completion_tokens * Decimal(str(price.output_per_million))
    )
    return per_million / MILLION


def _state(limit: SpendLimit | None, spent: Spent) -> LimitState:
    if limit is None:
        return "ok"
    amount = spent.amount(limit.unit)
    if limit.hard is not None and amount >= Decimal(str(limit.hard)):
        return "hard"
    if limit.soft is not None and amount >= Decimal(str(limit.soft)):
        return "soft"
    return "ok"


def period_state(limits: PeriodLimits | None, spend: AgentSpend) -> LimitState:
    """The worse of the day's and the month's state."""
    if limits is None:
        return "ok"
    states = (_state(limits.daily, spend.today), _state(limits.monthly, spend.month))
    return max(states, key=STATE_NUMBER.__getitem__)


def tenant_state(spending: Spending, totals: SpendTotals) -> LimitState:
    """The state of the tenant's own limits, over all its agents."""
    return period_state(spending.limits, totals.tenant)


def agent_state(spending: Spending, totals: SpendTotals, agent: str) -> LimitState:
    """The worse of the tenant's state and the agent's own."""
    own = period_state(spending.agent_limits(agent), totals.agent(agent))
    return max((tenant_state(spending, totals), own), key=STATE_NUMBER.__getitem__)


def with_turn(totals: SpendTotals, agent: str, usage: Usage, cost: Decimal) -> SpendTotals:
    """The totals once this turn's spend is added."""
    spent = Spent(usage.prompt_tokens + usage.completion_tokens, cost)
    return SpendTotals({**totals.by_agent, agent: totals.agent(agent) + AgentSpend(spent, spent)})


def hard_limit_reply(behaviour: HardLimitBehaviour) -> tuple[str, list[AgentAction]]:
    """What a turn past a hard limit says and does, instead of calling the model."""
    if behaviour.action == "message" and behaviour.message is not None:
        return behaviour.message, []
    reason = "spending limit reached"
    return ACTION_TEXT["handoff_to_human"], [AgentAction("handoff_to_human", reason)]
